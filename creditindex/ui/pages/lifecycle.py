"""Staff's daily work on records and restrictions: the work queues (objections and
repair applications with their deadlines, restrictions ending soon, changes awaiting a
second person), a record's life (objections filed and decided, credit repair applied for
and granted) and manual restrictions entered, lifted or amended under the two-person
rule. Each step names the user and is audited; each form belongs to one record and
starts empty when another record is chosen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from creditindex.service.auth import Permission, PermissionDenied, User
from creditindex.ui import data, queues
from creditindex.ui.i18n import labeller, t
from creditindex.ui.widgets import guard, refuse, show_table

RECORDS = ["subject_name", "subject_id", "behaviour_code", "decided_on", "record_id",
           "source", "document_no", "revoked_on", "repaired_on"]
EVENTS = ["id", "kind", "effective_on", "outcome", "document_no", "reason", "by", "at"]
QUEUE = ["deadline", "days_left", "kind", "subject_name", "record_id", "behaviour_code",
         "filed_on", "reason", "by"]
MANUAL = ["id", "subject_id", "start", "until", "lifted", "reason", "document_no",
          "entered_by", "approved_by", "changed_on"]
REQUESTS = ["id", "kind", "what", "proposed_by", "proposed_at", "note"]
RECORD_KEY = "life_record"
RESTRICTION_KINDS = ("restriction.add", "restriction.lift", "restriction.amend")


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


def _pick_from(event: Any, frame: pl.DataFrame) -> dict[str, Any] | None:
    rows = getattr(getattr(event, "selection", None), "rows", None) or []
    return frame.row(int(rows[0]), named=True) if rows else None


def _queues(user: User) -> None:
    today = data.today()
    steps = queues.with_deadlines(data.open_steps(user), today)
    objections = steps.filter(pl.col("kind") == "objection_filed")
    repairs = steps.filter(pl.col("kind") == "repair_applied")
    soon = queues.ending_soon(data.manual_restrictions(user), today)
    waiting = data.pending_requests(user, RESTRICTION_KINDS)
    st.caption(t("life.queue_caption", obj=queues.objection_days(),
                 rep=queues.repair_days(), soon=queues.ending_soon_days()))
    tabs = st.tabs([t("life.queue_objections", n=objections.height),
                    t("life.queue_repairs", n=repairs.height),
                    t("life.queue_ending", n=soon.height),
                    t("life.queue_approvals", n=len(waiting))])
    for tab, frame, key in ((tabs[0], objections, "life_q_obj"),
                            (tabs[1], repairs, "life_q_rep")):
        with tab:
            overdue = frame.filter(pl.col("days_left") < 0).height
            if overdue:
                st.error(t("life.overdue", n=overdue))
            event = show_table(frame, QUEUE, key=key, on_select="rerun",
                               selection_mode="single-row")
            picked = _pick_from(event, frame)
            if picked is not None:
                st.session_state[RECORD_KEY] = (picked["source"], picked["record_id"])
    with tabs[2]:
        show_table(soon, ["days_left", *MANUAL], key="life_q_soon")
    with tabs[3]:
        _approvals(user, waiting)


def _what(kind: str, payload: dict[str, Any]) -> str:
    """A request in words."""
    if kind == "restriction.add":
        return t("life.req_add", id=payload.get("subject_id", ""),
                 start=payload.get("start", ""), until=payload.get("until") or "-",
                 reason=payload.get("reason", ""))
    if kind == "restriction.lift":
        return t("life.req_lift", id=payload.get("restriction_id", ""),
                 on=payload.get("on", ""), reason=payload.get("reason", ""))
    return t("life.req_amend", id=payload.get("restriction_id", ""),
             until=payload.get("until") or t("life.indefinite"),
             reason=payload.get("reason", ""))


def _approvals(user: User, waiting: list[Any]) -> None:
    """Changes awaiting a second person: approve or reject (or withdraw one's own)."""
    if not waiting:
        st.caption(t("life.no_requests"))
        return
    frame = pl.DataFrame([(r.id, t(f"req.{r.kind}"), _what(r.kind, r.payload), r.proposed_by,
                           r.proposed_at, r.note) for r in waiting], orient="row",
                         schema={"id": pl.Int64, "kind": pl.String, "what": pl.String,
                                 "proposed_by": pl.String,
                                 "proposed_at": pl.Datetime("us"), "note": pl.String})
    show_table(frame, REQUESTS, key="life_requests")
    by_id = {r.id: r for r in waiting}
    chosen = st.selectbox(t("life.request"), list(by_id), key="life_req_pick",
                          format_func=lambda i: f"#{i} {_what(by_id[i].kind, by_id[i].payload)}")
    if chosen is None:
        return
    req = by_id[int(chosen)]
    mine = req.proposed_by == user.username
    with st.form(f"life_decide_req_{req.id}", clear_on_submit=True):
        if mine:
            st.info(t("life.own_request"))
        note = st.text_input(t("life.note"))
        c = st.columns(3)
        approve = c[0].form_submit_button(t("life.approve"), type="primary", disabled=mine)
        reject = c[1].form_submit_button(t("life.reject"), disabled=mine)
        withdraw = c[2].form_submit_button(t("life.withdraw"), disabled=not mine)
    for pressed, outcome in ((approve, "approved"), (reject, "rejected"),
                             (withdraw, "withdrawn")):
        if pressed:
            _run(lambda o=outcome: data.decide_request(user, req.id, req.kind, o,  # type: ignore[misc]
                                                       note or None),
                 t(f"req.outcome.{outcome}"))


def _record_steps(user: User, rec: dict[str, Any]) -> None:
    source, record_id = str(rec["source"]), str(rec["record_id"])
    key = f"{source}/{record_id}"  # every form below belongs to this record only
    st.markdown(f"#### {t('life.record_title', id=record_id, name=rec.get('subject_name') or '')}")
    events = data.events_of(user, source, record_id)
    st.markdown(f"##### {t('life.events')}")
    show_table(events, EVENTS, key="life_events")
    pending = data.open_objection(events)
    today = data.today()
    revoked = rec.get("revoked_on") is not None
    obj, decide, repair = st.tabs([t("life.tab_objection"), t("life.tab_decide"),
                                   t("life.tab_repair")])
    with obj, st.form(f"life_objection_{key}", clear_on_submit=True):
        blocked = pending is not None or revoked
        if pending is not None:
            st.info(t("life.objection_open"))
        on = st.date_input(t("life.on"), value=today, max_value=today, format="YYYY-MM-DD")
        reason = st.text_area(t("life.reason"), height=80)
        if st.form_submit_button(t("life.file_objection"), type="primary", disabled=blocked):
            _run(lambda: data.file_objection(user, source, record_id, on, reason or ""),
                 t("event.objection_filed"))
    with decide:
        if pending is None:
            st.info(t("life.no_open_objection"))
        with st.form(f"life_decide_{key}", clear_on_submit=True):
            st.caption(t("life.objection") + (f": {pending['effective_on']} · "
                                              f"{pending['reason'] or ''}" if pending else ""))
            outcome = st.radio(t("life.outcome"), ("upheld", "rejected"), horizontal=True,
                               format_func=labeller("outcome"), disabled=pending is None)
            d_on = st.date_input(t("life.on"), value=today, max_value=today,
                                 format="YYYY-MM-DD", disabled=pending is None)
            doc = st.text_input(t("life.document_no"), disabled=pending is None)
            note = st.text_area(t("life.reason"), height=80, disabled=pending is None)
            if st.form_submit_button(t("life.decide"), type="primary",
                                     disabled=pending is None):
                _run(lambda: data.decide_objection(user, source, record_id, d_on,
                                                   outcome == "upheld", note or None,
                                                   doc or None),
                     t("event.objection_decided"))
    with repair, st.form(f"life_repair_{key}", clear_on_submit=True):
        done = rec.get("repaired_on") is not None or revoked
        r_on = st.date_input(t("life.on"), value=today, max_value=today, format="YYYY-MM-DD")
        r_doc = st.text_input(t("life.document_no"))
        r_note = st.text_area(t("life.reason"), height=80)
        c = st.columns(2)
        if c[0].form_submit_button(t("life.apply_repair"), disabled=done):
            _run(lambda: data.apply_repair(user, source, record_id, r_on, r_note or None),
                 t("event.repair_applied"))
        if c[1].form_submit_button(t("life.repair"), type="primary", disabled=done):
            _run(lambda: data.grant_repair(user, source, record_id, r_on, r_note or None,
                                           r_doc or None),
                 t("event.repair_granted"))


def _find_record(user: User) -> dict[str, Any] | None:
    query = st.text_input(t("life.find"), key="life_query")
    chosen = st.session_state.get(RECORD_KEY)
    if query:
        found = data.find_records(user, query)
        if found.height == 0:
            st.warning(t("life.none_found"))
        else:
            show_table(found, RECORDS, key="life_found")
            keys = [f"{s}\x1f{r}" for s, r in zip(found["source"], found["record_id"],
                                                  strict=True)]
            labels = {k: f"{r} · {b} · {d} · {n}" for k, r, b, d, n in zip(
                keys, found["record_id"], found["behaviour_code"], found["decided_on"],
                found["subject_name"].fill_null(""), strict=True)}
            pick = st.selectbox(t("life.pick"), keys, key=f"life_pick_{query}",
                                format_func=lambda k: labels.get(k, k))
            if pick:
                chosen = tuple(str(pick).split("\x1f"))
                st.session_state[RECORD_KEY] = chosen
    if not (isinstance(chosen, tuple) and len(chosen) == 2):
        return None
    found = data.find_records(user, str(chosen[1]))
    rows = found.filter((pl.col("source") == chosen[0]) & (pl.col("record_id") == chosen[1]))
    return rows.row(0, named=True) if rows.height else None


def _manual(user: User, subject_id: str) -> None:
    st.markdown(f"### {t('life.tab_manual')}")
    st.caption(t("life.two_person"))
    with st.form(f"life_manual_{subject_id}", clear_on_submit=True):
        c = st.columns([2, 1, 1])
        sid = c[0].text_input(t("life.subject"), value=subject_id)
        start = c[1].date_input(t("col.start"), value=data.today(), format="YYYY-MM-DD")
        until = c[2].date_input(t("life.until"), value=None, format="YYYY-MM-DD")
        doc = st.text_input(t("life.document_no"))
        reason = st.text_area(t("life.reason"), height=80)
        if st.form_submit_button(t("life.propose_restrict"), type="primary"):
            _run(lambda: data.propose(user, "restriction.add", {
                "subject_id": sid or "",
                "start": start if isinstance(start, dt.date) else data.today(),
                "until": until if isinstance(until, dt.date) else None,
                "reason": reason or "", "document_no": doc or None}),
                t("life.proposed"))
    st.markdown(f"##### {t('life.manual_list')}")
    manual = data.manual_restrictions(user)
    event = show_table(manual, MANUAL, key="life_manual_list", on_select="rerun",
                       selection_mode="single-row")
    picked = _pick_from(event, manual)
    if picked is None or picked["lifted"]:
        st.caption(t("life.pick_restriction"))
        return
    rid = int(picked["id"])
    st.markdown(f"##### {t('life.change_title', id=rid, sid=picked['subject_id'])}")
    lift, amend = st.tabs([t("life.lift"), t("life.amend")])
    with lift, st.form(f"life_lift_{rid}", clear_on_submit=True):
        on = st.date_input(t("life.lift_on"), value=data.today(), max_value=data.today(),
                           format="YYYY-MM-DD")
        why = st.text_area(t("life.reason"), height=80)
        ldoc = st.text_input(t("life.document_no"))
        if st.form_submit_button(t("life.propose_lift"), type="primary"):
            _run(lambda: data.propose(user, "restriction.lift", {
                "restriction_id": rid, "on": on, "reason": why or "",
                "document_no": ldoc or None}), t("life.proposed"))
    with amend, st.form(f"life_amend_{rid}", clear_on_submit=True):
        new_until = st.date_input(t("life.new_until"), value=None, format="YYYY-MM-DD")
        a_on = st.date_input(t("life.on"), value=data.today(), max_value=data.today(),
                             format="YYYY-MM-DD")
        a_why = st.text_area(t("life.reason"), height=80)
        adoc = st.text_input(t("life.document_no"))
        if st.form_submit_button(t("life.propose_amend"), type="primary"):
            _run(lambda: data.propose(user, "restriction.amend", {
                "restriction_id": rid, "on": a_on,
                "until": new_until if isinstance(new_until, dt.date) else None,
                "reason": a_why or "", "document_no": adoc or None}), t("life.proposed"))


def render() -> None:
    """The lifecycle page."""
    user = guard(Permission.LIFECYCLE)
    st.title(t("life.title"))
    st.caption(t("life.caption"))
    done = st.session_state.pop("life_done", None)
    if done:
        st.success(t("life.done", what=done))
    _queues(user)
    st.divider()
    rec = _find_record(user)
    subject_id = ""
    if rec is not None:
        subject_id = str(rec["subject_id"])
        _record_steps(user, rec)
    st.divider()
    _manual(user, subject_id)


if __name__ == "__main__":
    render()
