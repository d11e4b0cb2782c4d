"""A record's life after import, step by step, each step dated, naming its user and
audited: objections (异议申诉) filed and decided, revocation (撤销) when one is upheld,
credit repair (信用修复) applied for and granted, and restrictions entered by staff.

Records themselves never change. Each step is a ``record_event`` row; the day it takes
effect is its ``effective_on``, so views known before that day still show the record as
it was. An objection suspends nothing by itself. A repair is refused before the
behaviour's ``min_publish_days`` have passed since the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, insert, select

from creditindex.identifiers import rid_problem, uscc_problem
from creditindex.store import audit
from creditindex.store.db import (
    StoreError,
    get_engine,
    read_transaction,
    table,
    utcnow,
    write_transaction,
)
from creditindex.store.migrations import ensure_schema
from creditindex.store.permissions import Permission
from creditindex.store.rulesets import rules_for
from creditindex.store.users import require_user


@dataclass(frozen=True)
class StoredRecord:
    """A stored record's identity and its dates as in effect now."""

    pk: int
    source: str
    record_id: str
    subject_id: str
    subject_type: str
    behaviour_code: str
    decided_on: dt.date
    revoked_on: dt.date | None
    repaired_on: dt.date | None

    @property
    def key(self) -> str:
        """``source/record_id`` as the audit log names it."""
        return f"{self.source}/{self.record_id}"


@dataclass(frozen=True)
class Decision:
    """An objection decided: the objection, the decision and, if upheld, the revocation."""

    objection_id: int
    decision_id: int
    revoked_event_id: int | None


def _engine(url: str | None) -> Engine:
    engine = get_engine(url)
    ensure_schema(engine)
    return engine


def find_record(conn: Connection, source: str, record_id: str) -> StoredRecord:
    """The stored record (source, record_id) with its effective revocation and repair."""
    records, events = table("penalty_record"), table("record_event")
    row = conn.execute(select(records).where(records.c.source == source.strip(),
                                             records.c.record_id == record_id.strip())).first()
    if row is None:
        raise StoreError(f"no record {record_id!r} from source {source!r} in the store")
    revoked, repaired = row.revoked_on, row.repaired_on
    for kind, on in conn.execute(select(events.c.kind, events.c.effective_on).where(
            events.c.record_pk == row.id, events.c.kind.in_(("revoked", "repair_granted")))):
        if kind == "revoked":
            revoked = on if revoked is None else min(revoked, on)
        else:
            repaired = on if repaired is None else min(repaired, on)
    return StoredRecord(int(row.id), row.source, row.record_id, row.subject_id,
                        row.subject_type, row.behaviour_code, row.decided_on, revoked,
                        repaired)


def _open_step(conn: Connection, pk: int, opened: str, closed: str) -> tuple[int, dt.date
                                                                              ] | None:
    """The latest ``opened`` event of a record no ``closed`` event refers to."""
    events = table("record_event")
    rows = conn.execute(select(events.c.id, events.c.kind, events.c.effective_on,
                               events.c.refers_to).where(events.c.record_pk == pk,
                                                         events.c.kind.in_((opened, closed)))
                        .order_by(events.c.id)).all()
    done = {r.refers_to for r in rows if r.kind == closed}
    open_ = [r for r in rows if r.kind == opened and r.id not in done]
    return None if not open_ else (int(open_[-1].id), open_[-1].effective_on)


def _day(on: dt.date | None) -> dt.date:
    day = on or dt.date.today()
    if day > dt.date.today():
        raise StoreError(f"{day} is in the future: a step is dated the day it takes effect")
    return day


def _add_event(conn: Connection, rec: StoredRecord, kind: str, on: dt.date, by: str,
               reason: str | None = None, outcome: str | None = None,
               refers_to: int | None = None, document_no: str | None = None) -> int:
    key = conn.execute(insert(table("record_event")).values(
        record_pk=rec.pk, kind=kind, effective_on=on, outcome=outcome, refers_to=refers_to,
        reason=reason, document_no=document_no, origin="staff", by=by, at=utcnow())
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def _not_revoked(rec: StoredRecord, day: dt.date) -> None:
    if rec.revoked_on is not None and rec.revoked_on <= day:
        raise StoreError(f"record {rec.key} was revoked on {rec.revoked_on}")


def file_objection(url: str | None, source: str, record_id: str, *, user: str, reason: str,
                   on: dt.date | None = None) -> int:
    """Record an objection (异议) to a record, filed on ``on`` (default today). It
    suspends nothing by itself. Any active user may file one; one at a time per record.
    Returns the event id."""
    day = _day(on)
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, Permission.OBJECT)
        rec = find_record(conn, source, record_id)
        if day < rec.decided_on:
            raise StoreError(f"an objection to {rec.key} cannot be filed before its decision "
                             f"on {rec.decided_on}")
        _not_revoked(rec, day)
        if _open_step(conn, rec.pk, "objection_filed", "objection_decided") is not None:
            raise StoreError(f"record {rec.key} already has an objection awaiting decision")
        event = _add_event(conn, rec, "objection_filed", day, who.name, reason=reason)
        audit.record(conn, who.name, "objection.file", "penalty_record", rec.key,
                     after={"event_id": event, "filed_on": day, "reason": reason})
    return event


def decide_objection(url: str | None, source: str, record_id: str, *, user: str,
                     upheld: bool, on: dt.date | None = None, note: str | None = None,
                     document_no: str | None = None) -> Decision:
    """Decide the record's open objection on ``on`` (default today), as staff. Upheld,
    it revokes the record from that day: views known before it still show the record."""
    day = _day(on)
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, Permission.LIFECYCLE)
        rec = find_record(conn, source, record_id)
        pending = _open_step(conn, rec.pk, "objection_filed", "objection_decided")
        if pending is None:
            raise StoreError(f"record {rec.key} has no objection awaiting decision")
        objection, filed_on = pending
        if day < filed_on:
            raise StoreError(f"the objection was filed on {filed_on}; it cannot be decided "
                             f"on {day}")
        _not_revoked(rec, day)
        outcome = "upheld" if upheld else "rejected"
        decision = _add_event(conn, rec, "objection_decided", day, who.name, reason=note,
                              outcome=outcome, refers_to=objection, document_no=document_no)
        revoked = None
        if upheld:
            revoked = _add_event(conn, rec, "revoked", day, who.name, reason=note,
                                 refers_to=decision, document_no=document_no)
        audit.record(conn, who.name, "objection.decide", "penalty_record", rec.key,
                     before={"objection_id": objection, "revoked_on": rec.revoked_on},
                     after={"decision_id": decision, "outcome": outcome, "decided_on": day,
                            "revoked_on": day if upheld else rec.revoked_on,
                            "document_no": document_no, "note": note})
    return Decision(objection, decision, revoked)


def apply_repair(url: str | None, source: str, record_id: str, *, user: str,
                 on: dt.date | None = None, note: str | None = None) -> int:
    """Record an application for credit repair (信用修复申请). Returns the event id."""
    day = _day(on)
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, Permission.OBJECT)
        rec = find_record(conn, source, record_id)
        _not_revoked(rec, day)
        if rec.repaired_on is not None:
            raise StoreError(f"record {rec.key} was already repaired on {rec.repaired_on}")
        if day < rec.decided_on:
            raise StoreError(f"record {rec.key} was decided on {rec.decided_on}")
        if _open_step(conn, rec.pk, "repair_applied", "repair_granted") is not None:
            raise StoreError(f"record {rec.key} already has a repair application pending")
        event = _add_event(conn, rec, "repair_applied", day, who.name, reason=note)
        audit.record(conn, who.name, "repair.apply", "penalty_record", rec.key,
                     after={"event_id": event, "applied_on": day, "note": note})
    return event


def repair_not_before(conn: Connection, rec: StoredRecord, day: dt.date) -> dt.date:
    """The first day a repair of ``rec`` may be granted under the rules in force on
    ``day``: its decision plus the behaviour's ``min_publish_days``."""
    rules = rules_for(conn, None, day)
    behaviour = rules.behaviour_by_code().get(rec.behaviour_code)
    wait = behaviour.min_publish_days if behaviour and behaviour.min_publish_days else 0
    return rec.decided_on + dt.timedelta(days=wait)


def grant_repair(url: str | None, source: str, record_id: str, *, user: str,
                 on: dt.date | None = None, note: str | None = None,
                 document_no: str | None = None) -> int:
    """Grant credit repair on ``on`` (default today), as staff: the record stops counting
    from that day. Refused before the behaviour's ``min_publish_days`` since the
    decision. Returns the event id."""
    day = _day(on)
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, Permission.LIFECYCLE)
        rec = find_record(conn, source, record_id)
        _not_revoked(rec, day)
        if rec.repaired_on is not None:
            raise StoreError(f"record {rec.key} was already repaired on {rec.repaired_on}")
        earliest = repair_not_before(conn, rec, day)
        if day < earliest:
            raise StoreError(
                f"credit repair of {rec.key} refused: {rec.behaviour_code} decided on "
                f"{rec.decided_on} must stay published until {earliest} (min_publish_days)")
        pending = _open_step(conn, rec.pk, "repair_applied", "repair_granted")
        event = _add_event(conn, rec, "repair_granted", day, who.name, reason=note,
                           refers_to=None if pending is None else pending[0],
                           document_no=document_no)
        audit.record(conn, who.name, "repair.grant", "penalty_record", rec.key,
                     before={"repaired_on": None},
                     after={"event_id": event, "repaired_on": day, "note": note,
                            "document_no": document_no})
    return event


def _check_restriction(subject_id: str, start: dt.date, until: dt.date | None, reason: str
                       ) -> str:
    """The cleaned subject ID of a restriction to enter; refused when anything is wrong."""
    sid = subject_id.strip().upper()
    if uscc_problem(sid) and rid_problem(sid):
        raise StoreError(f"'{sid}' is neither a valid USCC nor a valid resident ID")
    if until is not None and until < start:
        raise StoreError(f"until {until} is before start {start}")
    if not reason.strip():
        raise StoreError("a restriction needs a reason")
    return sid


def insert_restriction(conn: Connection, subject_id: str, *, entered_by: str,
                       start: dt.date, reason: str, until: dt.date | None = None,
                       document_no: str | None = None, approved_by: str | None = None
                       ) -> int:
    """Enter a manual restriction on ``conn`` (checked first; audited). Its id."""
    sid = _check_restriction(subject_id, start, until, reason)
    values = {"subject_id": sid, "start": start, "until": until, "reason": reason,
              "document_no": document_no}
    key = conn.execute(insert(table("manual_restriction")).values(
        **values, entered_by=entered_by, entered_at=utcnow(), approved_by=approved_by)
    ).inserted_primary_key
    assert key is not None
    audit.record(conn, approved_by or entered_by, "restriction.add", "manual_restriction",
                 int(key[0]), after={**values, "entered_by": entered_by,
                                     "approved_by": approved_by})
    return int(key[0])


def add_restriction(url: str | None, subject_id: str, *, user: str, start: dt.date,
                    reason: str, until: dt.date | None = None,
                    document_no: str | None = None) -> int:
    """Enter a manual restriction of ``subject_id`` from ``start`` through ``until``
    (inclusive; ``None``: indefinite), in every role, as staff. Returns its id. (The app
    enters them through the two-person rule of :mod:`creditindex.store.approvals`.)"""
    _check_restriction(subject_id, start, until, reason)
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, Permission.LIFECYCLE)
        return insert_restriction(conn, subject_id, entered_by=who.name, start=start,
                                  reason=reason, until=until, document_no=document_no)


@dataclass(frozen=True)
class Restriction:
    """A manual restriction with its end as changed by lifts and amendments."""

    id: int
    subject_id: str
    start: dt.date
    until: dt.date | None
    lifted: bool


def restriction(conn: Connection, restriction_id: int) -> Restriction:
    """A manual restriction as in effect now (the latest change decides its end)."""
    manual, changes = table("manual_restriction"), table("restriction_change")
    row = conn.execute(select(manual.c.id, manual.c.subject_id, manual.c.start,
                              manual.c.until).where(manual.c.id == restriction_id)).first()
    if row is None:
        raise StoreError(f"no manual restriction #{restriction_id}")
    last = conn.execute(select(changes.c.kind, changes.c.until).where(
        changes.c.restriction_id == restriction_id).order_by(changes.c.id.desc()).limit(1)
    ).first()
    if last is None:
        return Restriction(int(row.id), row.subject_id, row.start, row.until, False)
    return Restriction(int(row.id), row.subject_id, row.start, last.until,
                       last.kind == "lift")


def change_restriction(conn: Connection, restriction_id: int, *, kind: str, by: str,
                       on: dt.date, reason: str, until: dt.date | None = None,
                       document_no: str | None = None, approved_by: str | None = None
                       ) -> int:
    """Lift (``kind="lift"``: it ends the day before ``on``; lifted on its first day, it
    never took effect) or amend (``kind="amend"``:
    it ends on ``until``, ``None`` for indefinite) a manual restriction, dated ``on``
    and audited. Returns the change's id."""
    if kind not in ("lift", "amend"):
        raise StoreError(f"unknown change '{kind}' (lift or amend)")
    if not reason.strip():
        raise StoreError("a lift or an amendment needs a reason")
    day = _day(on)
    current = restriction(conn, restriction_id)
    if current.lifted:
        raise StoreError(f"manual restriction #{restriction_id} was already lifted")
    if kind == "lift":
        if day < current.start:
            raise StoreError(f"restriction #{restriction_id} starts on {current.start}; "
                             f"it cannot be lifted from {day}, before it starts")
        if current.until is not None and current.until < day:
            raise StoreError(f"restriction #{restriction_id} already ended on "
                             f"{current.until}")
        new_until: dt.date | None = day - dt.timedelta(days=1)
    else:
        new_until = until
        if new_until is not None and new_until < current.start:
            raise StoreError(f"until {new_until} is before start {current.start}")
    key = conn.execute(insert(table("restriction_change")).values(
        restriction_id=restriction_id, kind=kind, effective_on=day, until=new_until,
        reason=reason, document_no=document_no, by=by, approved_by=approved_by,
        at=utcnow())).inserted_primary_key
    assert key is not None
    audit.record(conn, approved_by or by, f"restriction.{kind}", "manual_restriction",
                 restriction_id, before={"until": current.until},
                 after={"until": new_until, "effective_on": day, "reason": reason,
                        "document_no": document_no, "by": by, "approved_by": approved_by})
    return int(key[0])


def lift_restriction(url: str | None, restriction_id: int, *, user: str, on: dt.date,
                     reason: str, document_no: str | None = None) -> int:
    """Lift a manual restriction from ``on`` (it ends the day before), as staff."""
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, Permission.LIFECYCLE)
        return change_restriction(conn, restriction_id, kind="lift", by=who.name, on=on,
                                  reason=reason, document_no=document_no)


def amend_restriction(url: str | None, restriction_id: int, *, user: str, on: dt.date,
                      until: dt.date | None, reason: str, document_no: str | None = None
                      ) -> int:
    """Change the end of a manual restriction to ``until`` (``None``: indefinite), dated
    ``on``, as staff."""
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, Permission.LIFECYCLE)
        return change_restriction(conn, restriction_id, kind="amend", by=who.name, on=on,
                                  reason=reason, until=until, document_no=document_no)


def manual_restrictions(url: str | None) -> pl.DataFrame:
    """Every manual restriction with its end as in effect now: ``id, subject_id, start,
    until, lifted, reason, document_no, entered_by, approved_by, changed_on``."""
    manual, changes = table("manual_restriction"), table("restriction_change")
    with read_transaction(_engine(url)) as conn:
        rows = conn.execute(select(
            manual.c.id, manual.c.subject_id, manual.c.start, manual.c.until, manual.c.reason,
            manual.c.document_no, manual.c.entered_by, manual.c.approved_by
        ).order_by(manual.c.id)).all()
        moved = conn.execute(select(changes.c.restriction_id, changes.c.kind,
                                    changes.c.until, changes.c.effective_on)
                             .order_by(changes.c.id)).all()
    latest = {int(c.restriction_id): c for c in moved}
    out = []
    for r in rows:
        c = latest.get(int(r.id))
        out.append((int(r.id), r.subject_id, r.start, r.until if c is None else c.until,
                    c is not None and c.kind == "lift", r.reason, r.document_no,
                    r.entered_by, r.approved_by, None if c is None else c.effective_on))
    return pl.DataFrame(out, orient="row", schema={
        "id": pl.Int64, "subject_id": pl.String, "start": pl.Date, "until": pl.Date,
        "lifted": pl.Boolean, "reason": pl.String, "document_no": pl.String,
        "entered_by": pl.String, "approved_by": pl.String, "changed_on": pl.Date})


def record_events(url: str | None, source: str, record_id: str) -> pl.DataFrame:
    """A record's steps, oldest first: ``id, kind, effective_on, outcome, refers_to,
    reason, document_no, origin, by, at``."""
    events = table("record_event")
    cols = ["id", "kind", "effective_on", "outcome", "refers_to", "reason", "document_no",
            "origin", "by", "at"]
    with read_transaction(_engine(url)) as conn:
        rec = find_record(conn, source, record_id)
        rows = conn.execute(select(*(events.c[c] for c in cols)).where(
            events.c.record_pk == rec.pk).order_by(events.c.id)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema={
        "id": pl.Int64, "kind": pl.String, "effective_on": pl.Date, "outcome": pl.String,
        "refers_to": pl.Int64, "reason": pl.String, "document_no": pl.String,
        "origin": pl.String, "by": pl.String, "at": pl.Datetime("us")}, orient="row")


def open_steps(url: str | None) -> pl.DataFrame:
    """Every objection awaiting a decision and every repair application not yet granted,
    oldest first: ``event_id, kind, filed_on, reason, by, source, record_id, subject_id,
    subject_type, subject_name, behaviour_code, decided_on`` (the staff's work queue).
    A repair application of a record revoked since is left out."""
    events, records = table("record_event"), table("penalty_record")
    with read_transaction(_engine(url)) as conn:
        rows = conn.execute(select(
            events.c.id, events.c.kind, events.c.effective_on, events.c.refers_to,
            events.c.reason, events.c.by, events.c.record_pk, records.c.source,
            records.c.record_id, records.c.subject_id, records.c.subject_type,
            records.c.subject_name, records.c.behaviour_code, records.c.decided_on
        ).join(records, records.c.id == events.c.record_pk).where(events.c.kind.in_(
            ("objection_filed", "objection_decided", "repair_applied", "repair_granted",
             "revoked"))).order_by(events.c.id)).all()
    closed = {r.refers_to for r in rows if r.kind in ("objection_decided", "repair_granted")}
    repaired = {r.record_pk for r in rows if r.kind == "repair_granted"}
    revoked = {r.record_pk for r in rows if r.kind == "revoked"}
    out = [(int(r.id), r.kind, r.effective_on, r.reason, r.by, r.source, r.record_id,
            r.subject_id, r.subject_type, r.subject_name, r.behaviour_code, r.decided_on)
           for r in rows
           if (r.kind == "objection_filed" and r.id not in closed)
           or (r.kind == "repair_applied" and r.id not in closed
               and r.record_pk not in repaired and r.record_pk not in revoked)]
    return pl.DataFrame(out, orient="row", schema={
        "event_id": pl.Int64, "kind": pl.String, "filed_on": pl.Date, "reason": pl.String,
        "by": pl.String, "source": pl.String, "record_id": pl.String,
        "subject_id": pl.String, "subject_type": pl.String, "subject_name": pl.String,
        "behaviour_code": pl.String, "decided_on": pl.Date})
