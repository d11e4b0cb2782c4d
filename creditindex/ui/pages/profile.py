"""A subject's public profile: its index over time with every deduction marked, the
deductions counted on the day, its records, restrictions, objections and repairs."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from creditindex.rules import SUBJECT_TYPES
from creditindex.service.auth import Permission, User
from creditindex.ui import charts, data, nav, reasons, tables
from creditindex.ui.i18n import current_lang, labeller, lang_key, t
from creditindex.ui.widgets import day_pickers, guard, label, records_view, show_table

DEDUCTIONS = ["record_id", "behaviour", "points", "decided_on", "expires_on", "industry",
              "region", "source", "document_no", "factor"]
RECORDS = ["record_id", "behaviour", "status", "nominal_points", "decided_on", "nominal_end",
           "recorded_on", "revoked_on", "repaired_on", "industry", "region", "source",
           "document_no", "authority", "basis", "publish_until", "restrict_until",
           "restrict_scope"]
GROUNDS = ["cause", "code", "detail", "basis", "source", "document_no", "since", "until"]
EVENTS = ["record_id", "kind", "effective_on", "outcome", "document_no", "reason", "at"]


def _from_link() -> tuple[str, str] | None:
    """The subject named in the page's URL (``?subject=...&type=...``), if any."""
    sid = str(st.query_params.get("subject", "") or "").strip().upper()
    if not sid:
        return None
    stype = str(st.query_params.get("type", "") or "")
    roles = data.subject_types_of(sid)
    if not roles:
        st.warning(t("profile.link_unknown"))
        return None
    return sid, stype if stype in roles else roles[0]


def _pick_subject(user: User) -> tuple[str, str] | None:
    current = _from_link() or st.session_state.get(nav.SUBJECT_KEY)
    query = st.text_input(t("profile.search"), key="pf_query",
                          placeholder=t("filter.search_hint"))
    if query:
        found = data.find_subjects(query, user=user)
        if found.height == 0:
            st.warning(t("profile.none_found"))
        else:
            options = list(range(found.height))
            kind = labeller("type")
            i = st.selectbox(
                t("profile.matches", n=found.height), options, key=lang_key("pf_match"),
                format_func=lambda k: f"{found['subject_name'][k]} ({found['public_id'][k]}"
                                      f" · {kind(found['subject_type'][k])})")
            row = found.row(int(i or 0), named=True)
            current = (row["subject_id"], row["subject_type"])
    if isinstance(current, tuple) and len(current) == 2:
        st.session_state[nav.SUBJECT_KEY] = current
        if not tables.looks_personal(str(current[0])):  # a shareable link (never an ID No.)
            st.query_params.update({"subject": str(current[0]), "type": str(current[1])})
        return str(current[0]), str(current[1])
    return None


def _behaviour_label() -> pl.Expr:
    name = "behaviour_name_en" if current_lang() == "en" else "behaviour_name"
    return pl.format("{} {}", pl.col("behaviour_code"), pl.col(name).fill_null(""))


def render() -> None:
    """The profile page."""
    user = guard(Permission.VIEW)
    st.title(t("profile.title"))
    picked = _pick_subject(user)
    if picked is None:
        st.info(t("profile.pick"))
        return
    subject_id, subject_type = picked
    if not data.may_see(user, subject_id, subject_type):
        st.warning(t("profile.staff_only"))
        return
    roles = [r for r in data.subject_types_of(subject_id) if r in data.visible_types(user)]
    if len(roles) > 1:
        subject_type = st.segmented_control(
            t("profile.role"), [r for r in SUBJECT_TYPES if r in roles], key="pf_role",
            default=subject_type, required=True, format_func=labeller("type")
        ) or subject_type
    on, known_on = day_pickers("pf")
    first_default = on - dt.timedelta(days=3 * 365)
    start = st.session_state.get("pf_from", first_default)
    with st.spinner(t("rankings.computing")):
        p = data.profile(subject_id, subject_type, on, known_on,
                         start=min(start, on), fixed_knowledge=known_on != on, user=user)

    st.subheader(f"{p.subject_name or '-'}")
    st.caption(t("profile.answer_for", day=on))
    st.caption(t("profile.identity", id=tables.public_id(subject_id, subject_type),
                 type=t(f"type.{subject_type}")))
    s = p.summary or {}
    m = st.columns(4)
    m[0].metric(label("index"), f"{s.get('index', data.rules().base):.2f}")
    watch = s.get("watch")
    m[1].metric(label("grade"), str(s.get("grade", "-")),
                delta=labeller("watch")(watch) if watch else None, delta_color="off")
    m[2].metric(label("rank"), str(s.get("rank", "-")))
    restricted = bool(s.get("restricted", p.grounds.height > 0))
    m[3].metric(label("restricted"), t("yes") if restricted else t("no"))
    if restricted:
        st.error(t("profile.restricted_now", day=on))

    st.markdown(f"#### {t('profile.history')}")
    st.date_input(t("profile.history_from"), value=first_default, key="pf_from",
                  max_value=on, format="YYYY-MM-DD")
    st.caption(t("profile.history_fixed", known=known_on) if known_on != on
               else t("profile.history_published"))
    marks = p.records.filter(pl.col("status") != "revoked").select(
        pl.col("decided_on").alias("date"), _behaviour_label().alias("label"),
        pl.col("nominal_points").alias("points"), pl.col("nominal_end").alias("expires_on"),
        "record_id").filter(pl.col("date") >= start)
    marks = marks.join(p.history.select("date", "index"), on="date", how="left")
    rules = data.rules()
    st.altair_chart(charts.history_chart(
        p.history, marks, x_title=t("col.date"), y_title=label("index"),
        mark_title=label("decided_on"),
        tooltip_titles={"grade": label("grade"), "behaviour": label("behaviour"),
                        "points": label("points"), "expires_on": label("expires_on"),
                        "record_id": label("record_id")},
        base=rules.base, floor=rules.floor), width="stretch")

    tabs = st.tabs([t("profile.tab_deductions", n=p.deductions.height),
                    t("profile.tab_restrictions", n=p.grounds.height),
                    t("profile.tab_records", n=p.records.height),
                    t("profile.tab_events", n=p.events.height)])
    with tabs[0]:
        st.caption(t("profile.deductions_caption", day=on, known=known_on))
        show_table(p.deductions.with_columns(_behaviour_label().alias("behaviour")),
                   DEDUCTIONS, key="pf_ded")
    with tabs[1]:
        show_table(reasons.grounds_frame(p.grounds, data.behaviour_names(current_lang(), on)),
                   [c for c in GROUNDS if c in p.grounds.columns], key="pf_grounds")
    with tabs[2]:
        staff = user.may(Permission.CONFIDENTIAL)
        st.caption(t("profile.records_staff") if staff else t("profile.records_public"))
        shown = records_view(p.records.with_columns(_behaviour_label().alias("behaviour")))
        columns = [c for c in RECORDS if c in shown.columns]
        show_table(shown, ["publication", *columns] if staff else columns, key="pf_records")
    with tabs[3]:
        show_table(p.events, EVENTS, key="pf_events")


if __name__ == "__main__":
    render()
