"""The scoring formula (docs/semantics.md §5): a day's deduction of a ledger row, the index
(base minus the deductions, not below the floor, rounded half away from zero), the grade,
whether it restricts, and the rank within a subject type. Polars expressions, so that
every face rounds and grades by the same definitions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from creditindex.days import to_day
from creditindex.engine.arrays import BoolArray, FloatArray, I32Array, IntArray
from creditindex.engine.codes import SUBJECT_KEY
from creditindex.rules import RuleSet

HALF_GUARD = 1e-9


def points_on(amount: FloatArray, nominal_end: I32Array, days: I32Array, linear: BoolArray,
              day: int | IntArray) -> FloatArray:
    """The deduction on ``day`` of ledger entries that count that day (semantics §5.2): the
    amount, or under a linear decay the amount x (nominal end - day) / days (arrays
    broadcast: a column of days gives a day x entry table)."""
    weight = np.where(linear, (nominal_end.astype(np.int64) - day) / days, 1.0)
    out: FloatArray = amount * weight
    return out


def deductions_on(ledger_frame: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """Ledger rows that deduct on ``day``, with ``points``: that day's deduction after the
    repeat factor and decay, and ``expires_on`` day (first day without it)."""
    d = day if isinstance(day, int) else to_day(day)
    rows = ledger_frame.filter((pl.col("decided") <= d) & (pl.col("end") > d))

    def column(name: str) -> np.ndarray:
        return rows.get_column(name).to_numpy()

    points = points_on(column("amount"), column("nominal_end"), column("days"),
                       column("linear"), d)
    return rows.with_columns(pl.Series("points", points, dtype=pl.Float64))


def round_half_away(expr: pl.Expr) -> pl.Expr:
    """Round to 2 decimals, half away from zero, as exact arithmetic would."""
    scaled = expr.abs() * 100 + 0.5 + HALF_GUARD
    # Whole cents first; the final round(2) makes 9757 cents exactly the double 97.57
    # (a bare division may be done as a multiplication by 0.01).
    return (expr.sign() * scaled.floor() / 100).round(2).cast(pl.Float64) + 0.0


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
