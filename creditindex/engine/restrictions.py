"""Restrictions found on the engine's arrays (docs/semantics.md §6): expert suspensions
from ledger arrays and the spells of restricted grades from change points."""

from __future__ import annotations

import numpy as np

from creditindex.engine.arrays import (
    EPS,
    NO_DAY,
    OPEN_DAY,
    BoolArray,
    IntArray,
    block_argsort,
    runs,
)
from creditindex.engine.change_points import Segments
from creditindex.engine.ledger import LedgerArrays
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
                      ) -> tuple[IntArray, IntArray]:
    """Expert suspensions (semantics §6.2.4, §10.5) as ``(code, first day)`` pairs: the decision
    days whose own deduction reaches ``single_points`` or whose ``window_days`` (ending that
    day) reach ``total_points``; ``expert`` flags the codes that are experts."""
    rule = rules.expert_suspension
    none = np.zeros(0, dtype=np.int64)
    if rule is None or la.size == 0:
        return none, none
    mine = np.flatnonzero(expert[la.code])
    if mine.size == 0:
        return none, none
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
    return hit_code, hit_day + d0


def grade_runs(seg: Segments, rules: RuleSet) -> tuple[IntArray, IntArray, IntArray]:
    """Intervals of restricted grades on the change points: per segment, from the first
    day the index is in the grade to the first day it climbs out (joined where
    they touch)."""
    bounds = [(g, rules.grade[i - 1].min if i else None)
              for i, g in enumerate(rules.grade) if g.restricted]
    none = np.zeros(0, dtype=np.int64)
    if not bounds or seg.size == 0:
        return none, none, none
    start = seg.start.astype(np.int64)
    stop = np.where(seg.stop == NO_DAY, OPEN_DAY, seg.stop).astype(np.int64)
    codes, los, his = [], [], []
    for grade, upper in bounds:
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
        los.append(lo[first])
        his.append(hi[last])
    if not codes:
        return none, none, none
    return np.concatenate(codes), np.concatenate(los), np.concatenate(his)
