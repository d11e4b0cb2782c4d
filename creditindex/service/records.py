"""A record's life as staff handle it: finding records, objections (异议) and their
decisions, credit repair (信用修复), manual restrictions, and changes that a second person
must approve. Every action checks the user's role first; the store checks it again and
audits the change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from creditindex.service.auth import Permission, User, require
from creditindex.service.state import ActionError, changed
from creditindex.store import approvals, lifecycle
from creditindex.store.db import StoreError

RECORD_LIST = ["source", "record_id", "subject_id", "subject_type", "subject_name",
               "behaviour_code", "decided_on", "document_no", "revoked_on", "repaired_on"]


def find_records(user: User, records: pl.DataFrame, query: str, limit: int = 200
                 ) -> pl.DataFrame:
    """Records (of the store's ``records``) whose subject code, subject name, record ID
    or document number contains ``query`` (staff only), newest decision first."""
    require(user, Permission.LIFECYCLE)
    q = query.strip().upper()
    if not q:
        return records.head(0).select(RECORD_LIST)
    hit = pl.any_horizontal(
        pl.col(c).fill_null("").str.to_uppercase().str.contains(q, literal=True)
        for c in ("subject_id", "subject_name", "record_id", "document_no"))
    return records.filter(hit).sort("decided_on", descending=True).head(limit).select(
        RECORD_LIST)


def events_of(url: str, user: User, source: str, record_id: str) -> pl.DataFrame:
    """A record's steps, oldest first (staff only)."""
    require(user, Permission.LIFECYCLE)
    return lifecycle.record_events(url, source, record_id)


def open_objection(events: pl.DataFrame) -> dict[str, Any] | None:
    """The record's objection awaiting a decision, if any (``events``:
    :func:`events_of`)."""
    decided = set(events.filter(pl.col("kind") == "objection_decided")
                  .get_column("refers_to").drop_nulls().to_list())
    pending = events.filter((pl.col("kind") == "objection_filed")
                            & ~pl.col("id").is_in(list(decided)))
    return pending.row(-1, named=True) if pending.height else None


def _store_call(url: str, user: User, permission: Permission, name: str, *args: Any,
                **kwargs: Any) -> Any:
    """Call the store's lifecycle function ``name`` as ``user`` after the role check."""
    require(user, permission)
    try:
        return getattr(lifecycle, name)(url, *args, user=user.username, **kwargs)
    except StoreError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        changed()


def file_objection(url: str, user: User, source: str, record_id: str, on: dt.date,
                   reason: str) -> int:
    """Register an objection (异议) to a record, in ``user``'s name (any signed-in user:
    the subject itself, or staff registering it on the subject's behalf)."""
    return int(_store_call(url, user, Permission.OBJECT, "file_objection", source,
                           record_id, reason=reason, on=on))


def decide_objection(url: str, user: User, source: str, record_id: str, on: dt.date,
                     upheld: bool, note: str | None, document_no: str | None
                     ) -> lifecycle.Decision:
    """Decide a record's open objection (upheld revokes the record from ``on``)."""
    decision: lifecycle.Decision = _store_call(
        url, user, Permission.LIFECYCLE, "decide_objection", source, record_id,
        upheld=upheld, on=on, note=note, document_no=document_no)
    return decision


def apply_repair(url: str, user: User, source: str, record_id: str, on: dt.date,
                 note: str | None) -> int:
    """Register an application for credit repair (信用修复), in ``user``'s name (any
    signed-in user). Returns the event id."""
    return int(_store_call(url, user, Permission.OBJECT, "apply_repair", source, record_id,
                           on=on, note=note))


def grant_repair(url: str, user: User, source: str, record_id: str, on: dt.date,
                 note: str | None, document_no: str | None) -> int:
    """Grant credit repair: the record stops counting from ``on``. Returns the event
    id."""
    return int(_store_call(url, user, Permission.LIFECYCLE, "grant_repair", source,
                           record_id, on=on, note=note, document_no=document_no))


def manual_restrictions(url: str, user: User) -> pl.DataFrame:
    """Every manual restriction with its end as lifted or amended since (staff only)."""
    require(user, Permission.LIFECYCLE)
    return lifecycle.manual_restrictions(url)


def open_steps(url: str, user: User) -> pl.DataFrame:
    """Objections awaiting a decision and repair applications not yet granted (staff)."""
    require(user, Permission.LIFECYCLE)
    return lifecycle.open_steps(url)


def _approval_permission(kinds: tuple[str, ...]) -> Permission:
    """Rule sets are published by regulators; manual restrictions are staff's."""
    return Permission.RULES if kinds == ("rules.publish",) else Permission.LIFECYCLE


def propose(url: str, user: User, kind: str, payload: dict[str, Any],
            note: str | None = None) -> int:
    """Ask for a change a second person must approve (rule sets: regulators; manual
    restrictions: staff). Returns the request's id."""
    require(user, _approval_permission((kind,)))
    try:
        return approvals.propose(url, kind, payload, user=user.username, note=note)
    except StoreError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        changed()


def decide_request(url: str, user: User, request_id: int, kind: str, outcome: str,
                   note: str | None = None) -> str | None:
    """Approve, reject or withdraw a request (the store refuses the proposer's own
    approval)."""
    require(user, _approval_permission((kind,)))
    try:
        return approvals.decide(url, request_id, user=user.username, outcome=outcome,
                                note=note)
    except StoreError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        changed()


def pending_requests(url: str, user: User, kinds: tuple[str, ...]
                     ) -> list[approvals.Request]:
    """Requests of ``kinds`` awaiting a decision."""
    require(user, _approval_permission(kinds))
    return approvals.requests(url, kinds=kinds)
