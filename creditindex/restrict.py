"""Restrictions (CONTRACT §4.7-8): every cause as dated intervals ``[start, end)`` on the
subject_id, which hold in every role, industry and region (一处受罚、处处受制).

Causes: a behaviour's ``restrict_days``, a restricted grade, an expert suspension, an
external list entry, a manual restriction entered by staff. ``end`` is the first day
without the restriction (null: indefinite). Pure functions over frames.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from creditindex.days import to_day
from creditindex.engine import first_day_reaching
from creditindex.rules import RuleSet

RESTRICTION_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "cause": pl.String(),        # behaviour | grade | suspension | list | manual
    "code": pl.String(),         # behaviour code, grade name, list name, ...
    "subject_type": pl.String(),  # the role it arose in (null for lists and manual)
    "record_id": pl.String(),
    "source": pl.String(),
    "document_no": pl.String(),
    "detail": pl.String(),
    "start": pl.Int32(),
    "end": pl.Int32(),
}
CAUSES = ("behaviour", "grade", "suspension", "list", "manual")
_OPEN = 10_000_000  # stands for "no end" inside numpy arithmetic


def _shape(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in RESTRICTION_SCHEMA if c not in frame.columns]
    filled = frame.with_columns(*(pl.lit(None, RESTRICTION_SCHEMA[c]).alias(c) for c in missing))
    return filled.select(list(RESTRICTION_SCHEMA)).cast(RESTRICTION_SCHEMA)  # type: ignore[arg-type]


def empty_restrictions() -> pl.DataFrame:
    """A restrictions frame with no rows."""
    return pl.DataFrame(schema=RESTRICTION_SCHEMA)


def behaviour_restrictions(ledger: pl.DataFrame) -> pl.DataFrame:
    """Restrictions from behaviours with ``restrict_days`` (ended early by a repair)."""
    rows = ledger.filter(pl.col("restrict_end").is_not_null()
                         & (pl.col("restrict_end") > pl.col("decided")))
    return _shape(rows.select(
        "subject_id", pl.lit("behaviour").alias("cause"), pl.col("behaviour_code").alias("code"),
        "subject_type", "record_id", "source", "document_no",
        pl.format("{} decided {}", pl.col("behaviour_code"),
                  pl.col("decided").cast(pl.Date).dt.strftime("%Y-%m-%d")).alias("detail"),
        pl.col("decided").alias("start"), pl.col("restrict_end").alias("end"),
    ))


def expert_suspensions(ledger: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Expert suspensions: from each decision whose own deduction reaches ``single_points``
    or whose ``window_days`` days (ending that day) sum to ``total_points``, for
    ``suspend_days``. Counts ``points x m`` of counted records, repaired ones included."""
    rule = rules.expert_suspension
    if rule is None:
        return empty_restrictions()
    per_day = (
        ledger.filter(pl.col("subject_type") == "expert")
        .group_by("subject_id", "decided")
        .agg(pl.col("amount").sum().alias("day_sum"), pl.col("amount").max().alias("day_max"),
             pl.col("behaviour_code").sort().str.join(",").alias("codes"))
        .sort("subject_id", "decided")
    )
    if per_day.height == 0:
        return empty_restrictions()
    code = per_day.get_column("subject_id").rank("dense").cast(pl.Int64).to_numpy()
    day = per_day.get_column("decided").cast(pl.Int64).to_numpy()
    key = code * (1 << 24) + day
    cum = np.cumsum(per_day.get_column("day_sum").to_numpy())
    first = np.searchsorted(key, key - rule.window_days, side="right")
    window = cum - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    eps = 1e-9
    hit = (per_day.get_column("day_max").to_numpy() >= rule.single_points - eps) | (
        window >= rule.total_points - eps)
    chosen = per_day.with_columns(pl.Series("window_sum", window)).filter(pl.Series(hit))
    return _shape(chosen.select(
        "subject_id", pl.lit("suspension").alias("cause"), pl.col("codes").alias("code"),
        pl.lit("expert").alias("subject_type"),
        pl.format("{} points in {} days (thresholds {} single / {} total)",
                  pl.col("window_sum").round(2), pl.lit(rule.window_days),
                  pl.lit(rule.single_points), pl.lit(rule.total_points)).alias("detail"),
        pl.col("decided").alias("start"),
        (pl.col("decided") + rule.suspend_days).alias("end"),
    ))


def grade_restrictions(timeline: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Restrictions from being in a restricted grade, found on the timeline's segments
    (within a linearly decaying segment, up to the day the index climbs out)."""
    pieces = []
    bounds = [(g, rules.grade[i - 1].min if i else None)
              for i, g in enumerate(rules.grade) if g.restricted]
    if not bounds or timeline.height == 0:
        return empty_restrictions()
    tl = timeline
    step = tl.get_column("step").to_numpy()
    lin0 = tl.get_column("lin0").to_numpy()
    slope = tl.get_column("slope").to_numpy()
    start = tl.get_column("start").cast(pl.Int64).to_numpy()
    stop = tl.get_column("stop").cast(pl.Int64).fill_null(_OPEN).to_numpy()
    for grade, upper in bounds:
        lo = first_day_reaching(rules, step, lin0, slope, start, stop, float(grade.min))
        hi = stop if upper is None else first_day_reaching(rules, step, lin0, slope, start,
                                                           stop, float(upper))
        pieces.append(tl.select("subject_id", "subject_type").with_columns(
            pl.lit(grade.name).alias("code"), pl.Series("start", lo), pl.Series("end", hi)))
    raw = pl.concat(pieces).filter(pl.col("end") > pl.col("start"))
    merged = _merge_touching(raw, ["subject_id", "subject_type", "code"])
    return _shape(merged.with_columns(
        pl.lit("grade").alias("cause"),
        pl.format("grade {} as {}", pl.col("code"), pl.col("subject_type")).alias("detail"),
        pl.when(pl.col("end") >= _OPEN).then(None).otherwise(pl.col("end")).alias("end"),
    ))


def _merge_touching(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Merge intervals of the same key that touch or overlap."""
    ordered = frame.sort([*key, "start"])
    reach = pl.col("end").cum_max().shift(1).over(key)
    run = (pl.col("start") > reach).fill_null(True).cast(pl.Int32).cum_sum().over(key)
    return ordered.with_columns(run.alias("_run")).group_by([*key, "_run"]).agg(
        pl.col("start").min(), pl.col("end").max()).drop("_run")


def list_restrictions(hits: pl.DataFrame) -> pl.DataFrame:
    """Restrictions from external list hits (``creditindex.lists.match_entries``):
    ``listed_on`` through ``until`` inclusive; no ``until`` is indefinite."""
    if hits.height == 0:
        return empty_restrictions()
    return _shape(hits.select(
        "subject_id", pl.lit("list").alias("cause"), pl.col("list").alias("code"),
        pl.col("entry_id").alias("record_id"), pl.col("list").alias("source"),
        pl.format("{} matched by {}: {}", pl.col("list"), pl.col("matched_by"),
                  pl.col("matched_name").fill_null("")).alias("detail"),
        pl.col("listed_on").cast(pl.Int32).alias("start"),
        (pl.col("until").cast(pl.Int32) + 1).alias("end"),
    ))


def manual_restrictions(manual: pl.DataFrame) -> pl.DataFrame:
    """Restrictions entered by staff: ``subject_id, start, until`` (inclusive, null =
    indefinite), ``reason``, optional ``document_no``."""
    if manual.height == 0:
        return empty_restrictions()
    doc = pl.col("document_no") if "document_no" in manual.columns else pl.lit(None, pl.String)
    return _shape(manual.select(
        "subject_id", pl.lit("manual").alias("cause"), pl.lit("manual").alias("code"),
        pl.lit("staff").alias("source"), doc.alias("document_no"),
        pl.col("reason").alias("detail"),
        pl.col("start").cast(pl.Int32).alias("start"),
        (pl.col("until").cast(pl.Int32) + 1).alias("end"),
    ))


def covering(restrictions: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """The restrictions in force on ``day``."""
    d = day if isinstance(day, int) else to_day(day)
    return restrictions.filter((pl.col("start") <= d)
                               & (pl.col("end").is_null() | (pl.col("end") > d)))


def grounds_text() -> pl.Expr:
    """One readable line per restriction: cause, what, until when."""
    until = pl.when(pl.col("end").is_null()).then(pl.lit("indefinite")).otherwise(
        (pl.col("end") - 1).cast(pl.Date).dt.strftime("%Y-%m-%d"))
    doc = pl.when(pl.col("document_no").is_not_null()).then(
        pl.format(" [{}]", pl.col("document_no"))).otherwise(pl.lit(""))
    return pl.format("{}: {}{} until {}", pl.col("cause"), pl.col("detail"), doc, until)
