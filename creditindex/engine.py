"""The pure engine: records + rules + known-on day -> ledger -> scores, timeline.

Days are integers (days since 1970-01-01) inside; every function takes and returns
polars frames and does no I/O. Every number comes from the ledger: one row per
counted penalty record with its amount, its dates and its reason.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from creditindex.days import to_day
from creditindex.rules import RuleSet

SUBJECT_KEY = ["subject_id", "subject_type"]
# Rounding guard: float sums of a handful of terms err by ~1e-13; a true half-cent
# is nudged over the edge so that rounding is half away from zero as if exact.
_HALF_GUARD = 1e-9

LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "subject_type": pl.String(),
    "subject_name": pl.String(),
    "record_id": pl.String(),
    "source": pl.String(),
    "industry": pl.String(),
    "region": pl.String(),
    "behaviour_code": pl.String(),
    "document_no": pl.String(),
    "decided": pl.Int32(),
    "end": pl.Int32(),
    "nominal_end": pl.Int32(),
    "days": pl.Int32(),
    "factor": pl.Float64(),
    "amount": pl.Float64(),
    "linear": pl.Boolean(),
    "restrict_end": pl.Int32(),
    "repaired_from": pl.Int32(),
}


def behaviours_frame(rules: RuleSet) -> pl.DataFrame:
    """The rule set's behaviour catalogue as a frame keyed by ``behaviour_code``."""
    return pl.DataFrame(
        {
            "behaviour_code": [b.code for b in rules.behaviour],
            "_points": [float(b.points) for b in rules.behaviour],
            "days": [b.days for b in rules.behaviour],
            "_restrict_days": [b.restrict_days for b in rules.behaviour],
            "_repeat_days": [b.repeat_within_days for b in rules.behaviour],
            "_repeat_factor": [None if b.repeat_factor is None else float(b.repeat_factor)
                               for b in rules.behaviour],
            "linear": [b.decay == "linear" for b in rules.behaviour],
            "_min_publish": [b.min_publish_days or 0 for b in rules.behaviour],
        },
        schema_overrides={"days": pl.Int32, "_restrict_days": pl.Int32,
                          "_repeat_days": pl.Int32, "_min_publish": pl.Int32},
    )


def known_records(records: pl.DataFrame, known_on: int) -> pl.DataFrame:
    """Records as known on day ``known_on``: recorded by then, not revoked by then, and each
    act published by several sources (same subject, role, behaviour, day and document
    number) kept once, as the copy recorded first."""
    day = pl.col
    existing = records.with_columns(
        day("decided_on").cast(pl.Int32).alias("decided"),
        day("recorded_on").cast(pl.Int32).alias("_recorded"),
        day("revoked_on").cast(pl.Int32).alias("_revoked"),
        day("repaired_on").cast(pl.Int32).alias("_repaired"),
    ).filter(
        (pl.col("_recorded") <= known_on)
        & (pl.col("_revoked").is_null() | (pl.col("_revoked") > known_on))
    )
    act = [*SUBJECT_KEY, "behaviour_code", "decided", "document_no"]
    has_doc = pl.col("document_no").is_not_null() & (pl.col("document_no").str.strip_chars()
                                                     != "")
    first_copy = (
        pl.struct("_recorded", "source", "record_id").rank("ordinal").over(act) == 1
    )
    return existing.filter(~has_doc | first_copy)


def _repeat_factor(frame: pl.DataFrame) -> pl.Expr:
    """``m``: the factor when an earlier counted record of the same subject, role and
    behaviour was decided 1..repeat_within_days days before (same day is not earlier)."""
    gap = pl.col("decided") - pl.col("_prev_decided")
    return (
        pl.when(pl.col("_repeat_days").is_not_null() & (gap >= 1)
                & (gap <= pl.col("_repeat_days")))
        .then(pl.col("_repeat_factor"))
        .otherwise(1.0)
    )


def ledger(records: pl.DataFrame, rules: RuleSet, known_on: dt.date | int) -> pl.DataFrame:
    """One row per counted record as known on ``known_on``: its amount (points x repeat
    factor), the first day without it (``end``, repair included), its restriction end."""
    k = known_on if isinstance(known_on, int) else to_day(known_on)
    known = known_records(records, k).join(behaviours_frame(rules), on="behaviour_code",
                                           how="inner")
    group = [*SUBJECT_KEY, "behaviour_code"]
    prev = (
        known.select(*group, "decided").unique().sort([*group, "decided"])
        .with_columns(pl.col("decided").shift(1).over(group).alias("_prev_decided"))
    )
    known = known.join(prev, on=[*group, "decided"], how="left", nulls_equal=True)
    repaired_from = pl.when(pl.col("_repaired") <= k).then(
        pl.max_horizontal(pl.col("_repaired"), pl.col("decided") + pl.col("_min_publish")))
    nominal_end = pl.col("decided") + pl.col("days")
    out = known.with_columns(
        _repeat_factor(known).alias("factor"),
        repaired_from.cast(pl.Int32).alias("repaired_from"),
        nominal_end.cast(pl.Int32).alias("nominal_end"),
    ).with_columns(
        (pl.col("_points") * pl.col("factor")).alias("amount"),
        pl.min_horizontal("nominal_end", "repaired_from").cast(pl.Int32).alias("end"),
        pl.when(pl.col("_restrict_days").is_not_null()).then(
            pl.min_horizontal(pl.col("decided") + pl.col("_restrict_days"),
                              pl.col("repaired_from"))
        ).cast(pl.Int32).alias("restrict_end"),
    )
    return out.select(list(LEDGER_SCHEMA)).cast(LEDGER_SCHEMA).sort(  # type: ignore[arg-type]
        [*SUBJECT_KEY, "decided", "source", "record_id"])


def deductions_on(ledger_frame: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """Ledger rows that deduct on ``day``, with ``points``: that day's deduction after the
    repeat factor and decay, and ``expires_on`` day (first day without it)."""
    d = day if isinstance(day, int) else to_day(day)
    weight = pl.when(pl.col("linear")).then(
        (pl.col("nominal_end") - d).cast(pl.Float64) / pl.col("days")).otherwise(1.0)
    return ledger_frame.filter((pl.col("decided") <= d) & (pl.col("end") > d)).with_columns(
        (pl.col("amount") * weight).alias("points"))


def round_half_away(expr: pl.Expr) -> pl.Expr:
    """Round to 2 decimals, half away from zero, as exact arithmetic would."""
    scaled = expr.abs() * 100 + 0.5 + _HALF_GUARD
    return (expr.sign() * scaled.floor() / 100).cast(pl.Float64) + 0.0


def grade_expr(rules: RuleSet, index: pl.Expr) -> pl.Expr:
    """The grade name for a rounded index: the first grade whose ``min`` it reaches."""
    expr: pl.Expr = pl.lit(rules.grade[-1].name)
    for g in reversed(rules.grade[:-1]):
        expr = pl.when(index >= g.min).then(pl.lit(g.name)).otherwise(expr)
    return expr


def grade_restricted_expr(rules: RuleSet, grade: pl.Expr) -> pl.Expr:
    """Whether a grade name restricts the subject everywhere."""
    restricted = [g.name for g in rules.grade if g.restricted]
    return grade.is_in(restricted)


def index_expr(rules: RuleSet, deducted: pl.Expr) -> pl.Expr:
    """The rounded index from the total deduction (before the floor)."""
    return round_half_away(pl.max_horizontal(pl.lit(rules.floor), rules.base - deducted))


def scores_on(ledger_frame: pl.DataFrame, rules: RuleSet, day: dt.date | int,
              subjects: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per (subject_id, subject_type): ``deducted`` (before the floor), ``index``, ``grade``,
    ``grade_restricted`` on ``day``. Subjects are those of the ledger plus ``subjects``."""
    sums = deductions_on(ledger_frame, day).group_by(SUBJECT_KEY).agg(
        pl.col("points").sum().alias("deducted"))
    keys = ledger_frame.select(SUBJECT_KEY)
    if subjects is not None:
        keys = pl.concat([keys, subjects.select(SUBJECT_KEY)])
    out = keys.unique().join(sums, on=SUBJECT_KEY, how="left").with_columns(
        pl.col("deducted").fill_null(0.0))
    return out.with_columns(index_expr(rules, pl.col("deducted")).alias("index")).with_columns(
        grade_expr(rules, pl.col("index")).alias("grade"),
    ).with_columns(
        grade_restricted_expr(rules, pl.col("grade")).alias("grade_restricted"),
        round_half_away(pl.col("deducted")).alias("deducted"),
    )


def rank_expr() -> pl.Expr:
    """Competition rank within a subject type by index descending (1, 1, 3)."""
    return pl.col("index").rank(method="min", descending=True).over("subject_type").cast(
        pl.Int64)


def timeline(ledger_frame: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Change points: per subject, one row per segment ``[start, stop)`` over which the
    deduction is ``step + lin0 - slope * (day - start)`` (slope is 0 without linear decay).
    ``stop`` is null for the last, open segment (back at full marks)."""
    live = ledger_frame.filter(pl.col("end") > pl.col("decided"))
    lin = pl.col("linear")
    per_day = pl.col("amount") / pl.col("days")
    # Linear deductions are carried as amount*(nominal_end - origin)/days - slope*(d - origin)
    # with a small origin, so that the running sums stay well conditioned.
    lowest = live.get_column("decided").min() if live.height else None
    origin = lowest if isinstance(lowest, int) else 0
    lin_level = pl.col("amount") * (pl.col("nominal_end") - origin) / pl.col("days")
    zero = pl.lit(0.0)
    starts = live.select(
        *SUBJECT_KEY, pl.col("decided").alias("day"),
        pl.when(lin).then(zero).otherwise(pl.col("amount")).alias("d_step"),
        pl.when(lin).then(lin_level).otherwise(zero).alias("d_level"),
        pl.when(lin).then(per_day).otherwise(zero).alias("d_slope"),
    )
    stops = live.select(
        *SUBJECT_KEY, pl.col("end").alias("day"),
        pl.when(lin).then(zero).otherwise(-pl.col("amount")).alias("d_step"),
        pl.when(lin).then(-lin_level).otherwise(zero).alias("d_level"),
        pl.when(lin).then(-per_day).otherwise(zero).alias("d_slope"),
    )
    events = pl.concat([starts, stops]).group_by([*SUBJECT_KEY, "day"]).agg(
        pl.col("d_step").sum(), pl.col("d_level").sum(), pl.col("d_slope").sum(),
    ).sort([*SUBJECT_KEY, "day"])
    seg = events.with_columns(
        pl.col("d_step").cum_sum().over(SUBJECT_KEY).alias("step"),
        pl.col("d_level").cum_sum().over(SUBJECT_KEY).alias("_level"),
        pl.col("d_slope").cum_sum().over(SUBJECT_KEY).alias("slope"),
        pl.col("day").shift(-1).over(SUBJECT_KEY).alias("stop"),
    ).with_columns(
        # Sums that should be zero come back as tiny residues; snap them.
        *(pl.when(pl.col(c).abs() < 1e-9).then(0.0).otherwise(pl.col(c)).alias(c)
          for c in ("step", "slope")),
    ).with_columns(
        pl.when(pl.col("slope") == 0).then(0.0).otherwise(
            pl.col("_level") - pl.col("slope") * (pl.col("day") - origin)).alias("lin0"),
    ).rename({"day": "start"})
    deducted = pl.col("step") + pl.col("lin0")
    return seg.select(
        *SUBJECT_KEY, "start", "stop", "step", "lin0", "slope",
        index_expr(rules, deducted).alias("index_at_start"),
    ).with_columns(grade_expr(rules, pl.col("index_at_start")).alias("grade_at_start"))


def timeline_deducted_on(tl: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """As-of lookup in a timeline: per subject with a segment covering ``day``, ``deducted``."""
    d = day if isinstance(day, int) else to_day(day)
    current = tl.filter((pl.col("start") <= d) & (pl.col("stop").is_null()
                                                   | (pl.col("stop") > d)))
    return current.select(
        *SUBJECT_KEY,
        (pl.col("step") + pl.col("lin0") - pl.col("slope") * (d - pl.col("start")))
        .alias("deducted"),
    )


def first_day_reaching(rules: RuleSet, step: np.ndarray, lin0: np.ndarray, slope: np.ndarray,
                       start: np.ndarray, stop: np.ndarray, level: float) -> np.ndarray:
    """Per segment, the first day in ``[start, stop]`` whose rounded index is at least
    ``level`` (``stop`` when none is); the index never falls within a segment."""

    def rounded(day: np.ndarray) -> np.ndarray:
        ded = step + lin0 - slope * (day - start)
        raw = np.maximum(rules.floor, rules.base - ded)
        out: np.ndarray = np.sign(raw) * np.floor(np.abs(raw) * 100 + 0.5 + _HALF_GUARD) / 100
        return out

    # Solve base - step - lin0 + slope*(d - start) >= level - 0.005, then settle by checks.
    gap = (level - 0.005) - (rules.base - step - lin0)
    with np.errstate(divide="ignore", invalid="ignore"):
        guess = np.where(slope > 0, start + np.ceil(gap / np.where(slope > 0, slope, 1.0)),
                         np.where(rounded(start) >= level, start, stop))
    day = np.clip(guess, start, stop).astype(np.int64)
    for _ in range(3):
        inside = day < stop
        day = np.where(inside & (rounded(day) < level), day + 1, day)
        back = (day > start) & (rounded(np.maximum(day - 1, start)) >= level)
        day = np.where(back, day - 1, day)
    result: np.ndarray = np.minimum(day, stop)
    return result
