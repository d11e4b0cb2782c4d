"""Penalty records (docs/semantics.md §2): the canonical frame, reading it from CSV, Parquet or
Excel, checking every row and merging copies of the same record."""

from __future__ import annotations

import datetime as dt
import os
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl

from creditindex.categories import scope_mask_expr, scope_text_expr
from creditindex.dates import FORMATS_HINT, MAX_DATE, MIN_DATE, date_problem_expr, parse_date_expr
from creditindex.errors import MISSING_COLUMN, InputError, Problem
from creditindex.identifiers import (
    rid_problem_expr,
    rid_valid_mask,
    uscc_problem_expr,
    uscc_valid_mask,
)
from creditindex.readers import decode_text as decode_text
from creditindex.readers import read_table as read_table
from creditindex.readers import table_part_readers, trimmed_text_expr
from creditindex.reason_exprs import as_reason, reason_expr
from creditindex.rules import SUBJECT_TYPES, RuleSet

REQUIRED = ("record_id", "source", "industry", "region", "subject_id", "subject_name",
            "subject_type", "behaviour_code", "decided_on")
OPTIONAL = ("recorded_on", "document_no", "revoked_on", "repaired_on", "restrict_until",
            "restrict_scope", "authority", "basis", "publish_until")
DATE_COLUMNS = ("decided_on", "recorded_on", "revoked_on", "repaired_on", "publish_until")
# A decision's stated bar without end (``restrict_until = permanent``) is kept as this date.
PERMANENT_DATE = dt.date(9999, 12, 31)
PERMANENT_WORDS = ("permanent", "永久")
INDUSTRIES = ("housing", "municipal", "transport", "water", "procurement", "land",
              "property", "medical", "other")

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "source": pl.String(),
    "industry": pl.String(),
    "region": pl.String(),
    "subject_id": pl.String(),
    "subject_name": pl.String(),
    "subject_type": pl.String(),
    "behaviour_code": pl.String(),
    "decided_on": pl.Date(),
    "recorded_on": pl.Date(),
    "document_no": pl.String(),
    "revoked_on": pl.Date(),
    "repaired_on": pl.Date(),
    "restrict_until": pl.Date(),
    "restrict_scope": pl.String(),
    "authority": pl.String(),
    "basis": pl.String(),
    "publish_until": pl.Date(),
}
# Where each row came from, kept while checking so problems can name file and row.
ORIGIN = ("_file", "_row")


def empty_records() -> pl.DataFrame:
    """A canonical records frame with no rows."""
    return pl.DataFrame(schema=RECORD_SCHEMA)


# The columns the engine's day answers read (``compute``, ``check``): a command that needs
# no other reads no other from a Parquet file. Columns that are checked are read and checked
# all the same (see :func:`read_records`), so a file is refused for the same problems.
SCORING_COLUMNS = ("record_id", "source", "subject_id", "subject_name", "subject_type",
                   "behaviour_code", "decided_on", "recorded_on", "document_no", "revoked_on",
                   "repaired_on", "restrict_until", "restrict_scope")
# Free text that no check reads: not read at all when the command does not need it.
_UNCHECKED = ("authority", "basis")
_FIRM_TYPES = ("bidder", "agent", "tenderer")


@dataclass(frozen=True)
class _Check:
    """One rule of a row: where ``condition`` holds, ``column`` has the problem ``reason``
    (computed only for those rows)."""

    column: str
    condition: pl.Expr
    reason: pl.Expr | str


def _problems_where(frame: pl.DataFrame, condition: pl.Expr, column: str,
                    reason: pl.Expr | str) -> list[Problem]:
    """One problem per row of ``frame`` where ``condition`` holds: those rows found first,
    in one piece, and then only their reasons worded (polars 2.1 was seen to fail to word
    the values of a filtered frame whose columns are in different numbers of pieces)."""
    r = reason if isinstance(reason, pl.Expr) else pl.lit(reason)
    rows = frame.lazy().filter(condition.fill_null(False)).select(
        {*ORIGIN, *r.meta.root_names()}).collect().rechunk()
    hits = rows.select(pl.col("_file"), pl.col("_row"), r.alias("_reason")).drop_nulls(
        "_reason")
    return [Problem(f, row, column, as_reason(why)) for f, row, why in hits.iter_rows()]


def _run_checks(frame: pl.DataFrame, checks: Sequence[_Check]) -> list[Problem]:
    """Every check's condition in one pass over ``frame`` (each a boolean 'any'); the
    problems, with their reasons, only of the checks that hold somewhere."""
    if not checks or frame.height == 0:
        return []
    hit = frame.lazy().select(
        c.condition.fill_null(False).any().alias(str(i)) for i, c in enumerate(checks)
    ).collect().row(0)
    problems: list[Problem] = []
    for found, check in zip(hit, checks, strict=True):
        if found:
            problems += _problems_where(frame, check.condition, check.column, check.reason)
    return problems


def _date_of(column: str, dtype: pl.DataType) -> pl.Expr:
    """A date column as Date: text read by the one parser; typed dates taken as they are
    (a datetime only at midnight), within the dates any date may name."""
    c = pl.col(column)
    if dtype == pl.Date:
        day = c
    elif isinstance(dtype, pl.Datetime):
        day = pl.when(_time_of_day(c) == 0).then(c.dt.date())
    else:
        return parse_date_expr(column)
    return pl.when(day.is_between(pl.lit(MIN_DATE), pl.lit(MAX_DATE))).then(day)


def _time_of_day(c: pl.Expr) -> pl.Expr:
    return (c.dt.hour().cast(pl.Int64) * 3600 + c.dt.minute().cast(pl.Int64) * 60
            + c.dt.second().cast(pl.Int64)) * 1_000_000_000 + c.dt.nanosecond().cast(pl.Int64)


def _date_problem(column: str, dtype: pl.DataType) -> pl.Expr:
    """Why a value of a date column is not a date (its words as :mod:`creditindex.dates`
    gives them for the same date written as text)."""
    c = pl.col(column)
    if dtype == pl.Date:
        return date_problem_expr(c.dt.strftime("%Y-%m-%d"))
    if isinstance(dtype, pl.Datetime):
        return (pl.when(_time_of_day(c) != 0)
                .then(reason_expr("problem.not_a_date", pl.format(
                    "not a date: '{}' has a time of day (a date is a whole day: {})",
                    c.dt.strftime("%Y-%m-%d %H:%M:%S"), pl.lit(FORMATS_HINT)),
                    value=c.dt.strftime("%Y-%m-%d %H:%M:%S")))
                .otherwise(date_problem_expr(c.dt.date().dt.strftime("%Y-%m-%d"))))
    return date_problem_expr(c.cast(pl.String))  # text, or categorical (_read_by_value)


# Text columns of few distinct values (codes, categories, days, authorities and the laws
# they apply): read untrimmed (:func:`creditindex.readers.read_table`'s ``as_read``; from a
# CSV file as categorical columns, :data:`CATEGORICAL`) and trimmed, read and checked once
# per distinct value by :func:`_read_by_value`, every row then taking its value's answers.
BY_VALUE = ("source", "industry", "region", "subject_type", "behaviour_code", "restrict_scope",
            "authority", "basis", *DATE_COLUMNS, "restrict_until")


# Long texts repeated on many rows: made one copy of each distinct text, each row's value
# pointing at it (a third of a large file's memory is otherwise the same authority name
# again).
_DEDUPLICATED = ("source", "behaviour_code", "authority", "basis")


# A column read by value has at most one distinct value in this many rows (else it is
# read row by row), judged first in its first rows.
_BY_ROW_SHARE = 4
_SAMPLE_ROWS = 4096

# What the checks trim themselves (see :func:`_read_by_value`, :func:`_identifier_checks`).
AS_READ = (*BY_VALUE, "subject_id")
# The columns read by value that a CSV reader gives as categorical columns (each column
# of its own type, the days of one type): each row's place among the distinct values is
# then found as the file is read.
CATEGORICAL = (*((c,) for c in BY_VALUE if c not in (*DATE_COLUMNS, "restrict_until")),
               (*DATE_COLUMNS, "restrict_until"))


def _is_text(dtype: pl.DataType) -> bool:
    """Whether a column of ``dtype`` is text to the checks: text, or categorical text
    (see :data:`CATEGORICAL`)."""
    return dtype == pl.String or isinstance(dtype, pl.Categorical)


class _Distinct:
    """The distinct values of some text columns of a frame, and each row's place among
    them, found at once by one hash of each row: the columns cast to a categorical type
    of their own (its categories are the values, a row's physical code its place), so
    that work done once per distinct value is taken by every row by a gather."""

    def __init__(self, dtype: pl.Categorical | None = None) -> None:
        self.dtype = dtype if dtype is not None else pl.Categorical(pl.Categories.random())

    @staticmethod
    def among(columns: Sequence[str]) -> pl.Expr:
        """The distinct values of some columns, nulls left out."""
        found = pl.col(columns[0]).drop_nulls().unique()
        for c in columns[1:]:
            found = found.append(pl.col(c).drop_nulls().unique())
        return found.unique() if len(columns) > 1 else found

    @staticmethod
    def of(schema: pl.Schema, columns: Sequence[str]) -> _Distinct:
        """The values of ``columns`` of a frame of ``schema``: of the categorical type one
        of them has already (a reader's: :data:`CATEGORICAL`), else of a new one."""
        for c in columns:
            dtype = schema[c]
            if isinstance(dtype, pl.Categorical):
                return _Distinct(dtype)
        return _Distinct()

    @property
    def values(self) -> pl.Series:
        """The distinct values met by :meth:`place` so far, in the order of their
        places."""
        return pl.Series("v", self.dtype.categories.to_series())

    def place(self, column: str) -> pl.Expr:
        """Each row's place among the values (a categorical column: null where the
        column is null)."""
        return pl.col(column).cast(self.dtype)

    def read(self, *exprs: pl.Expr) -> pl.DataFrame:
        """``exprs`` of ``pl.col("v")``, the distinct values, one row per value."""
        return pl.DataFrame({"v": self.values}).select(*exprs)


def _taken(values: pl.Series, place: str) -> pl.Expr:
    """``values`` (one per distinct value) taken by each row by its place (a
    categorical column of :meth:`_Distinct.place`; null where it is null)."""
    if values.len() == 0:
        return pl.lit(None, values.dtype)
    return pl.lit(values).gather(pl.col(place).to_physical())


def _read_by_value(raw: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """``raw`` with the text columns of :data:`BY_VALUE` trimmed (as the readers trim:
    :func:`creditindex.readers.trimmed_text_expr`) and read once per distinct value:
    ``subject_type`` and ``industry`` lower-cased, the text dates read by the one parser
    as ``_decided_on``, ... and ``_restrict_until`` (its words for a bar without end as
    :data:`PERMANENT_DATE`), the place of ``behaviour_code`` among the rule set's
    behaviours as ``_code`` and of ``subject_type`` in
    :data:`creditindex.rules.SUBJECT_TYPES` as ``_type``, the category mask of
    ``restrict_scope`` as ``_scope_mask`` (0 where empty) and its canonical text as
    ``_scope_text``, and whether ``industry`` is unknown and ``region`` malformed
    (``_industry_bad``, ``_region_bad``). Typed date columns are left to :func:`_date_of`.
    A text column (not categorical) whose values all read as written is kept as it is (no
    column made again), but for those of :data:`_DEDUPLICATED`, made one copy of each
    distinct text; the text dates then as categoricals of their texts (only read to word a
    problem)."""
    date_columns = (*DATE_COLUMNS, "restrict_until")

    def as_text(column: str, dtype: pl.DataType) -> bool:
        # made text first: neither text nor a typed date, or categorical text of the
        # process's categories (which are not this frame's values alone)
        if isinstance(dtype, pl.Categorical):
            return dtype.categories.is_global()
        return column not in date_columns and dtype != pl.String

    raw = raw.with_columns(pl.col(c).cast(pl.String) for c, dtype in raw.schema.items()
                           if c in BY_VALUE and as_text(c, dtype))
    text = [c for c in BY_VALUE if _is_text(raw.schema[c])]
    dates = [c for c in date_columns if c in text]
    groups = {**{c: [c] for c in text if c not in dates}, **({"_days": dates} if dates else {})}
    # A column of many distinct values (more than a share of its rows, first in its first
    # rows) is read row by row instead, by the same expressions: finding its distinct
    # values, and a categorical of as many, cost more.
    sample = raw.head(_SAMPLE_ROWS).select(pl.col(c).cast(pl.String) for c in text)
    seen = sample.select(_Distinct.among(cs).len().alias(n) for n, cs in groups.items())
    rows = {n for n in groups if seen.get_column(n).item() * _BY_ROW_SHARE > sample.height}
    found = {n: _Distinct.of(raw.schema, groups[n]) for n in groups if n not in rows}
    frame = raw.with_columns(d.place(c).alias(f"_at_{c}") for n, d in found.items()
                             for c in groups[n])
    many = {n for n, d in found.items() if d.values.len() * _BY_ROW_SHARE > raw.height}
    rows |= many
    frame = frame.drop(f"_at_{c}" for n in many for c in groups[n])
    found = {n: d for n, d in found.items() if n not in many}
    places = [f"_at_{c}" for n in found for c in groups[n]]
    days = found.pop("_days", None)  # found: the other columns read by value
    codes = [b.code for b in rules.behaviour]
    v = trimmed_text_expr(pl.col("v"))
    lower = v.str.to_lowercase()
    scope = pl.when(v.is_null()).then(pl.lit(0, pl.Int64)).otherwise(scope_mask_expr("v"))
    read = {
        **{c: [v.alias(c)] for c in ("source", "authority", "basis")},
        "region": [v.alias("region"), (v.is_not_null() & ~v.str.contains(r"^\d{6}$"))
                   .alias("_region_bad")],
        "industry": [lower.alias("industry"), (lower.is_not_null() & ~lower.is_in(INDUSTRIES))
                     .alias("_industry_bad")],
        "subject_type": [lower.alias("subject_type"), lower.replace_strict(
            SUBJECT_TYPES, range(len(SUBJECT_TYPES)), default=None, return_dtype=pl.Int32
        ).alias("_type")],
        "behaviour_code": [v.alias("behaviour_code"), v.replace_strict(
            codes, range(len(codes)), default=None, return_dtype=pl.Int32).alias("_code")],
        "restrict_scope": [v.alias("restrict_scope"), scope.alias("_scope_mask"),
                           pl.when(scope > 0).then(scope_text_expr(scope)).alias("_scope_text")],
    }
    out: list[pl.Expr | pl.Series] = []
    for c, d in found.items():
        for series in d.read(*read[c]).iter_columns():
            if (series.name != c or c in _DEDUPLICATED or raw.schema[c] != pl.String
                    or not series.equals(d.values)):
                out.append(_taken(series, f"_at_{c}").alias(series.name))
            else:
                out.append(frame.get_column(c).rechunk())
    read["_days"] = [v.alias("text"), parse_date_expr(v).alias("date"),
                     pl.when(v.str.to_lowercase().is_in(PERMANENT_WORDS))
                     .then(pl.lit(PERMANENT_DATE)).otherwise(parse_date_expr(v)).alias("until")]
    for name in sorted(rows):
        for c in dates if name == "_days" else [name]:
            found_rows = frame.select(pl.col(c).cast(pl.String).alias("v")).select(
                read[name]).rechunk()
            if name == "_days":
                found_rows = found_rows.select(
                    pl.col("text").alias(c),
                    pl.col("until" if c == "restrict_until" else "date").alias(f"_{c}"))
            out += found_rows.get_columns()
    if days is not None:
        read_days = days.read(*read["_days"])
        as_written = read_days.get_column("text").equals(days.values)
        for c in dates:
            # The text of a date is only read to word a problem: kept as its categorical when
            # every text reads as written (no copy of the column).
            out.append(pl.col(f"_at_{c}").alias(c) if as_written else
                       _taken(read_days.get_column("text"), f"_at_{c}").alias(c))
            out.append(_taken(read_days.get_column("until" if c == "restrict_until"
                                                   else "date"), f"_at_{c}").alias(f"_{c}"))
    frame = frame.with_columns(out).drop(places)
    # an empty scope (and a column no reader made text) reads as no scope
    return frame.with_columns(pl.col("_scope_mask").fill_null(0))


def check_rows(raw: pl.DataFrame, rules: RuleSet, today: dt.date) -> tuple[pl.DataFrame,
                                                                              list[Problem]]:
    """Check rows (text, or typed dates; with origin columns) and convert them to the
    canonical schema. Every check is one vectorised pass; reasons are worded only for the
    rows that have a problem."""
    frame, problems = checked_rows(raw, rules, today)
    return _canonical(frame), problems


def _canonical(frame: pl.DataFrame, *more: pl.Expr) -> pl.DataFrame:
    """Rows read by :func:`checked_rows` in the canonical schema (with origin columns),
    and the columns ``more`` of ``frame``."""
    return frame.select(
        *(pl.col(c) for c in ("record_id", "source", "industry", "region", "subject_id",
                              "subject_name", "subject_type", "behaviour_code")),
        pl.col("_decided_on").alias("decided_on"),
        pl.coalesce("_recorded_on", "_decided_on").alias("recorded_on"),
        pl.col("document_no"),
        pl.col("_revoked_on").alias("revoked_on"),
        pl.col("_repaired_on").alias("repaired_on"),
        pl.col("_restrict_until").alias("restrict_until"),
        pl.col("_scope_text").alias("restrict_scope"),
        pl.col("authority"),
        pl.col("basis"),
        pl.col("_publish_until").alias("publish_until"),
        *ORIGIN,
        *more,
    )


def checked_rows(raw: pl.DataFrame, rules: RuleSet, today: dt.date
                 ) -> tuple[pl.DataFrame, list[Problem]]:
    """The checks of :func:`check_rows`: ``raw`` with its values read (the columns of
    :data:`AS_READ` trimmed, as a reader trims, whether ``raw`` is trimmed or not;
    ``subject_id`` upper-cased, ``subject_type`` and ``industry`` lower-cased; the dates
    read as ``_decided_on``, ``_recorded_on``, ... and ``_restrict_until``; the category
    mask of ``restrict_scope`` as ``_scope_mask``; the place of ``behaviour_code`` among
    the rule set's behaviours as ``_code`` and of ``subject_type`` in
    :data:`creditindex.rules.SUBJECT_TYPES` as ``_type``: see :func:`_read_by_value`),
    and the problems found."""
    kinds = raw.schema
    codes = [b.code for b in rules.behaviour]
    behaviour = {b.code: b for b in rules.behaviour}
    type_no = {t: i for i, t in enumerate(SUBJECT_TYPES)}
    allowed = [codes.index(b.code) * 8 + type_no[t] for b in rules.behaviour
               for t in b.subject_types if t in type_no]
    frame = _read_by_value(raw, rules).with_columns(
        *(_date_of(c, kinds[c]).alias(f"_{c}") for c in (*DATE_COLUMNS, "restrict_until")
          if not _is_text(kinds[c])),
    )
    frame = frame.with_columns(
        # each behaviour's facts taken by its place (a gather: no hashing of every row)
        *(pl.lit(pl.Series(values, dtype=dtype)).gather(pl.col("_code")).alias(name)
          for name, values, dtype in (
              ("_bars", [behaviour[c].restricts for c in codes], pl.Boolean),
              ("_range_min", [behaviour[c].restrict_min_days for c in codes], pl.Int64),
              ("_range_max", [behaviour[c].restrict_max_days for c in codes], pl.Int64),
              ("_beh_scope", [behaviour[c].scope_mask() for c in codes], pl.Int64)))
    )
    frame, id_checks = _identifier_checks(frame)
    st, code = pl.col("subject_type"), pl.col("behaviour_code")
    dec = pl.col("_decided_on")
    checks = [_Check(c, pl.col(c).is_null(), "required value is empty") for c in REQUIRED]
    checks += [_Check(c, pl.col(c).is_not_null() & pl.col(f"_{c}").is_null(),
                      _date_problem(c, kinds[c])) for c in DATE_COLUMNS]
    checks += [
        _Check("subject_type", st.is_not_null() & pl.col("_type").is_null(),
               pl.format("unknown subject type '{}' (use bidder, agent, tenderer or expert)",
                         st)),
        *id_checks,
        _Check("industry", pl.col("_industry_bad"),
               reason_expr("problem.industry", pl.format(
                   "unknown industry '{}' (use one of {})", pl.col("industry"),
                   pl.lit(", ".join(INDUSTRIES))), value=pl.col("industry"),
                   known=", ".join(INDUSTRIES))),
        _Check("region", pl.col("_region_bad"),
               reason_expr("problem.region", pl.format(
                   "region must be a 6-digit administrative code, not '{}'",
                   pl.col("region")), value=pl.col("region"))),
        _Check("behaviour_code", code.is_not_null() & pl.col("_code").is_null(),
               reason_expr("problem.unknown_code", pl.format(
                   "unknown behaviour code '{}' in rule set {}", code,
                   pl.lit(f"{rules.ruleset.name} {rules.ruleset.version}")), code=code,
                   rules=f"{rules.ruleset.name} {rules.ruleset.version}")),
        _Check("behaviour_code", pl.col("_code").is_not_null() & pl.col("_type").is_not_null()
               & ~(pl.col("_code") * 8 + pl.col("_type")).is_in(allowed),
               reason_expr("problem.code_type", pl.format(
                   "behaviour '{}' does not apply to subject type '{}'", code, st),
                   code=code, type=st)),
        _Check("decided_on", dec > pl.lit(today),
               reason_expr("problem.decided_future", pl.format(
                   "decided_on {} is after the import day {}", dec, pl.lit(today.isoformat())),
                   day=dec, today=today.isoformat())),
    ]
    checks += [_Check(c, pl.col(f"_{c}") < dec,
                      reason_expr(f"problem.{word}_early", pl.format(
                          f"{word} on {{}} is before decided_on {{}}", pl.col(f"_{c}"), dec),
                          day=pl.col(f"_{c}"), decided=dec))
               for c, word in (("recorded_on", "recorded"), ("revoked_on", "revoked"),
                               ("repaired_on", "repaired"))]
    checks.append(_Check("publish_until", pl.col("_publish_until") < dec,
                         reason_expr("problem.publish_early", pl.format(
                             "publish_until {} is before decided_on {}",
                             pl.col("_publish_until"), dec),
                             day=pl.col("_publish_until"), decided=dec)))
    checks += _stated_bar_checks()
    return frame, _run_checks(frame, checks)


def _identifier_checks(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[_Check]]:
    """``frame`` with ``subject_id`` trimmed and upper-cased, and the checks of the USCC
    of firms and the resident IDs of experts: each ID pre-checked fast as written
    (:func:`uscc_valid_mask`), the exact rule worded only for the IDs left in doubt. An ID
    surely valid as written is trimmed and upper case already: only the others are
    trimmed and upper-cased (most rows are not rewritten). A subject's kind is read from
    ``_type`` (its place in :data:`creditindex.rules.SUBJECT_TYPES`) when the frame has
    it."""
    sid = pl.col("subject_id")
    kinds = ((_FIRM_TYPES, uscc_valid_mask, uscc_problem_expr),
             (("expert",), rid_valid_mask, rid_problem_expr))

    def of(types: Sequence[str]) -> pl.Expr:
        if "_type" in frame.columns:
            return pl.col("_type").is_in([SUBJECT_TYPES.index(t) for t in types])
        return pl.col("subject_type").is_in(types)

    rows = frame.select(*((of(types) & sid.is_not_null()).fill_null(False).alias(str(i))
                          for i, (types, _, _) in enumerate(kinds)),
                        sid.is_not_null().alias("id"))
    ids = frame.get_column("subject_id").rechunk()
    frame = frame.with_columns(ids)
    sure = np.zeros(frame.height, dtype=np.bool_)
    # Every row's ID, not the distinct ones: most IDs of a part are distinct, and
    # finding them costs more than the pre-check.
    for i, (_, valid, _) in enumerate(kinds):
        of_kind = rows.get_column(str(i))
        sure[of_kind.to_numpy()] = valid(ids.filter(of_kind))
    redo = np.flatnonzero(rows.get_column("id").to_numpy() & ~sure)
    if redo.size * 4 > frame.height:  # most rows: the whole column (the same values)
        ids = frame.select(trimmed_text_expr(sid).str.to_uppercase()).to_series()
        frame = frame.with_columns(ids)
    elif redo.size:
        at = pl.Series(redo)
        ids = ids.clone().scatter(at, pl.select(trimmed_text_expr(pl.lit(ids.gather(at)))
                                                .str.to_uppercase()).to_series())
        frame = frame.with_columns(ids)
    checks = []
    for i, (types, valid, problem) in enumerate(kinds):
        of_kind = rows.get_column(str(i))
        left = ids.filter(of_kind & pl.Series(~sure)).drop_nulls()
        doubtful = left.filter(pl.Series(~valid(left))).unique()
        if doubtful.len():
            checks.append(_Check("subject_id", of(types) & sid.is_not_null()
                                 & sid.is_in(doubtful.implode()), problem("subject_id")))
    return frame, checks


def _stated_bar_checks() -> list[_Check]:
    """A decision's stated bar (``restrict_until``, ``restrict_scope``): readable, on a
    behaviour that bars, within its statutory range and no wider than its scope
    (docs/semantics.md, "Restrictions")."""
    until, dec, stated = pl.col("restrict_until"), pl.col("_decided_on"), pl.col(
        "_restrict_until")
    shown = until.cast(pl.String)  # text, categorical (_read_by_value), or a date
    period = (stated - dec).dt.total_days() + 1
    bounded = pl.col("_range_min").is_not_null() & stated.is_not_null() & (stated >= dec)
    is_permanent = stated == pl.lit(PERMANENT_DATE)
    mask = pl.col("_scope_mask")
    return [
        _Check("restrict_until", until.is_not_null() & stated.is_null(),
               pl.format("not a date or 'permanent': '{}' (use YYYY-MM-DD)", shown)),
        _Check("restrict_until", until.is_not_null() & (pl.col("_bars") == False),  # noqa: E712
               pl.format("behaviour {} imposes no bar, so a decision cannot state one",
                         pl.col("behaviour_code"))),
        _Check("restrict_scope",
               pl.col("restrict_scope").is_not_null() & (pl.col("_bars") == False),  # noqa: E712
               pl.format("behaviour {} imposes no bar, so a decision cannot state its scope",
                         pl.col("behaviour_code"))),
        _Check("restrict_until", stated < dec,
               pl.format("restrict_until {} is before decided_on {}", stated, dec)),
        _Check("restrict_until", bounded & is_permanent,
               pl.format("permanent is outside the statutory range {}-{} days of {}",
                         pl.col("_range_min"), pl.col("_range_max"),
                         pl.col("behaviour_code"))),
        _Check("restrict_until", bounded & ~is_permanent
               & ((period < pl.col("_range_min")) | (period > pl.col("_range_max"))),
               pl.format("the stated bar of {} days is outside the statutory range {}-{} "
                         "days of {}", period, pl.col("_range_min"), pl.col("_range_max"),
                         pl.col("behaviour_code"))),
        _Check("restrict_scope", mask == -1,
               pl.format("unknown category in '{}' (use engineering, procurement, land, "
                         "property, other or all, separated by |)", pl.col("restrict_scope"))),
        _Check("restrict_scope", (mask > 0) & pl.col("_beh_scope").is_not_null()
               & ((mask & ~pl.col("_beh_scope")) != 0),
               pl.format("scope '{}' is wider than behaviour {}'s scope '{}'",
                         pl.col("restrict_scope"), pl.col("behaviour_code"),
                         scope_text_expr(pl.col("_beh_scope")))),
    ]


def _with_origin(frame: pl.DataFrame, file: str, offset: int = 0) -> pl.DataFrame:
    """``frame``'s record columns in order (an absent optional one empty) and the origin
    of each row (file, line). One select: reordering added constants in a second select
    makes them whole columns (a part then takes ~15 times longer here)."""
    return frame.select(
        *REQUIRED,
        *(pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c)
          for c in OPTIONAL),
        pl.lit(file).alias("_file"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2 + offset).alias("_row"),
    )


# What identifies a record (copies of one are merged: :func:`merge_copies`), and the
# column of its hash (:func:`record_key_hash_expr`) that a part may carry, hashed on the
# reading threads.
RECORD_KEY = ("source", "record_id")
RECORD_KEY_HASH = "_record_key"


def record_key_hash_expr() -> pl.Expr:
    """A 64-bit hash of each row's record key (source, record_id), equal for equal keys:
    its columns' hashes folded (each one's hash of the hash so far, xor the next column's),
    a tenth of the cost of hashing a struct of them."""
    folded = pl.col(RECORD_KEY[0]).hash()
    for column in RECORD_KEY[1:]:
        folded = folded.hash() ^ pl.col(column).hash()
    return folded


def _may_repeat(hashes: pl.Series) -> bool:
    """Whether two rows may have the same record key: two equal ``hashes`` of it (found by
    a sort, lighter than a hash table of every row)."""
    from creditindex.engine.arrays import sort_values  # (the engine imports this module)

    ordered = sort_values(hashes.to_numpy())
    return bool((ordered[1:] == ordered[:-1]).any())


def merge_copies(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Merge rows with the same (source, record_id), in order of appearance (the rows'
    hashes of it taken from their column :data:`RECORD_KEY_HASH` when they have it).

    A later copy may only fill in ``revoked_on`` or ``repaired_on``; any other
    difference is a conflict, reported on the later copy.
    """
    key = list(RECORD_KEY)
    hashes = (frame.get_column(RECORD_KEY_HASH) if RECORD_KEY_HASH in frame.columns
              else frame.select(record_key_hash_expr()).to_series())
    if not _may_repeat(hashes):
        return frame.select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA), []  # type: ignore[arg-type]
    ordered = frame.with_row_index("_order")
    fixed = [c for c in RECORD_SCHEMA if c not in ("revoked_on", "repaired_on", *key)]
    problems: list[Problem] = []
    dup = ordered.filter(pl.len().over(key) > 1)
    if dup.height:
        firsts = dup.sort("_order").group_by(key, maintain_order=True).agg(
            *(pl.col(c).first().alias(f"_first_{c}") for c in fixed),
            *(pl.col(c).drop_nulls().first().alias(f"_first_{c}")
              for c in ("revoked_on", "repaired_on")),
            pl.col("_file").first().alias("_first_file"),
            pl.col("_row").first().alias("_first_row"),
        )
        cmp = dup.join(firsts, on=key)
        where = pl.format(" (first seen in {} row {})", pl.col("_first_file"),
                          pl.col("_first_row"))
        for c in fixed:
            problems += _problems_where(
                cmp, pl.col(c).ne_missing(pl.col(f"_first_{c}")), c,
                pl.concat_str(pl.lit(f"conflicts with an earlier copy of this record: {c} "),
                              pl.col(c).cast(pl.String).fill_null("(empty)"), pl.lit(" != "),
                              pl.col(f"_first_{c}").cast(pl.String).fill_null("(empty)"),
                              where))
        for c in ("revoked_on", "repaired_on"):
            problems += _problems_where(
                cmp, pl.col(c).is_not_null() & pl.col(f"_first_{c}").is_not_null()
                & (pl.col(c) != pl.col(f"_first_{c}")), c,
                pl.concat_str(pl.lit(f"conflicts with an earlier copy of this record: {c} "),
                              pl.col(c).cast(pl.String), pl.lit(" != "),
                              pl.col(f"_first_{c}").cast(pl.String), where))
    merged = ordered.sort("_order").group_by(key, maintain_order=True).agg(
        *(pl.col(c).first() for c in fixed),
        *(pl.col(c).drop_nulls().first() for c in ("revoked_on", "repaired_on")),
    ).select(list(RECORD_SCHEMA))
    return merged.cast(RECORD_SCHEMA), problems  # type: ignore[arg-type]


def read_records(paths: Sequence[str | Path], rules: RuleSet,
                 today: dt.date | None = None,
                 columns: Collection[str] | None = None) -> pl.DataFrame:
    """Read, check and merge record files into one canonical frame.

    ``columns``: the columns the caller needs (e.g. :data:`SCORING_COLUMNS`); the others
    are empty in the result, and those no check reads (``authority``, ``basis``) are not
    read at all. Every other column is read and checked whatever ``columns`` says, so a
    file is refused for the same problems.

    Raises :class:`InputError` listing every problem in every file; nothing is
    returned unless every row of every file is good.
    """
    read = None if columns is None else {*columns, *REQUIRED, *OPTIONAL} - (
        set(_UNCHECKED) - set(columns))

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        # the record keys hashed here, on the reading threads, for merge_copies (in the
        # same select: a second one copied the part again)
        checked = _canonical(frame, record_key_hash_expr().alias(RECORD_KEY_HASH))
        if columns is None:
            return checked
        # the columns not asked for are dropped as soon as they are checked
        return checked.with_columns(pl.lit(None, RECORD_SCHEMA[c]).alias(c)
                                    for c in RECORD_SCHEMA if c not in columns)

    parts, _ = read_checked_parts(paths, rules, today or dt.date.today(), read, keep)
    return combine(parts)


def read_checked_parts(paths: Sequence[str | Path], rules: RuleSet, today: dt.date,
                       read: Collection[str] | None,
                       keep: Callable[[pl.DataFrame], pl.DataFrame]
                       ) -> tuple[list[pl.DataFrame], list[int]]:
    """Every part of every record file (:func:`creditindex.readers.read_table_parts`,
    only the columns ``read``) checked by :func:`checked_rows` and kept as ``keep`` makes
    it; with the first row of each file among all the rows. Raises :class:`InputError`
    listing every problem in every file (once one is found, nothing more is kept).

    The parts of a file are read, checked and kept on :data:`PART_WORKERS` threads at once
    (polars and numpy release the GIL), a few parts ahead of the one taken in file order,
    so that the answer, the problems and their order are those of one part after
    another, and the working memory that of a few parts."""
    problems: list[Problem] = []
    parts: list[pl.DataFrame] = []
    starts: list[int] = []
    rows = 0

    def check(path: str, offset: int, reader: Callable[[], pl.DataFrame]
              ) -> tuple[int, list[str], list[Problem], pl.DataFrame | None]:
        raw = reader()
        absent = [c for c in REQUIRED if c not in raw.columns]
        if absent:
            return raw.height, absent, [], None
        height = raw.height
        frame, found = checked_rows(_with_origin(raw, path, offset), rules, today)
        del raw
        return height, [], found, None if found else keep(frame)

    with ThreadPoolExecutor(PART_WORKERS) as pool:
        for path in paths:
            starts.append(rows)
            for height, absent, found, kept in _ahead(
                    pool, (partial(check, str(path), offset, reader) for offset, reader
                           in table_part_readers(path, columns=read, keep_dates=True,
                                                 as_read=AS_READ, categorical=CATEGORICAL))):
                if absent:
                    problems += [Problem(str(path), 1, c, MISSING_COLUMN) for c in absent]
                    break
                rows += height
                problems += found
                if problems:  # keep checking, but nothing more is kept
                    parts.clear()
                    continue
                assert kept is not None
                parts.append(kept)
    if problems:
        raise InputError(problems)
    return parts, starts


# Threads reading and checking the parts of a file at once.
PART_WORKERS = max(1, min(2, os.cpu_count() or 1))
_T = TypeVar("_T")


def _ahead(pool: ThreadPoolExecutor, tasks: Iterator[Callable[[], _T]]) -> Iterator[_T]:
    """The results of ``tasks`` in order, run on ``pool`` at most :data:`PART_WORKERS`
    ahead of the one taken (a task not yet started is not started once the caller stops
    taking results; the ones started are waited for)."""
    pending: deque[Future[_T]] = deque()
    try:
        for task in tasks:
            pending.append(pool.submit(task))
            if len(pending) > PART_WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def combine(parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate checked parts (with origin columns) and merge copies of records. A list
    of parts is emptied (its frames are let go as soon as they are joined)."""
    frames = parts if isinstance(parts, list) else list(parts)
    if not frames:
        return empty_records()
    whole = pl.concat(frames, how="vertical", rechunk=False)
    frames.clear()
    merged, problems = merge_copies(whole)
    del whole
    if problems:
        raise InputError(problems)
    columns = merged.get_columns()
    del merged
    return _one_chunk(columns)


def _one_chunk(columns: list[pl.Series]) -> pl.DataFrame:
    """A frame of ``columns`` (a list, emptied) with each column in one piece of memory,
    a column at a time, each let go once copied (so that only one column is ever held
    twice): the engine's gathers and sorts would otherwise copy many-chunk columns again
    and again."""
    out = []
    while columns:
        out.append(columns.pop(0).rechunk())
    return pl.DataFrame(out)


def records_frame(rows: Iterable[dict[str, object]]) -> pl.DataFrame:
    """Canonical records from Python dicts (tests, the app): missing optional fields are empty
    and ``recorded_on`` defaults to ``decided_on``. No checks are made."""
    frame = pl.DataFrame(list(rows), schema_overrides={
        k: v for k, v in RECORD_SCHEMA.items()})
    for c, dtype in RECORD_SCHEMA.items():
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(c))
    frame = frame.with_columns(pl.coalesce("recorded_on", "decided_on").alias("recorded_on"))
    return frame.select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA)  # type: ignore[arg-type]


def read_subjects(path: str | Path) -> pl.DataFrame:
    """Read a subjects file (``subject_id, subject_type, subject_name[, country]``), checking
    every row."""
    path = str(path)
    frame = read_table(path)
    problems: list[Problem] = []
    for c in ("subject_id", "subject_type", "subject_name"):
        if c not in frame.columns:
            problems.append(Problem(path, 1, c, MISSING_COLUMN))
    if problems:
        raise InputError(problems)
    frame = frame.with_columns(pl.col("subject_id").str.to_uppercase(),
                               pl.col("subject_type").str.to_lowercase(),
                               pl.lit(path).alias("_file"),
                               (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("_row"))
    st = pl.col("subject_type")
    frame, id_checks = _identifier_checks(frame)
    problems = _run_checks(frame, [
        *(_Check(c, pl.col(c).is_null(), "required value is empty")
          for c in ("subject_id", "subject_type", "subject_name")),
        _Check("subject_type", st.is_not_null() & ~st.is_in(SUBJECT_TYPES),
               pl.format("unknown subject type '{}'", st)),
        *id_checks,
    ])
    if problems:
        raise InputError(problems)
    keep = [c for c in ("subject_id", "subject_type", "subject_name", "country")
            if c in frame.columns]
    return frame.select(keep)
