"""Restrictions found on the engine's arrays (docs/semantics.md §6): expert suspensions
from ledger arrays and the spells of restricted grades from change points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from creditindex.engine.arrays import (
    EPS,
    NO_DAY,
    OPEN_DAY,
    AnyInt,
    BoolArray,
    FloatArray,
    I32Array,
    IntArray,
    block_argsort,
    in_parallel,
    runs,
)
from creditindex.engine.change_points import Segments, segments_of
from creditindex.engine.codes import SubjectCodes, code_chunks, subject_codes
from creditindex.engine.ledger import BehaviourTable, LedgerArrays, RowColumns, compile_ledger
from creditindex.engine.scoring import HALF_GUARD
from creditindex.rules import RuleSet


def first_day_reaching(rules: RuleSet, step: np.ndarray, lin0: np.ndarray, slope: np.ndarray,
                       start: np.ndarray, stop: np.ndarray, level: float) -> np.ndarray:
    """Per segment, the first day in ``[start, stop]`` whose rounded index is at least
    ``level`` (``stop`` when none is); the index never falls within a segment."""

    def rounded(day: np.ndarray) -> np.ndarray:
        ded = step + lin0 - slope * (day - start)
        raw = np.maximum(rules.floor, rules.base - ded)
        out: np.ndarray = np.sign(raw) * np.floor(np.abs(raw) * 100 + 0.5 + HALF_GUARD) / 100
        return out

    # The floor clamps the index: when the floor itself reaches the level, every day does.
    floor_cents = np.floor(abs(rules.floor) * 100 + 0.5 + HALF_GUARD) * np.sign(rules.floor)
    if floor_cents / 100 >= level:
        return start.copy()
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


def suspension_starts(la: LedgerArrays, expert: BoolArray, rules: RuleSet
                      ) -> tuple[IntArray, IntArray, FloatArray]:
    """Expert suspensions (semantics §6.2.4, §10.5) as ``(code, first day, window sum)``: the
    decision days whose own deduction reaches ``single_points`` or whose ``window_days``
    (ending that day) reach ``total_points``, with those days' sum; ``expert`` flags the
    codes that are experts."""
    rule = rules.expert_suspension
    none = np.zeros(0, dtype=np.int64)
    if rule is None or la.size == 0:
        return none, none, np.zeros(0, dtype=np.float64)
    mine = np.flatnonzero(expert[la.code])
    if mine.size == 0:
        return none, none, np.zeros(0, dtype=np.float64)
    code = la.code[mine].astype(np.int64)  # int64: code * span must not overflow
    decided, amount = la.decided[mine].astype(np.int64), la.amount[mine]
    d0 = int(decided.min())
    span = int(decided.max()) - d0 + 1 + rule.window_days
    key = code * span + (decided - d0)
    order = block_argsort(key)
    key, amount = key[order], amount[order]
    starts = np.flatnonzero(runs(key))
    day_key = key[starts]
    day_sum = np.add.reduceat(amount, starts)
    day_max = np.maximum.reduceat(amount, starts)
    cum = np.cumsum(day_sum)
    first = np.searchsorted(day_key, day_key - rule.window_days, side="right")
    window = cum - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    hit = (day_max >= rule.single_points - EPS) | (window >= rule.total_points - EPS)
    hit_code, hit_day = np.divmod(day_key[hit], span)
    return hit_code, hit_day + d0, window[hit]


def grade_runs(seg: Segments, rules: RuleSet
               ) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Spells in restricted grades on the change points as ``(code, grade number, start,
    end)``: per segment, from the first day the index is in the grade to the first day it
    climbs out (``OPEN_DAY``: never), pieces that touch joined."""
    bounds = [(i, g, rules.grade[i - 1].min if i else None)
              for i, g in enumerate(rules.grade) if g.restricted]
    none = np.zeros(0, dtype=np.int64)
    if not bounds or seg.size == 0:
        return none, none, none, none
    start = seg.start.astype(np.int64)
    stop = np.where(seg.stop == NO_DAY, OPEN_DAY, seg.stop).astype(np.int64)
    codes, numbers, los, his = [], [], [], []
    for number, grade, upper in bounds:
        lo = first_day_reaching(rules, seg.step, seg.lin0, seg.slope, start, stop,
                                float(grade.min))
        hi = stop if upper is None else first_day_reaching(
            rules, seg.step, seg.lin0, seg.slope, start, stop, float(upper))
        keep = np.flatnonzero(hi > lo)
        if keep.size == 0:  # nobody of this chunk is ever in this grade
            continue
        code = seg.code[keep].astype(np.int64)
        lo, hi = np.asarray(lo, dtype=np.int64)[keep], np.asarray(hi, dtype=np.int64)[keep]
        # a spell across several segments: join the pieces that touch
        joins = np.r_[False, (code[1:] == code[:-1]) & (lo[1:] == hi[:-1])]
        first = np.flatnonzero(~joins)
        last = np.r_[first[1:], code.size] - 1
        codes.append(code[first])
        numbers.append(np.full(first.size, number, dtype=np.int64))
        los.append(lo[first])
        his.append(hi[last])
    if not codes:
        return none, none, none, none
    return (np.concatenate(codes), np.concatenate(numbers), np.concatenate(los),
            np.concatenate(his))


@dataclass(frozen=True)
class Entries:
    """Some ledger entries: subject ``code``, records ``row``, behaviour number ``beh``,
    ``decided`` and a day-dependent ``value`` (the day's points, a bar's end, ...)."""

    code: I32Array
    row: AnyInt
    beh: IntArray
    decided: I32Array
    value: FloatArray
    scope: IntArray

    @property
    def size(self) -> int:
        """The number of entries."""
        return int(self.code.size)

    def take(self, at: AnyInt) -> Entries:
        """The entries ``at``."""
        return Entries(self.code[at], self.row[at], self.beh[at], self.decided[at],
                       self.value[at], self.scope[at])

    def covering(self, day: int) -> Entries:
        """The bars (``value``: first day without it) in force on ``day``."""
        return self.take(np.flatnonzero((self.decided <= day) & (self.value > day)))

    @staticmethod
    def join(parts: Sequence[Entries]) -> Entries:
        """The entries of several parts, one after the other."""
        def field(name: str, dtype: type[np.generic]) -> np.ndarray:
            arrays = [getattr(p, name) for p in parts]
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)

        return Entries(field("code", np.int32), field("row", np.int64),
                       field("beh", np.int64), field("decided", np.int32),
                       field("value", np.float64), field("scope", np.int64))


@dataclass(frozen=True)
class Suspensions:
    """Expert suspensions: subject ``code``, ``start`` day, the ``window`` sum that
    reached a threshold, and per suspension the behaviours decided on its start day
    (``beh`` of the entries, ``of`` the suspension each belongs to)."""

    code: IntArray
    start: IntArray
    window: FloatArray
    beh: IntArray
    of: IntArray

    @staticmethod
    def none() -> Suspensions:
        """No suspensions."""
        z = np.zeros(0, dtype=np.int64)
        return Suspensions(z, z, np.zeros(0, dtype=np.float64), z, z)

    @staticmethod
    def join(parts: Sequence[Suspensions]) -> Suspensions:
        """The suspensions of several parts, one after the other."""
        if not parts:
            return Suspensions.none()
        offsets = np.cumsum([0, *(p.code.size for p in parts)])
        return Suspensions(
            code=np.concatenate([p.code for p in parts]),
            start=np.concatenate([p.start for p in parts]),
            window=np.concatenate([p.window for p in parts]),
            beh=np.concatenate([p.beh for p in parts]),
            of=np.concatenate([p.of + o for p, o in zip(parts, offsets, strict=False)]))


def bars_of(la: LedgerArrays) -> Entries:
    """Every bar of the ledger (docs/semantics.md, "Restrictions"): from the decision to
    the first day without it (``value``; ``OPEN_DAY``: no end), within ``scope``."""
    at = np.flatnonzero((la.restrict_end != NO_DAY) & (la.restrict_end > la.decided))
    return Entries(la.code[at], la.row[at], la.beh[at].astype(np.int64), la.decided[at],
                   la.restrict_end[at].astype(np.float64),
                   la.restrict_scope[at].astype(np.int64))


def suspensions_of(la: LedgerArrays, expert: BoolArray, rules: RuleSet,
                   day: int | None = None) -> Suspensions:
    """Every expert suspension of the ledger (:func:`suspension_starts`), or those in force
    on ``day``, with the behaviours decided on its first day."""
    code, start, window = suspension_starts(la, expert, rules)
    if day is not None and rules.expert_suspension is not None:
        now = (start <= day) & (start + rules.expert_suspension.suspend_days > day)
        code, start, window = code[now], start[now], window[now]
    if code.size == 0:
        return Suspensions.none()
    span = np.int64(1 << 32)
    wanted = code * span + start
    mine = np.flatnonzero(expert[la.code])
    keys = la.code[mine].astype(np.int64) * span + la.decided[mine]
    found = np.isin(keys, wanted)
    hit, keys = mine[found], keys[found]
    by_key = np.argsort(wanted, kind="stable")
    of = by_key[np.searchsorted(wanted[by_key], keys)]
    return Suspensions(code, start, window, la.beh[hit].astype(np.int64), of)


@dataclass(frozen=True)
class RecordRestrictions:
    """Every restriction the records cause as known on a day, on the arrays: the bars,
    the expert suspensions and (when asked for) the spells in restricted grades as
    ``(code, grade number, start, end)``; subjects by ``codes``."""

    codes: SubjectCodes
    table: BehaviourTable
    bars: Entries
    suspensions: Suspensions
    grades: tuple[IntArray, IntArray, IntArray, IntArray]


# What one part of subjects contributes to :class:`RecordRestrictions`: its bars, its
# expert suspensions and its spells in restricted grades (code, grade number, start, end).
RestrictionParts = tuple[Entries, Suspensions, tuple[IntArray, IntArray, IntArray, IntArray]]


def record_restrictions(records: pl.DataFrame, rules: RuleSet, known_on: int,
                        codes: SubjectCodes | None = None, with_grades: bool = True
                        ) -> RecordRestrictions:
    """The restrictions of ``records`` as known on ``known_on``, in parts of whole
    subjects, in parallel."""
    if codes is None:
        codes = subject_codes(records)
    table = BehaviourTable.of(rules)
    expert = np.asarray((records.get_column("subject_type").gather(
        pl.Series(codes.first_row)) == "expert").to_numpy(), dtype=np.bool_)
    columns = RowColumns.of(records, table, known_on)

    def part(chunk: tuple[int, int]) -> RestrictionParts:
        la = compile_ledger(records, rules, known_on, codes, columns, chunk)
        return restrictions_of(la, expert, rules, with_grades)

    return restrictions_from(codes, table, in_parallel(part, code_chunks(codes)))


def restrictions_of(la: LedgerArrays, expert: BoolArray, rules: RuleSet,
                    with_grades: bool) -> RestrictionParts:
    """The restrictions of one part's compiled ledger ``la`` (``expert``: per subject
    code): its bars, its expert suspensions and, ``with_grades``, its spells in
    restricted grades; the parts are joined by :func:`restrictions_from`."""
    none = np.zeros(0, dtype=np.int64)
    grades = (none, none, none, none)
    if with_grades:
        seg = segments_of(la.code, la.decided, la.end, la.amount, la.linear, la.days)
        grades = grade_runs(seg, rules)
    return bars_of(la), suspensions_of(la, expert, rules), grades


def restrictions_from(codes: SubjectCodes, table: BehaviourTable,
                      pieces: list[RestrictionParts]) -> RecordRestrictions:
    """The restrictions of the parts ``pieces`` (:func:`restrictions_of`, in code order)."""
    none = np.zeros(0, dtype=np.int64)
    grades = tuple(np.concatenate([p[2][i] for p in pieces]) if pieces else none
                   for i in range(4))
    return RecordRestrictions(codes=codes, table=table,
                              bars=Entries.join([p[0] for p in pieces]),
                              suspensions=Suspensions.join([p[1] for p in pieces]),
                              grades=(grades[0], grades[1], grades[2], grades[3]))


def joined_restrictions(records: pl.DataFrame, rules: RuleSet, la: LedgerArrays,
                        codes: SubjectCodes) -> RecordRestrictions:
    """The restrictions (grades included) the compiled ledger ``la`` of ``records``
    (subjects by ``codes``) causes, in one part."""
    table = BehaviourTable.of(rules)
    expert = np.asarray((records.get_column("subject_type").gather(
        pl.Series(codes.first_row)) == "expert").to_numpy(), dtype=np.bool_)
    return restrictions_from(codes, table, [restrictions_of(la, expert, rules, True)]
                             if codes.size else [])


def ledger_restrictions(records: pl.DataFrame, rules: RuleSet, known_on: int
                        ) -> tuple[LedgerArrays, RecordRestrictions]:
    """The ledger arrays of ``records`` as known on ``known_on`` (lexical codes, as
    :func:`creditindex.engine.ledger.ledger` wants) and the restrictions they cause
    (grades included), from one compilation: the restrictions of
    :func:`record_restrictions`, for few subjects at a time (no parts)."""
    codes = subject_codes(records, lexical=True)
    table = BehaviourTable.of(rules)
    expert = np.asarray((records.get_column("subject_type").gather(
        pl.Series(codes.first_row)) == "expert").to_numpy(), dtype=np.bool_)
    la = compile_ledger(records, rules, known_on, codes,
                        RowColumns.of(records, table, known_on))
    return la, restrictions_from(codes, table, [restrictions_of(la, expert, rules, True)]
                                 if codes.size else [])
