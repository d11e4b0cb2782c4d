"""Manual restrictions (人工限制) from a file, for the engine without the store.

The store keeps manual restrictions entered by staff (``creditindex restrict``) and
hands them to the engine as :attr:`creditindex.evaluate.CreditData.manual`. Where the
records come from files or a data lake (``--engine spark``), the same entries come from
a file with the columns of :data:`MANUAL_COLUMNS` (``until`` empty: indefinite), as the
store would export them with their lifts and amendments already applied.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from creditindex.dates import date_problem_expr, parse_date_expr
from creditindex.errors import MISSING_COLUMN, InputError, Problem
from creditindex.identifiers import id_problem
from creditindex.reason_exprs import as_reason

MANUAL_COLUMNS: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "start": pl.Date(), "until": pl.Date(), "reason": pl.String(),
    "document_no": pl.String()}
_REQUIRED = ("subject_id", "start", "reason")


def read_manual(path: str | Path) -> pl.DataFrame:
    """Manual restrictions from a CSV, Parquet or Excel file: ``subject_id, start,
    reason`` required, ``until`` (last restricted day; empty: indefinite) and
    ``document_no`` optional. Every row is checked; :class:`InputError` names file, row,
    column and reason of each problem."""
    from creditindex.readers import read_table

    file = str(path)
    frame = read_table(file)
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InputError([Problem(file, 1, c, MISSING_COLUMN) for c in missing])
    for c in ("until", "document_no"):
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(c))
    frame = frame.with_columns(pl.col("subject_id").str.strip_chars().str.to_uppercase(),
                               (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("_row"))
    problems: list[Problem] = []
    for row, sid, start, until, reason, start_why, until_why in frame.select(
            "_row", "subject_id", "start", "until", "reason",
            date_problem_expr("start").alias("_s"), date_problem_expr("until").alias("_u"),
    ).iter_rows():
        if sid is None:
            problems.append(Problem(file, row, "subject_id", "required value is empty"))
        elif (why := id_problem(sid)) is not None:
            problems.append(Problem(file, row, "subject_id", why))
        if start is None:
            problems.append(Problem(file, row, "start", "required value is empty"))
        elif start_why is not None:
            problems.append(Problem(file, row, "start", as_reason(start_why)))
        if until is not None and until_why is not None:
            problems.append(Problem(file, row, "until", as_reason(until_why)))
        if reason is None:
            problems.append(Problem(file, row, "reason", "required value is empty"))
    parsed = frame.with_columns(parse_date_expr("start").alias("start"),
                                parse_date_expr("until").alias("until"))
    if not problems:
        for row, start, until in parsed.filter(pl.col("until") < pl.col("start")).select(
                "_row", "start", "until").iter_rows():
            problems.append(Problem(file, row, "until",
                                    f"last restricted day {until} is before the start {start}"))
    if problems:
        raise InputError(problems)
    return parsed.select(list(MANUAL_COLUMNS)).cast(MANUAL_COLUMNS)  # type: ignore[arg-type]
