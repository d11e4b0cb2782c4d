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
from creditindex.engine.arrays import NO_DAY, FloatArray, IntArray, beside, in_parallel, sums
from creditindex.engine.codes import SubjectCodes, code_chunks, id_groups, subject_codes
from creditindex.engine.ledger import BehaviourTable, LedgerArrays, RowColumns, compile_ledger
from creditindex.engine.restrictions import (
    Entries,
    RecordRestrictions,
    RestrictionParts,
    Suspensions,
    bars_of,
    restrictions_from,
    restrictions_of,
    suspensions_of,
)
from creditindex.engine.scoring import (
    grade_expr,
    grade_restricted_expr,
    index_expr,
    points_on,
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
    suspensions in force; when asked for, every restriction the records cause as known
    on ``known_on`` (``restrictions``, those of
    :func:`creditindex.engine.restrictions.record_restrictions`), found on the same
    compiled ledger."""

    day: int
    known_on: int
    codes: SubjectCodes
    deducted: FloatArray
    latest_row: IntArray
    counted: Entries
    bars: Entries
    suspensions: Suspensions
    table: BehaviourTable
    restrictions: RecordRestrictions | None = None


def latest_rows(codes: SubjectCodes, columns: RowColumns) -> IntArray:
    """Per code, the row of its most recent record (as :class:`DayFacts` names it)."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    return _latest_rows(codes, columns, 0, codes.size)


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
              known_on: dt.date | int | None = None, codes: SubjectCodes | None = None,
              columns: RowColumns | None = None, with_restrictions: bool = False
              ) -> DayFacts:
    """The facts of the day's answer on ``day`` as known on ``known_on`` (default
    ``day``), computed in parts of whole subjects, in parallel. ``codes`` and ``columns``
    (as known on ``known_on``): those of ``records`` when the caller has them.
    ``with_restrictions``: also every restriction the records cause (grades included),
    from the ledger compiled for the day (a question about a few subjects asks both: one
    compilation, not two)."""
    d = day if isinstance(day, int) else to_day(day)
    k = d if known_on is None else (known_on if isinstance(known_on, int)
                                   else to_day(known_on))
    table = BehaviourTable.of(rules)
    if columns is not None and columns.known_on != k:
        columns = None
    if codes is None and columns is None:  # both at once (each mostly on one core)
        columns, codes = beside(lambda: RowColumns.of(records, table, k),
                                lambda: subject_codes(records))
    if codes is None:
        codes = subject_codes(records)
    if columns is None:
        columns = RowColumns.of(records, table, k)
    expert = np.asarray((records.get_column("subject_type").gather(
        pl.Series(codes.first_row)) == "expert").to_numpy(), dtype=np.bool_)
    deducted = np.zeros(codes.size, dtype=np.float64)
    latest_row = np.zeros(codes.size, dtype=np.int64)

    def part(chunk: tuple[int, int]
             ) -> tuple[Entries, Entries, Suspensions, RestrictionParts | None]:
        lo, hi = chunk
        latest_row[lo:hi] = _latest_rows(codes, columns, lo, hi)
        la = compile_ledger(records, rules, k, codes, columns, chunk)
        at, points = la.counting_on(d)
        deducted[lo:hi] = sums(la.code[at].astype(np.int64) - lo, points, hi - lo)
        counted = Entries(la.code[at], la.row[at], la.beh[at].astype(np.int64),
                          la.decided[at], points, np.zeros(at.size, dtype=np.int64))
        found = restrictions_of(la, expert, rules, True) if with_restrictions else None
        return counted, bars_of(la).covering(d), suspensions_of(la, expert, rules, d), found

    pieces = in_parallel(part, code_chunks(codes))
    counted = Entries.join([p[0] for p in pieces])
    bars = Entries.join([p[1] for p in pieces])
    suspensions = Suspensions.join([p[2] for p in pieces])
    found = (restrictions_from(codes, table, [p[3] for p in pieces if p[3] is not None])
             if with_restrictions else None)
    return DayFacts(day=d, known_on=k, codes=codes, deducted=deducted,
                    latest_row=latest_row, counted=counted,
                    bars=bars, suspensions=suspensions, table=table, restrictions=found)


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


@dataclass(frozen=True)
class PairFacts:
    """What the records say of many (subject code, day) pairs as known on the one day
    their ledger was compiled: as :class:`DayFacts` of each pair's day,
    with the pairs in place of the subject codes (``counted``, ``bars`` and
    ``suspensions`` carry the pair's number as their code). ``pair_code`` (ascending)
    and ``pair_day`` name the pairs; ``decays_until``
    per pair is the last day a linearly decaying deduction counting that day keeps
    changing the index (-1: none counts)."""

    pair_code: IntArray
    pair_day: IntArray
    deducted: FloatArray
    counted: Entries
    bars: Entries
    suspensions: Suspensions
    decays_until: IntArray
    table: BehaviourTable


def _spread(code: IntArray, first: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """For items of subject ``code``: (item, pair) for every pair of its code (pairs of a
    code are ``first[code] .. first[code] + count[code] - 1``), items in order, each
    item's pairs in order."""
    n = count[code]
    item = np.repeat(np.arange(code.size, dtype=np.int64), n)
    if item.size == 0:
        return item, item.copy()
    before = np.cumsum(n) - n
    pair = first[code][item] + (np.arange(item.size, dtype=np.int64) - before[item])
    return item, pair


def pair_facts(la: LedgerArrays, bars: Entries,
               suspensions: Suspensions, rules: RuleSet, pair_code: IntArray,
               pair_day: IntArray, size: int) -> PairFacts:
    """The facts of each pair ``(pair_code, pair_day)`` (sorted by code; codes below
    ``size``, those of ``codes`` first, any others without records) from the ledger
    ``la``, with every bar
    and every expert suspension it causes (``bars``, ``suspensions``, as
    :func:`creditindex.engine.restrictions.record_restrictions` finds them). The same
    numbers, in the same order, as :func:`day_facts` of each pair's day, so that sums
    agree to the last bit."""
    count = np.bincount(pair_code, minlength=size).astype(np.int64)
    first = np.cumsum(count) - count
    n_pairs = int(pair_code.size)
    # deductions: every entry against every day of its subject
    item, pair = _spread(la.code.astype(np.int64), first, count)
    day = pair_day[pair]
    on = (la.decided[item] <= day) & (la.end[item] > day)
    item, pair, day = item[on], pair[on], day[on]
    beh = la.beh[item]
    points = points_on(la.amount[item], la.decided[item] + la.table.days[beh],
                       la.table.days[beh], la.table.linear[beh], day)
    deducted = sums(pair, points, n_pairs)
    counted = Entries(pair.astype(np.int32), la.row[item], beh.astype(np.int64),
                      la.decided[item], points, np.zeros(item.size, dtype=np.int64))
    decays_until = np.full(n_pairs, -1, dtype=np.int64)
    linear = la.table.linear[beh]
    np.maximum.at(decays_until, pair[linear], la.end[item[linear]].astype(np.int64) - 1)
    # bars in force
    b_item, b_pair = _spread(bars.code.astype(np.int64), first, count)
    b_day = pair_day[b_pair]
    b_on = (bars.decided[b_item] <= b_day) & (bars.value[b_item] > b_day)
    b_item, b_pair = b_item[b_on], b_pair[b_on]
    in_force = Entries(b_pair.astype(np.int32), bars.row[b_item], bars.beh[b_item],
                       bars.decided[b_item], bars.value[b_item], bars.scope[b_item])
    # suspensions in force, each with the behaviours decided on its first day
    sus = Suspensions.none()
    rule = rules.expert_suspension
    if rule is not None and suspensions.code.size:
        s_item, s_pair = _spread(suspensions.code.astype(np.int64), first, count)
        s_day = pair_day[s_pair]
        start = suspensions.start[s_item]
        s_on = (start <= s_day) & (start + rule.suspend_days > s_day)
        s_item, s_pair = s_item[s_on], s_pair[s_on]
        if s_item.size:
            by_of = np.argsort(suspensions.of, kind="stable")
            per = np.bincount(suspensions.of, minlength=suspensions.code.size).astype(np.int64)
            at_of = np.cumsum(per) - per
            e_of, e_pos = _spread(s_item, at_of, per)  # e_of: index into s_item
            sus = Suspensions(s_pair.astype(np.int64), suspensions.start[s_item],
                              suspensions.window[s_item],
                              suspensions.beh[by_of[e_pos]], e_of)
    return PairFacts(pair_code=pair_code, pair_day=pair_day, deducted=deducted,
                     counted=counted, bars=in_force, suspensions=sus,
                     decays_until=decays_until, table=la.table)
