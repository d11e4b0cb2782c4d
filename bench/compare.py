"""Are two contenders' answers the same? Keys, days, grades, ranks and flags exactly;
deductions to 1e-6 points and the rounded index to 1e-9 (floating sums taken in another
order differ in the last bits; polars even divides by 100 differently in different
positions of a column)."""

from __future__ import annotations

import polars as pl

from bench.contenders import SNAPSHOT_KEY, TIMELINE_KEY

_TOLERANCE = {"step": 1e-6, "lin0": 1e-6, "slope": 1e-9, "deducted": 1e-6,
              "index_at_start": 1e-9, "index": 1e-9}


def normalise_timeline(frame: pl.DataFrame) -> pl.DataFrame:
    """A timeline with common dtypes, sorted by subject and start."""
    return frame.select(
        pl.col("subject_id", "subject_type").cast(pl.String),
        pl.col("start", "stop").cast(pl.Int64),
        pl.col("step", "lin0", "slope", "index_at_start").cast(pl.Float64),
        pl.col("grade_at_start").cast(pl.String),
    ).sort(TIMELINE_KEY)


def normalise_snapshot(frame: pl.DataFrame) -> pl.DataFrame:
    """A snapshot with common dtypes, sorted by subject."""
    return frame.select(
        pl.col("subject_id", "subject_type").cast(pl.String),
        pl.col("deducted", "index").cast(pl.Float64),
        pl.col("grade").cast(pl.String), pl.col("rank").cast(pl.Int64),
        pl.col("restricted").cast(pl.Boolean),
    ).sort(SNAPSHOT_KEY)


def normalise_eligibility(frame: pl.DataFrame) -> pl.DataFrame:
    """An eligibility answer: subject_id, eligible, sorted."""
    return frame.select(pl.col("subject_id").cast(pl.String),
                        pl.col("eligible").cast(pl.Boolean)).sort("subject_id")


def differences(a: pl.DataFrame, b: pl.DataFrame) -> list[str]:
    """What differs between two normalised frames (empty when they agree)."""
    if a.height != b.height:
        return [f"{a.height} rows against {b.height}"]
    problems = []
    for column in a.columns:
        x, y = a.get_column(column), b.get_column(column)
        tol = _TOLERANCE.get(column)
        if tol is None:
            bad = int((x.ne_missing(y)).sum())
        else:
            gap = (x - y).abs()
            bad = int(((gap > tol) | (x.is_null() != y.is_null())).sum())
        if bad:
            problems.append(f"{column}: {bad} rows differ")
    return problems
