"""Eligibility checks as answered: what was asked, the answer, the evidence report and
who asked, kept so that the answer given on the day can be shown later."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select

from creditindex.evaluate import CheckResult
from creditindex.rules import RuleSet
from creditindex.store import audit
from creditindex.store.db import StoreError, get_engine, read_transaction, utcnow, write_transaction
from creditindex.store.migrations import ensure_schema
from creditindex.store.models import table
from creditindex.store.users import require_user


@dataclass(frozen=True)
class StoredCheck:
    """A stored eligibility check."""

    id: int
    created_at: dt.datetime
    by: str
    check_day: dt.date
    known_on: dt.date
    subject_ids: list[str]
    rules_hash: str
    inputs: dict[str, Any]
    answer: dict[str, Any]
    evidence_html: str | None


def answer_payload(result: CheckResult) -> dict[str, Any]:
    """A check's answer as JSON-friendly data: the table and every ground."""
    return {"table": audit.jsonable(result.table.to_dicts()),
            "grounds": audit.jsonable(result.grounds.to_dicts()),
            "on": result.on.isoformat(), "known_on": result.known_on.isoformat()}


def save_check(url: str | None, result: CheckResult, rules: RuleSet, *,
               inputs: dict[str, Any], evidence_html: str | None = None,
               user: str | None = None, actor: str | None = None) -> int:
    """Store an eligibility check (inputs, answer, evidence) made by ``user`` (any active
    user); without one, by ``actor`` (an anonymous visitor's session, as the app names
    it: ``anonymous:<session>``) or else the system actor. Returns its id."""
    engine = get_engine(url)
    ensure_schema(engine)
    ids = [str(s) for s in result.table.get_column("subject_id").to_list()]
    with write_transaction(engine) as conn:
        who = require_user(conn, user).name if user else (actor or audit.system_actor())
        key = conn.execute(insert(table("eligibility_check")).values(
            created_at=utcnow(), by=who, check_day=result.on, known_on=result.known_on,
            subject_ids=",".join(ids), rules_hash=rules.content_hash,
            inputs=audit.jsonable(inputs), answer=answer_payload(result),
            evidence_html=evidence_html)).inserted_primary_key
        assert key is not None
        audit.record(conn, who, "check.save", "eligibility_check", int(key[0]),
                     after={"check_day": result.on, "subjects": ids,
                            "rules_hash": rules.content_hash,
                            "eligible": result.table.get_column("eligible").to_list()})
    return int(key[0])


def count_checks(url: str | None, *, since: dt.datetime, by_prefix: str) -> tuple[int, int]:
    """How many checks actors whose name starts with ``by_prefix`` stored since
    ``since`` (UTC), and the bytes of their evidence reports."""
    engine = get_engine(url)
    ensure_schema(engine)
    checks = table("eligibility_check")
    with read_transaction(engine) as conn:
        row = conn.execute(select(func.count(), func.coalesce(func.sum(
            func.length(checks.c.evidence_html)), 0)).where(
            checks.c.created_at >= since, checks.c.by.startswith(by_prefix))).one()
    return int(row[0]), int(row[1])


def get_check(url: str | None, check_id: int) -> StoredCheck:
    """A stored check by id."""
    engine = get_engine(url)
    ensure_schema(engine)
    checks = table("eligibility_check")
    with read_transaction(engine) as conn:
        row = conn.execute(select(checks).where(checks.c.id == check_id)).first()
    if row is None:
        raise StoreError(f"no eligibility check #{check_id}")
    return StoredCheck(int(row.id), row.created_at, row.by, row.check_day, row.known_on,
                       row.subject_ids.split(",") if row.subject_ids else [], row.rules_hash,
                       dict(row.inputs), dict(row.answer), row.evidence_html)
