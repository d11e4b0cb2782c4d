"""The two-person rule (maker-checker): publishing a rule set and adding, lifting or
amending a manual restriction are proposed by one person and take effect only when a
second person approves. Requests and decisions are append-only and audited; the person
who proposed may withdraw a request but never approve it.

Kinds and who may propose and decide them:

- ``rules.publish`` (regulators): ``{"text", "effective_from", "note"}``. Refused when
  the same content is already published, or when its version name is one already used
  (a new rule set must carry a new version).
- ``restriction.add`` (staff): ``{"subject_id", "start", "until", "reason",
  "document_no"}``.
- ``restriction.lift`` / ``restriction.amend`` (staff): ``{"restriction_id", "on",
  "until", "reason", "document_no"}``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from creditindex.rules import parse_rules
from creditindex.store import audit
from creditindex.store.db import (
    StoreError,
    get_engine,
    read_transaction,
    table,
    utcnow,
    write_transaction,
)
from creditindex.store.lifecycle import (
    _check_restriction,
    change_restriction,
    insert_restriction,
    restriction,
)
from creditindex.store.migrations import ensure_schema
from creditindex.store.permissions import Permission
from creditindex.store.rulesets import publish_text
from creditindex.store.users import require_user

KINDS: dict[str, Permission] = {
    "rules.publish": Permission.RULES,
    "restriction.add": Permission.LIFECYCLE,
    "restriction.lift": Permission.LIFECYCLE,
    "restriction.amend": Permission.LIFECYCLE,
}
OUTCOMES = ("approved", "rejected", "withdrawn")


@dataclass(frozen=True)
class Request:
    """An approval request and its decision, if any."""

    id: int
    kind: str
    payload: dict[str, Any]
    proposed_by: str
    proposed_at: dt.datetime
    note: str | None
    outcome: str | None = None
    decided_by: str | None = None
    result_key: str | None = None


def _engine(url: str | None) -> Engine:
    engine = get_engine(url)
    ensure_schema(engine)
    return engine


def _date(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise StoreError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from exc


def _check_rules(conn: Connection, payload: dict[str, Any]) -> None:
    rules = parse_rules(str(payload.get("text") or ""), "rule set draft")
    versions = table("rule_set_version")
    same = conn.execute(select(versions.c.name, versions.c.version).where(
        versions.c.content_hash == rules.content_hash)).first()
    if same is not None:
        raise StoreError(f"identical to the published rule set {same.name} {same.version}: "
                         "nothing to publish")
    used = conn.execute(select(versions.c.id).where(
        versions.c.name == rules.ruleset.name,
        versions.c.version == rules.ruleset.version)).first()
    if used is not None:
        raise StoreError(f"version {rules.ruleset.version!r} of {rules.ruleset.name} is "
                         "already published with other content: give the draft a new version")
    if _date(payload.get("effective_from"), "effective_from") is None:
        raise StoreError("a rule set needs the day it takes effect")


def _check(conn: Connection, kind: str, payload: dict[str, Any]) -> None:
    """Refuse a request that could not be carried out as it stands."""
    if kind == "rules.publish":
        _check_rules(conn, payload)
    elif kind == "restriction.add":
        start = _date(payload.get("start"), "start")
        if start is None:
            raise StoreError("a restriction needs its first day")
        _check_restriction(str(payload.get("subject_id") or ""), start,
                           _date(payload.get("until"), "until"),
                           str(payload.get("reason") or ""))
    else:
        restriction(conn, int(payload.get("restriction_id") or 0))
        if not str(payload.get("reason") or "").strip():
            raise StoreError("a lift or an amendment needs a reason")


def propose(url: str | None, kind: str, payload: dict[str, Any], *, user: str,
            note: str | None = None) -> int:
    """Ask for a change that a second person must approve; checked now (and again when
    approved). Returns the request's id."""
    if kind not in KINDS:
        raise StoreError(f"unknown kind of request '{kind}' ({', '.join(KINDS)})")
    clean = audit.jsonable(payload)
    with write_transaction(_engine(url)) as conn:
        who = require_user(conn, user, KINDS[kind])
        _check(conn, kind, clean)
        key = conn.execute(insert(table("approval_request")).values(
            kind=kind, payload=clean, proposed_by=who.name, proposed_at=utcnow(), note=note)
        ).inserted_primary_key
        assert key is not None
        audit.record(conn, who.name, "approval.propose", "approval_request", int(key[0]),
                     after={"kind": kind, **_summary(kind, clean), "note": note})
    return int(key[0])


def _summary(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a request (not the whole rule-set text)."""
    if kind == "rules.publish":
        rules = parse_rules(str(payload.get("text") or ""), "rule set draft")
        return {"name": rules.ruleset.name, "version": rules.ruleset.version,
                "content_hash": rules.content_hash,
                "effective_from": payload.get("effective_from")}
    return dict(payload)


def _request(conn: Connection, request_id: int) -> Request:
    requests, decisions = table("approval_request"), table("approval_decision")
    row = conn.execute(select(requests).where(requests.c.id == request_id)).first()
    if row is None:
        raise StoreError(f"no approval request #{request_id}")
    done = conn.execute(select(decisions).where(decisions.c.request_id == request_id)).first()
    return Request(int(row.id), row.kind, dict(row.payload), row.proposed_by, row.proposed_at,
                   row.note, None if done is None else done.outcome,
                   None if done is None else done.decided_by,
                   None if done is None else done.result_key)


def _carry_out(conn: Connection, req: Request, checker: str) -> str:
    p = req.payload
    if req.kind == "rules.publish":
        note = p.get("note") or None
        published = publish_text(
            conn, str(p["text"]), "rule tuning page", req.proposed_by,
            _date(p.get("effective_from"), "effective_from") or dt.date.today(),
            f"{note or ''} (proposed by {req.proposed_by}, approved by {checker})".strip())
        return published.content_hash
    if req.kind == "restriction.add":
        return str(insert_restriction(
            conn, str(p["subject_id"]), entered_by=req.proposed_by,
            start=_date(p.get("start"), "start") or dt.date.today(), reason=str(p["reason"]),
            until=_date(p.get("until"), "until"), document_no=p.get("document_no") or None,
            approved_by=checker))
    kind = req.kind.split(".")[1]
    return str(change_restriction(
        conn, int(p["restriction_id"]), kind=kind, by=req.proposed_by,
        on=_date(p.get("on"), "on") or dt.date.today(), reason=str(p["reason"]),
        until=_date(p.get("until"), "until"), document_no=p.get("document_no") or None,
        approved_by=checker))


def decide(url: str | None, request_id: int, *, user: str, outcome: str,
           note: str | None = None) -> str | None:
    """Approve (carry the change out), reject or withdraw a request. Approving or
    rejecting needs a second person of the right role; only the proposer may withdraw.
    Returns what approval made (a rule set's hash, a restriction's or change's id)."""
    if outcome not in OUTCOMES:
        raise StoreError(f"unknown outcome '{outcome}' ({', '.join(OUTCOMES)})")
    with write_transaction(_engine(url)) as conn:
        req = _request(conn, request_id)
        who = require_user(conn, user, KINDS[req.kind])
        if req.outcome is not None:
            raise StoreError(f"request #{request_id} was already {req.outcome} "
                             f"by {req.decided_by}")
        if outcome == "withdrawn" and who.name != req.proposed_by:
            raise StoreError(f"only {req.proposed_by}, who proposed request #{request_id}, "
                             "may withdraw it")
        if outcome != "withdrawn" and who.name == req.proposed_by:
            raise StoreError(f"request #{request_id} needs a second person: {who.name} "
                             "proposed it and may not decide it")
        result = None
        if outcome == "approved":
            _check(conn, req.kind, req.payload)
            result = _carry_out(conn, req, who.name)
        conn.execute(insert(table("approval_decision")).values(
            request_id=request_id, outcome=outcome, decided_by=who.name, decided_at=utcnow(),
            note=note, result_key=result))
        audit.record(conn, who.name, f"approval.{outcome}", "approval_request", request_id,
                     after={"kind": req.kind, "proposed_by": req.proposed_by,
                            "result": result, "note": note})
    return result


def requests(url: str | None, *, pending_only: bool = True,
             kinds: tuple[str, ...] | None = None) -> list[Request]:
    """Approval requests, oldest first (by default only those awaiting a decision)."""
    reqs, decisions = table("approval_request"), table("approval_decision")
    query = select(reqs.c.id).order_by(reqs.c.id)
    if kinds:
        query = query.where(reqs.c.kind.in_(kinds))
    if pending_only:
        query = query.where(reqs.c.id.not_in(select(decisions.c.request_id)))
    with read_transaction(_engine(url)) as conn:
        return [_request(conn, int(i)) for i in conn.execute(query).scalars().all()]
