"""Staff record a record's life: objections filed and decided, credit repair applied
for and granted, and manual restrictions. Each step names the user and is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from creditindex.ui import data
from creditindex.ui.auth import Permission, PermissionDenied, User
from creditindex.ui.i18n import labeller, t
from creditindex.ui.widgets import guard, refuse, show_table

RECORDS = ["subject_name", "subject_id", "behaviour_code", "decided_on", "record_id",
           "source", "document_no", "revoked_on", "repaired_on"]
EVENTS = ["id", "kind", "effective_on", "outcome", "document_no", "reason", "by", "at"]
MANUAL = ["subject_id", "start", "until", "reason", "document_no", "entered_by"]


def _run(action: Callable[[], object], what: str) -> None:
    try:
        action()
    except PermissionDenied as exc:
        refuse(exc)
    except data.ActionError as exc:
        st.error(t("action.failed", why=str(exc)))
    else:
        st.session_state["life_done"] = what
        st.rerun()


def _record_steps(user: User, rec: dict[str, object]) -> None:
    source, record_id = str(rec["source"]), str(rec["record_id"])
    events = data.events_of(user, source, record_id)
    st.markdown(f"##### {t('life.events')}")
    show_table(events, EVENTS, key="life_events")
    pending = data.open_objection(events)
    today = data.today()
    obj, decide, repair = st.tabs([t("life.tab_objection"), t("life.tab_decide"),
                                   t("life.tab_repair")])
    with obj, st.form("life_objection"):
        on = st.date_input(t("life.on"), value=today, max_value=today, format="YYYY-MM-DD")
        reason = st.text_area(t("life.reason"), height=80)
        if st.form_submit_button(t("life.file_objection"), type="primary"):
            _run(lambda: data.file_objection(user, source, record_id, on, reason or ""),
                 t("event.objection_filed"))
    with decide:
        if pending is None:
            st.info(t("life.no_open_objection"))
        with st.form("life_decide"):
            st.caption(t("life.objection") + (f": {pending['effective_on']} · "
                                              f"{pending['reason'] or ''}" if pending else ""))
            outcome = st.radio(t("life.outcome"), ("upheld", "rejected"), horizontal=True,
                               format_func=labeller("outcome"))
            d_on = st.date_input(t("life.on"), value=today, max_value=today,
                                 format="YYYY-MM-DD")
            doc = st.text_input(t("life.document_no"))
            note = st.text_area(t("life.reason"), height=80)
            if st.form_submit_button(t("life.decide"), type="primary"):
                _run(lambda: data.decide_objection(user, source, record_id, d_on,
                                                   outcome == "upheld", note or None,
                                                   doc or None),
                     t("event.objection_decided"))
    with repair, st.form("life_repair"):
        r_on = st.date_input(t("life.on"), value=today, max_value=today, format="YYYY-MM-DD")
        r_doc = st.text_input(t("life.document_no"))
        r_note = st.text_area(t("life.reason"), height=80)
        c = st.columns(2)
        if c[0].form_submit_button(t("life.apply_repair")):
            _run(lambda: data.apply_repair(user, source, record_id, r_on, r_note or None),
                 t("event.repair_applied"))
        if c[1].form_submit_button(t("life.repair"), type="primary"):
            _run(lambda: data.grant_repair(user, source, record_id, r_on, r_note or None,
                                           r_doc or None),
                 t("event.repair_granted"))


def _manual(user: User, subject_id: str) -> None:
    st.markdown(f"### {t('life.tab_manual')}")
    with st.form("life_manual"):
        c = st.columns([2, 1, 1])
        sid = c[0].text_input(t("life.subject"), value=subject_id)
        start = c[1].date_input(t("col.start"), value=data.today(), format="YYYY-MM-DD")
        until = c[2].date_input(t("life.until"), value=None, format="YYYY-MM-DD")
        doc = st.text_input(t("life.document_no"))
        reason = st.text_area(t("life.reason"), height=80)
        if st.form_submit_button(t("life.restrict"), type="primary"):
            _run(lambda: data.add_restriction(
                user, sid or "", start if isinstance(start, dt.date) else data.today(),
                until if isinstance(until, dt.date) else None, reason or "", doc or None),
                t("cause.manual"))
    st.markdown(f"##### {t('life.manual_list')}")
    show_table(data.manual_restrictions(user), MANUAL, key="life_manual_list")


def render() -> None:
    """The lifecycle page."""
    user = guard(Permission.LIFECYCLE)
    st.title(t("life.title"))
    st.caption(t("life.caption"))
    done = st.session_state.pop("life_done", None)
    if done:
        st.success(t("life.done", what=done))
    query = st.text_input(t("life.find"), key="life_query")
    subject_id = ""
    if query:
        found = data.find_records(user, query)
        if found.height == 0:
            st.warning(t("life.none_found"))
        else:
            show_table(found, RECORDS, key="life_found")
            i = st.selectbox(
                t("life.pick"), list(range(found.height)), key="life_pick",
                format_func=lambda k: f"{found['record_id'][k]} · {found['behaviour_code'][k]}"
                                      f" · {found['decided_on'][k]} · {found['subject_name'][k]}")
            rec = found.row(int(i or 0), named=True)
            subject_id = str(rec["subject_id"])
            _record_steps(user, rec)
    _manual(user, subject_id)


if __name__ == "__main__":
    render()
