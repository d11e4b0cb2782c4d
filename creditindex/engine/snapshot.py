"""The day's answer on the array core (docs/glossary.md): every subject's deduction on a
day as known on another, with what its reasons and grounds show: the ledger entries that
deduct that day, the bars in force and the expert suspensions in force. One pass over the
records in parts of whole subjects (:func:`day_facts`); :func:`snapshot` is its scores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from creditindex.days import to_day
from creditindex.engine.arrays import NO_DAY, FloatArray, IntArray, in_parallel, sums
from creditindex.engine.codes import SubjectCodes, code_chunks, id_groups, subject_codes
from creditindex.engine.ledger import BehaviourTable, RowColumns, compile_ledger
from creditindex.engine.restrictions import Entries, Suspensions, bars_of, suspensions_of
from creditindex.engine.scoring import (
    grade_expr,
    grade_restricted_expr,
    index_expr,
    rank_expr,
    round_half_away,
)
from creditindex.rules import RuleSet

SNAPSHOT_COLUMNS = ["subject_id", "subject_type", "deducted", "index", "grade", "rank",
                    "restricted"]


@dataclass(frozen=True)
class DayFacts:
    """What the records say of every subject on ``day`` as known on ``known_on``:
    ``deducted`` per subject code (keys: ``codes.keys(records)``), its ``latest_row``
    (the row of its most recent record, by ``decided_on`` then ``recorded_on``, of equals
    the later row; what names it), the entries that
    deduct that day (``counted``, ``value`` = the day's points), the bars in force
    (``bars``, ``value`` = first day without it, ``OPEN_DAY`` when none) and the expert
    suspensions in force."""

    day: int
    known_on: int
    codes: SubjectCodes
    deducted: FloatArray
    latest_row: IntArray
    counted: Entries
    bars: Entries
    suspensions: Suspensions
    table: BehaviourTable


def _latest_rows(codes: SubjectCodes, columns: RowColumns, lo: int, hi: int) -> IntArray:
    """Per code of ``[lo, hi)``, the row of its most recent record (by decided, then
    recorded, a missing day the earliest; of equals, the later row)."""
    rows = np.asarray(codes.order[codes.offsets[lo]:codes.offsets[hi]], dtype=np.int64)
    starts = codes.offsets[lo:hi] - codes.offsets[lo]
    recorded = columns.recorded[rows].astype(np.int64)
    key = (columns.decided[rows].astype(np.int64) << 32) | np.where(
        recorded == NO_DAY, 0, recorded + (1 << 31))
    latest = np.maximum.reduceat(key, starts)
    at = np.where(key == np.repeat(latest, np.diff(codes.offsets[lo:hi + 1])),
                  np.arange(rows.size), -1)
    out: IntArray = rows[np.maximum.reduceat(at, starts)]
    return out


def day_facts(records: pl.DataFrame, rules: RuleSet, day: dt.date | int,
              known_on: dt.date | int | None = None, codes: SubjectCodes | None = None
              ) -> DayFacts:
    """The facts of the day's answer on ``day`` as known on ``known_on`` (default
    ``day``), computed in parts of whole subjects, in parallel."""
    d = day if isinstance(day, int) else to_day(day)
    k = d if known_on is None else (known_on if isinstance(known_on, int)
                                   else to_day(known_on))
    if codes is None:
        codes = subject_codes(records)
    table = BehaviourTable.of(rules)
    expert = np.asarray((records.get_column("subject_type").gather(
        pl.Series(codes.first_row)) == "expert").to_numpy(), dtype=np.bool_)
    deducted = np.zeros(codes.size, dtype=np.float64)
    latest_row = np.zeros(codes.size, dtype=np.int64)
    columns = RowColumns.of(records, table, k)

    def part(chunk: tuple[int, int]) -> tuple[Entries, Entries, Suspensions]:
        lo, hi = chunk
        latest_row[lo:hi] = _latest_rows(codes, columns, lo, hi)
        la = compile_ledger(records, rules, k, codes, columns, chunk)
        at, points = la.counting_on(d)
        deducted[lo:hi] = sums(la.code[at].astype(np.int64) - lo, points, hi - lo)
        counted = Entries(la.code[at], la.row[at], la.beh[at].astype(np.int64),
                          la.decided[at], points, np.zeros(at.size, dtype=np.int64))
        return counted, bars_of(la).covering(d), suspensions_of(la, expert, rules, d)

    pieces = in_parallel(part, code_chunks(codes))
    counted = Entries.join([p[0] for p in pieces])
    bars = Entries.join([p[1] for p in pieces])
    suspensions = Suspensions.join([p[2] for p in pieces])
    return DayFacts(day=d, known_on=k, codes=codes, deducted=deducted,
                    latest_row=latest_row, counted=counted,
                    bars=bars, suspensions=suspensions, table=table)


def scores_frame(keys: pl.DataFrame, deducted: FloatArray, rules: RuleSet) -> pl.DataFrame:
    """``keys`` with their ``deducted`` (rounded), ``index``, ``grade`` and
    ``grade_restricted``."""
    return keys.with_columns(pl.Series("deducted", deducted, dtype=pl.Float64)).with_columns(
        index_expr(rules, pl.col("deducted")).alias("index")).with_columns(
        grade_expr(rules, pl.col("index")).alias("grade")).with_columns(
        grade_restricted_expr(rules, pl.col("grade")).alias("grade_restricted"),
        round_half_away(pl.col("deducted")).alias("deducted"))


def snapshot(records: pl.DataFrame, rules: RuleSet, day: dt.date | int,
             known_on: dt.date | int | None = None) -> pl.DataFrame:
    """Every subject's evaluation on ``day`` as known on ``known_on`` (default ``day``):
    :data:`SNAPSHOT_COLUMNS`, one row per (subject_id, subject_type) found in the records
    (as ``evaluate.compute``; ranks are over them). ``restricted`` covers the causes found
    in records (behaviours, restricted grades in any role, expert suspensions), not
    external lists or manual entries. Rows are in no particular order."""
    facts = day_facts(records, rules, day, known_on)
    keys = facts.codes.keys(records)
    scores = scores_frame(keys, facts.deducted, rules)
    flag = np.asarray(scores.get_column("grade_restricted").to_numpy(), dtype=np.bool_)
    flag[facts.bars.code] = True
    flag[facts.suspensions.code] = True
    group = id_groups(keys)
    restricted = np.bincount(group, weights=flag.astype(np.float64))[group] > 0
    return scores.with_columns(rank_expr().alias("rank"),
                               pl.Series("restricted", restricted)).select(SNAPSHOT_COLUMNS)
