"""Lawful disclosure (docs/semantics.md, "Publication"): which penalty records the public
may see on a day. Every public face (the app, reports, the API) filters records with
:func:`publishable_expr`; staff see everything, each record marked with
:func:`publication_status_expr`.

A record is public from the day it is recorded until the first of:
- its revocation (撤销: it never counted, so it is never shown again);
- its credit repair (信用修复: publication stops when the repair takes effect);
- its ``publish_until`` (公示截止期, stated by the publishing authority);
- the maximum publication period of an administrative penalty, :data:`MAX_PUBLICATION_DAYS`
  after the decision (NDRC Order 2023 No. 58, and Order 2025 No. 36 in force from
  2026-04-01: administrative-penalty information is published at least 3 months and at
  most 3 years; at the maximum, publication stops by itself).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from creditindex.days import to_date

MAX_PUBLICATION_DAYS = 3 * 365 + 1  # three years, counting one leap day
STATUSES = ("public", "not_yet_recorded", "revoked", "repaired", "publication_ended")


def _day(day: dt.date | int) -> pl.Expr:
    return pl.lit(to_date(day) if isinstance(day, int) else day, pl.Date)


def publication_status_expr(day: dt.date | int) -> pl.Expr:
    """Per record, why it may or may not be shown to the public on ``day``: one of
    :data:`STATUSES` (``public`` when it may)."""
    d = _day(day)
    decided = pl.col("decided_on")
    recorded = pl.coalesce(pl.col("recorded_on"), decided)
    last = pl.min_horizontal(
        decided + pl.duration(days=MAX_PUBLICATION_DAYS - 1),
        pl.coalesce(pl.col("publish_until"), decided + pl.duration(days=MAX_PUBLICATION_DAYS - 1)),
    )
    return (
        pl.when(pl.col("revoked_on").is_not_null() & (pl.col("revoked_on") <= d))
        .then(pl.lit("revoked"))
        .when(pl.col("repaired_on").is_not_null() & (pl.col("repaired_on") <= d))
        .then(pl.lit("repaired"))
        .when((recorded > d) | (decided > d))
        .then(pl.lit("not_yet_recorded"))
        .when(d > last)
        .then(pl.lit("publication_ended"))
        .otherwise(pl.lit("public"))
    )


def publishable_expr(day: dt.date | int) -> pl.Expr:
    """Whether a record (canonical columns) may be shown to the public on ``day``."""
    return publication_status_expr(day) == "public"


def publishable(records: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """The records the public may see on ``day``."""
    for column in ("publish_until", "recorded_on", "revoked_on", "repaired_on"):
        if column not in records.columns:
            records = records.with_columns(pl.lit(None, pl.Date).alias(column))
    return records.filter(publishable_expr(day))
