"""Rule tuning for regulators: edit a draft (tables or TOML), see every problem inline,
see its impact on the current data, publish it as a new immutable version."""

from __future__ import annotations

import tomllib

import polars as pl
import streamlit as st

from creditindex.errors import InputError
from creditindex.rules import SUBJECT_TYPES, RuleSet, parse_rules
from creditindex.ui import charts, data, ruleedit, tables
from creditindex.ui.auth import Permission, PermissionDenied
from creditindex.ui.i18n import labeller, t
from creditindex.ui.widgets import (
    day_pickers,
    guard,
    label,
    problems_table,
    refuse,
    show_table,
)

DRAFT_KEY = "rules_draft"
VERSION_KEY = "rules_draft_version"
IMPACT = ["public_id", "subject_name", "index_before", "index_after", "change",
          "grade_before", "grade_after", "restricted_before", "restricted_after"]
SUMMARY = ["subject_type", "subjects", "mean_before", "mean_after", "moved", "grade_changed",
           "newly_restricted", "no_longer_restricted"]
VERSIONS = ["id", "name", "version", "content_hash", "effective_from", "in_force",
            "published_by", "published_at"]


def _draft() -> str:
    if DRAFT_KEY not in st.session_state:
        st.session_state[DRAFT_KEY] = data.rules_text()
    return str(st.session_state[DRAFT_KEY])


def _replace_draft(text: str) -> None:
    """Replace the draft from outside the text editor (the editors start afresh)."""
    st.session_state[DRAFT_KEY] = text
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1


def _toml_editor(draft: str) -> None:
    version = st.session_state.get(VERSION_KEY, 0)
    text = st.text_area(t("rules.toml"), value=draft, key=f"rules_text_{version}",
                        height=460)
    if text is not None and text != draft:
        st.session_state[DRAFT_KEY] = text


def _table_editor(draft: str) -> None:
    try:
        tabs = ruleedit.to_tables(draft)
    except tomllib.TOMLDecodeError:
        st.warning(t("rules.table_needs_toml"))
        return
    key = ruleedit.content_key(draft)
    with st.form(f"rules_tables_{key}", border=False):
        h = dict(tabs.header)
        c = st.columns(4)
        h["name"] = c[0].text_input(label("name"), value=str(h.get("name", "")))
        h["version"] = c[1].text_input(label("version"), value=str(h.get("version", "")))
        h["base"] = c[2].number_input(label("base"), value=float(h.get("base", 100)))
        h["floor"] = c[3].number_input(label("floor"), value=float(h.get("floor", 0)))
        st.markdown(f"##### {t('rules.grades')}")
        grades = st.data_editor(tabs.grades, num_rows="dynamic", key=f"rules_grades_{key}",
                                column_config={k: label(k) for k in ruleedit.GRADE_COLUMNS})
        st.markdown(f"##### {t('rules.behaviours')}")
        behaviours = st.data_editor(
            tabs.behaviours, num_rows="dynamic", key=f"rules_behaviours_{key}", height=420,
            column_config={
                **{k: label(k) for k in ruleedit.BEHAVIOUR_COLUMNS},
                "subject_types": st.column_config.MultiselectColumn(
                    label("subject_types"), options=list(SUBJECT_TYPES),
                    format_func=labeller("type")),
                "decay": st.column_config.SelectboxColumn(label("decay"),
                                                          options=["step", "linear"]),
            })
        susp = dict(tabs.suspension or {})
        if susp:
            st.markdown(f"##### {t('rules.suspension')}")
            numbers = [k for k in ruleedit.SUSPENSION_KEYS if k != "basis"]
            sc = st.columns(len(numbers))
            for i, k in enumerate(numbers):
                susp[k] = sc[i].number_input(label(k), value=float(susp.get(k, 0)))
            susp["basis"] = st.text_input(label("basis"), value=str(susp.get("basis", "")))
        if st.form_submit_button(t("rules.apply_tables")):
            new = ruleedit.to_toml(ruleedit.RuleTables(
                header=h, grades=pl.DataFrame(grades), behaviours=pl.DataFrame(behaviours),
                suspension=susp or None))
            _replace_draft(new)
            st.rerun()


def _validate(draft: str) -> RuleSet | None:
    try:
        parsed = parse_rules(draft, "draft")
    except InputError as exc:
        problems_table(exc.problems, message="rules.problems", columns=("column", "reason"))
        return None
    st.success(t("rules.valid", name=parsed.ruleset.name, version=parsed.ruleset.version,
                 behaviours=len(parsed.behaviour), hash=parsed.content_hash[:12]))
    return parsed


def _impact(draft: RuleSet) -> None:
    st.markdown(f"### {t('rules.impact')}")
    on, known_on = day_pickers("rules")
    if draft.content_hash == data.rules().content_hash:
        st.info(t("rules.same_as_in_force"))
        return
    with st.spinner(t("rules.computing_impact")):
        impact = data.impact(guard(Permission.RULES), draft, on, known_on)
    show_table(tables.impact_summary(impact), SUMMARY, key="rules_summary")
    bins = tables.index_bins(impact)
    order = [t("rules.before"), t("rules.after")]
    bins = bins.with_columns(
        pl.col("series").replace({"before": order[0], "after": order[1]}),
        pl.col("subject_type").replace({s: t(f"type.{s}") for s in SUBJECT_TYPES}))
    st.altair_chart(charts.distribution_chart(
        bins, x_title=label("index"), y_title=t("rankings.subjects"),
        series_title=t("rules.series"), order=order), width="content")
    present = [s for s in SUBJECT_TYPES
               if impact.filter(pl.col("subject_type") == s).height]
    if not present:
        return
    for tab, stype in zip(st.tabs([t(f"type.{s}") for s in present]), present, strict=True):
        with tab:
            mine = impact.filter(pl.col("subject_type") == stype).with_columns(
                tables.public_id_expr().alias("public_id"))
            changed = tables.changed_grade_or_restriction(mine)
            st.markdown(f"##### {t('rules.changed', n=changed.height)}")
            show_table(changed.head(500), IMPACT, key=f"rules_changed_{stype}")
            st.markdown(f"##### {t('rules.movers')}")
            show_table(tables.largest_movers(mine, 20), IMPACT, key=f"rules_movers_{stype}")


def _publish(draft_text: str, draft: RuleSet) -> None:
    st.markdown(f"### {t('rules.publish')}")
    with st.form("rules_publish"):
        c = st.columns([1, 3])
        effective = c[0].date_input(t("rules.effective_from"), value=data.today(),
                                    format="YYYY-MM-DD")
        note = c[1].text_input(t("rules.note"))
        go = st.form_submit_button(t("rules.publish_button"), type="primary")
    if go:
        try:
            version = data.publish_rules(guard(Permission.RULES), draft_text, effective,
                                         note or None)
        except PermissionDenied as exc:
            refuse(exc)
        except data.ActionError as exc:
            st.error(t("action.failed", why=str(exc)))
        else:
            st.success(t("rules.published", version=version))


def render() -> None:
    """The rule tuning page."""
    guard(Permission.RULES)
    st.title(t("rules.title"))
    st.caption(t("rules.caption"))
    draft_text = _draft()
    edit_tab, toml_tab, versions_tab = st.tabs(
        [t("rules.tab_tables"), t("rules.tab_toml"), t("rules.tab_versions")])
    with toml_tab:
        _toml_editor(draft_text)
        st.button(t("rules.reset"), key="rules_reset",
                  on_click=lambda: _replace_draft(data.rules_text()))
    draft_text = _draft()
    with edit_tab:
        _table_editor(draft_text)
    with versions_tab:
        show_table(data.rule_versions(), VERSIONS, key="rules_versions")
    st.markdown(f"### {t('rules.validation')}")
    draft = _validate(draft_text)
    if draft is None:
        return
    _impact(draft)
    _publish(draft_text, draft)


if __name__ == "__main__":
    render()
