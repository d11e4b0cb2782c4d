"""One subject as the faces show it: its index over time, the deductions counted on a
day, its records (what the public may see of them), restrictions with their grounds,
objections and repairs; who may open which profile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import func, select

from creditindex import evaluate, wording
from creditindex.disclosure import publication_status_expr
from creditindex.evaluate import CreditData
from creditindex.identifiers import looks_personal
from creditindex.rules import SUBJECT_TYPES, RuleSet
from creditindex.service.auth import ANONYMOUS, Permission, User
from creditindex.service.state import ready_engine
from creditindex.store.db import read_transaction, table
from creditindex.store.load import load_data


@dataclass(frozen=True)
class Profile:
    """What the public may know of one subject on a day."""

    subject_id: str
    subject_type: str
    subject_name: str
    on: dt.date
    known_on: dt.date
    summary: dict[str, Any] | None
    history: pl.DataFrame
    deductions: pl.DataFrame
    records: pl.DataFrame
    grounds: pl.DataFrame
    events: pl.DataFrame


def behaviour_table(rules: RuleSet) -> pl.DataFrame:
    """The rule set's behaviours: code, names (Chinese and English), nominal points and
    days."""
    return pl.DataFrame({
        "behaviour_code": [b.code for b in rules.behaviour],
        "behaviour_name": [b.name for b in rules.behaviour],
        "behaviour_name_en": [b.name_en or b.name for b in rules.behaviour],
        "nominal_points": [float(b.points) for b in rules.behaviour],
        "days": [b.days for b in rules.behaviour]})


def behaviour_names(rules: RuleSet, lang: str) -> dict[str, str]:
    """Behaviour codes with their names in ``lang``."""
    return wording.behaviour_names(rules.behaviour, lang)


def visible_types(user: User) -> list[str]:
    """The subject types ``user`` may browse: experts only for staff and regulators
    (evaluation committees are confidential until the award)."""
    if user.may(Permission.CONFIDENTIAL):
        return list(SUBJECT_TYPES)
    return [s for s in SUBJECT_TYPES if s != "expert"]


def may_see(user: User, subject_id: str, subject_type: str) -> bool:
    """Whether ``user`` may open this subject's profile (experts, and anything shaped
    like a resident ID number, are staff-only)."""
    if user.may(Permission.CONFIDENTIAL):
        return True
    return subject_type != "expert" and not looks_personal(subject_id)


def grounds_for(url: str, subject_ids: Sequence[str], on: dt.date, known_on: dt.date
                ) -> pl.DataFrame:
    """Every restriction ground in force on ``on`` of a few subjects (a page of rows),
    from their rows alone (indexed reads: the whole store is never loaded for a page)."""
    if not subject_ids:
        return pl.DataFrame(schema={"subject_id": pl.String})
    ids = list(subject_ids)
    data = load_data(url, on=on, subject_ids=ids)
    return evaluate.check(data, on, ids, known_on=known_on).grounds


EVENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(), "record_id": pl.String(), "source": pl.String(), "kind": pl.String(),
    "effective_on": pl.Date(), "outcome": pl.String(), "document_no": pl.String(),
    "reason": pl.String(), "by": pl.String(), "at": pl.Datetime("us")}


def record_events(url: str, subject_id: str, subject_type: str | None = None,
                  known_on: dt.date | None = None) -> pl.DataFrame:
    """Objections, rulings, revocations and repairs of a subject's records (those dated
    up to ``known_on``), newest first."""
    ev, rec = table("record_event"), table("penalty_record")
    query = select(ev.c.id, rec.c.record_id, rec.c.source, ev.c.kind, ev.c.effective_on,
                   ev.c.outcome, ev.c.document_no, ev.c.reason, ev.c.by, ev.c.at).join(
        rec, rec.c.id == ev.c.record_pk).where(rec.c.subject_id == subject_id)
    if subject_type:
        query = query.where(rec.c.subject_type == subject_type)
    if known_on is not None:
        query = query.where(func.date(ev.c.at) <= known_on)
    with read_transaction(ready_engine(url)) as conn:
        rows = conn.execute(query.order_by(ev.c.id.desc())).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=EVENT_SCHEMA, orient="row")


def profile(url: str, data: CreditData, ranking: pl.DataFrame, name: str, subject_id: str,
            subject_type: str, on: dt.date, known_on: dt.date, start: dt.date,
            fixed_knowledge: bool, user: User = ANONYMOUS) -> Profile:
    """A subject's index from ``start`` to ``on`` (as published each day, or as known on
    ``known_on`` when ``fixed_knowledge``), the deductions counted on ``on``, its records,
    restrictions with their grounds, objections and repairs. ``data``: the store under
    the rule set in force on ``on``; ``ranking``: the day's ranking of ``subject_type``;
    ``name``: the subject's latest name. The public sees only publishable records."""
    row = ranking.filter(pl.col("subject_id") == subject_id)
    summary = row.row(0, named=True) if row.height else None
    hist = evaluate.history(data, subject_id, start, on, subject_type,
                            known_on=known_on if fixed_knowledge else None)
    names = behaviour_table(data.rules)
    deductions = evaluate.explain(data, subject_id, on, known_on, subject_type).join(
        names.select("behaviour_code", "behaviour_name_en"), on="behaviour_code", how="left")
    records = data.records.filter(
        (pl.col("subject_id") == subject_id) & (pl.col("subject_type") == subject_type)
        & (pl.col("recorded_on") <= known_on)
    ).drop("subject_name").join(names, on="behaviour_code", how="left").with_columns(
        (pl.col("decided_on") + pl.duration(days=pl.col("days"))).alias("nominal_end"),
        pl.when(pl.col("revoked_on") <= known_on).then(pl.col("revoked_on"))
        .alias("revoked_on"),
        pl.when(pl.col("repaired_on") <= known_on).then(pl.col("repaired_on"))
        .alias("repaired_on"),
    ).sort("decided_on", descending=True)
    counted = deductions.get_column("record_id").implode()
    records = records.with_columns(
        pl.when(pl.col("record_id").is_in(counted)).then(pl.lit("counted"))
        .when(pl.col("revoked_on").is_not_null()).then(pl.lit("revoked"))
        .when(pl.col("decided_on") > on).then(pl.lit("future"))
        .when(pl.col("repaired_on").is_not_null()).then(pl.lit("repaired"))
        .otherwise(pl.lit("expired")).alias("status"),
        publication_status_expr(on).alias("publication"))
    records = records.with_columns((pl.col("publication") == "public").alias("published"))
    events = record_events(url, subject_id, subject_type, known_on)
    if not user.may(Permission.CONFIDENTIAL):  # the public sees what may be published
        records = records.filter(pl.col("published"))
        events = events.filter(pl.col("record_id").is_in(
            records.get_column("record_id").implode()))
    grounds = evaluate.check(data, on, [subject_id], known_on=known_on).grounds
    return Profile(subject_id=subject_id, subject_type=subject_type, subject_name=name,
                   on=on, known_on=known_on, summary=summary, history=hist,
                   deductions=deductions, records=records, grounds=grounds, events=events)
