"""Rule tuning for regulators: edit a draft (tables or TOML), see every problem inline,
see its impact on the current data, publish it as a new immutable version."""

from __future__ import annotations

import tomllib

import polars as pl
import streamlit as st

from creditindex.errors import InputError
from creditindex.rules import SUBJECT_TYPES, RuleSet, parse_rules
from creditindex.service.auth import Permission, PermissionDenied, User
from creditindex.ui import charts, data, ruleedit, tables
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
            "published_by", "published_at", "note"]


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


def _blank(table: pl.DataFrame) -> pl.DataFrame:
    """Empty text cells as empty and unticked boxes as unticked, not as "None" (the TOML
    leaves both out, or states the default, alike)."""
    return table.with_columns(pl.col(pl.String).fill_null(""),
                              pl.col(pl.Boolean).fill_null(False))


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
        grades = st.data_editor(_blank(tabs.grades), num_rows="dynamic",
                                key=f"rules_grades_{key}",
                                column_config={k: label(k) for k in ruleedit.GRADE_COLUMNS})
        st.markdown(f"##### {t('rules.behaviours')}")
        behaviours = st.data_editor(
            _blank(tabs.behaviours), num_rows="dynamic", key=f"rules_behaviours_{key}",
            height=420,
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
    """Propose the draft for publication; a second regulator approves it (the same
    content, or a version name already used, is refused)."""
    st.markdown(f"### {t('rules.publish')}")
    st.caption(t("rules.two_person"))
    used = set(data.rule_versions().get_column("version").to_list())
    with st.form(f"rules_publish_{draft.content_hash[:12]}", clear_on_submit=True):
        c = st.columns([1, 1, 2])
        version = c[0].text_input(t("rules.new_version"), value=draft.ruleset.version,
                                  help=t("rules.new_version_help"))
        effective = c[1].date_input(t("rules.effective_from"), value=data.today(),
                                    format="YYYY-MM-DD")
        note = c[2].text_input(t("rules.note"))
        go = st.form_submit_button(t("rules.propose_button"), type="primary")
    if draft.ruleset.version in used:
        st.warning(t("rules.version_used", version=draft.ruleset.version))
    if go:
        text = ruleedit.with_version(draft_text, (version or "").strip()
                                     or draft.ruleset.version)
        try:
            request = data.propose(guard(Permission.RULES), "rules.publish",
                                   {"text": text, "effective_from": effective,
                                    "note": note or None}, note or None)
        except PermissionDenied as exc:
            refuse(exc)
        except data.ActionError as exc:
            st.error(t("action.failed", why=str(exc)))
        else:
            _replace_draft(text)
            st.session_state["rules_done"] = t("rules.proposed", id=request)
            st.rerun()


def _pending(user: User) -> None:
    """Rule sets awaiting a second regulator: approve (publish), reject or withdraw."""
    waiting = data.pending_requests(user, ("rules.publish",))
    st.markdown(f"### {t('rules.pending', n=len(waiting))}")
    if not waiting:
        st.caption(t("rules.no_pending"))
        return
    for req in waiting:
        try:
            parsed = parse_rules(str(req.payload.get("text") or ""), "request")
        except InputError:
            continue
        mine = req.proposed_by == user.username
        with st.container(border=True):
            st.markdown(t("rules.request_line", id=req.id, name=parsed.ruleset.name,
                          version=parsed.ruleset.version, by=req.proposed_by,
                          effective=req.payload.get("effective_from", ""),
                          hash=parsed.content_hash[:12]))
            if req.note:
                st.caption(t("rules.request_note", note=req.note))
            with st.form(f"rules_decide_{req.id}", clear_on_submit=True):
                if mine:
                    st.info(t("life.own_request"))
                note = st.text_input(t("life.note"))
                c = st.columns(3)
                approve = c[0].form_submit_button(t("rules.approve"), type="primary",
                                                  disabled=mine)
                reject = c[1].form_submit_button(t("life.reject"), disabled=mine)
                withdraw = c[2].form_submit_button(t("life.withdraw"), disabled=not mine)
            outcome = ("approved" if approve else "rejected" if reject
                       else "withdrawn" if withdraw else None)
            if outcome is None:
                continue
            try:
                data.decide_request(user, req.id, req.kind, outcome, note or None)
            except PermissionDenied as exc:
                refuse(exc)
            except data.ActionError as exc:
                st.error(t("action.failed", why=str(exc)))
            else:
                if outcome == "approved":
                    _replace_draft(data.rules_text())
                st.session_state["rules_done"] = t(f"req.outcome.{outcome}")
                st.rerun()


def render() -> None:
    """The rule tuning page."""
    user = guard(Permission.RULES)
    st.title(t("rules.title"))
    st.caption(t("rules.caption"))
    done = st.session_state.pop("rules_done", None)
    if done:
        st.success(t("life.done", what=done))
    _pending(user)
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
        versions = data.rule_versions().join(data.published_notes(), on="content_hash",
                                             how="left")
        show_table(versions, VERSIONS, key="rules_versions")
    st.markdown(f"### {t('rules.validation')}")
    draft = _validate(draft_text)
    if draft is None:
        return
    _impact(draft)
    _publish(draft_text, draft)


if __name__ == "__main__":
    render()
