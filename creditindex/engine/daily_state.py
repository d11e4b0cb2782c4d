"""The daily update (每日一评, docs/glossary.md "daily state"): yesterday's state + today's
records -> today's state, recomputing only the subjects that changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from creditindex.days import to_day
from creditindex.engine.arrays import (
    NO_DAY,
    AnyInt,
    BoolArray,
    FloatArray,
    I32Array,
    IntArray,
    U64Array,
    distinct,
    stable_argsort,
)
from creditindex.engine.change_points import Segments, Timeline, segments_of, timeline_of
from creditindex.engine.codes import SUBJECT_KEY, dense_codes, key_hashes, subject_codes
from creditindex.engine.ledger import compile_ledger
from creditindex.engine.scoring import grade_expr, index_expr, round_half_away
from creditindex.rules import RuleSet


def _ranges(offsets: IntArray, which: AnyInt) -> IntArray:
    """The positions ``offsets[w]:offsets[w+1]`` for every ``w`` of ``which``, in order."""
    lo, hi = offsets[which], offsets[np.asarray(which) + 1]
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(lo - (np.cumsum(lengths) - lengths), lengths) + np.arange(
        total, dtype=np.int64)


def _group_by_code(seg: Segments) -> Segments:
    """The segments ordered by code, keeping each code's segments in order."""
    if seg.size < 2 or not bool(np.any(seg.code[1:] < seg.code[:-1])):
        return seg
    return seg.take(stable_argsort(seg.code))


def _knowledge_days(frame: pl.DataFrame, after: int) -> tuple[I32Array, IntArray]:
    """Per row, each of its ``recorded_on``/``revoked_on``/``repaired_on`` days later than
    ``after``: the days something about the row becomes known, with the row number."""
    days, rows = [], []
    for column in ("recorded_on", "revoked_on", "repaired_on"):
        if column not in frame.columns:
            continue
        values = np.asarray(frame.select(pl.col(column).cast(pl.Int32).fill_null(NO_DAY))
                            .to_series().to_numpy(), dtype=np.int32)
        at = np.flatnonzero((values > after) & (values != NO_DAY))
        days.append(values[at])
        rows.append(at)
    if not days:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    return np.concatenate(days), np.concatenate(rows).astype(np.int64)


def _lin_parts(seg: Segments, at: AnyInt) -> tuple[FloatArray, FloatArray]:
    """``lin0`` and ``slope`` of the segments ``at`` (zero for those without decay)."""
    lin0 = np.zeros(at.size, dtype=np.float64)
    slope = np.zeros(at.size, dtype=np.float64)
    if seg.sloped.size and at.size:
        pos = np.minimum(np.searchsorted(seg.sloped, at), seg.sloped.size - 1)
        hit = seg.sloped[pos] == at
        lin0[hit] = seg.sloped_lin0[pos[hit]]
        slope[hit] = seg.sloped_slope[pos[hit]]
    return lin0, slope


def _deduction_at(seg: Segments, at: AnyInt, day: int) -> FloatArray:
    """The deduction on ``day`` of segments ``at`` (which cover it)."""
    lin0, slope = _lin_parts(seg, at)
    return seg.step[at] + lin0 - slope * (day - seg.start[at])


@dataclass(frozen=True)
class DailyState:
    """The evaluation carried from one day to the next (每日一评): every subject's change
    points as known on ``known_on`` and, per subject, the segment covering that day.

    A base (built once from all the records by :func:`start_state`, never copied) and a
    small overlay (made by :func:`update`): subjects marked ``dirty`` have their change
    points in ``delta`` instead of ``base``. ``current`` is per subject the covering
    segment: an index into ``base``, ``base.size`` + an index into ``delta``, or -1. The
    records are ``records`` (the base frame) and ``added`` (what updates brought; a later
    row with the same (source, record_id) replaces an earlier one). ``calendar`` lists
    the base segments starting after the base day, by day: today's expiries. ``compact``
    folds the overlay into a new base."""

    rules: RuleSet
    known_on: int
    records: pl.DataFrame
    added: pl.DataFrame
    added_code: I32Array
    row_order: AnyInt
    row_offsets: IntArray
    base_hash_a: U64Array
    base_hash_b: U64Array
    extra_hash_a: U64Array
    extra_hash_b: U64Array
    keys: pl.DataFrame
    base: Segments
    calendar_day: I32Array
    calendar_seg: IntArray
    pending_day: I32Array
    pending_code: IntArray
    dirty: BoolArray
    delta: Segments
    current: IntArray
    changed: IntArray

    @property
    def n_base(self) -> int:
        """The number of subjects the base was built with (codes ``0..n_base-1``)."""
        return int(self.base_hash_a.size)

    @property
    def size(self) -> int:
        """The number of subjects (subject_id, subject_type)."""
        return self.n_base + int(self.extra_hash_a.size)

    def lookup(self, hash_a: U64Array, hash_b: U64Array) -> IntArray:
        """The codes of keys by their hashes: -1 for keys the state has not seen; raises
        ``KeyError`` when a key's first hash belongs to another key (a collision)."""
        return _lookup_keys(self.base_hash_a, self.base_hash_b, self.extra_hash_a,
                            self.extra_hash_b, hash_a, hash_b)

    def segments(self) -> Segments:
        """Every subject's change points, grouped by code."""
        clean = np.flatnonzero(~self.dirty[self.base.code])
        return _group_by_code(Segments.concat([self.base.take(clean), self.delta]))

    def timeline(self) -> Timeline:
        """The compiled timeline as known on ``known_on``."""
        return Timeline(keys=self.keys, parts=(self.segments(),))

    def all_records(self) -> pl.DataFrame:
        """The base records and every record added since, later copies of the same
        (source, record_id) replacing earlier ones."""
        if self.added.height == 0:
            return self.records
        both = pl.concat([self.records, self.added], how="vertical_relaxed")
        return both.unique(["source", "record_id"], keep="last", maintain_order=True)

    def deducted(self) -> FloatArray:
        """Per subject code, the deduction on ``known_on``."""
        out = np.zeros(self.size, dtype=np.float64)
        cur = self.current
        in_base = np.flatnonzero((cur >= 0) & (cur < self.base.size))
        out[in_base] = _deduction_at(self.base, cur[in_base], self.known_on)
        in_delta = np.flatnonzero(cur >= self.base.size)
        out[in_delta] = _deduction_at(self.delta, cur[in_delta] - self.base.size,
                                      self.known_on)
        return out

    def scores(self) -> pl.DataFrame:
        """Every subject's ``deducted``, ``index`` and ``grade`` on ``known_on``."""
        return self.keys.with_columns(pl.Series("deducted", self.deducted())).with_columns(
            index_expr(self.rules, pl.col("deducted")).alias("index")).with_columns(
            grade_expr(self.rules, pl.col("index")).alias("grade"),
            round_half_away(pl.col("deducted")).alias("deducted"))

    def compact(self) -> DailyState:
        """The same state with the overlay folded into a new base."""
        return start_state(self.all_records(), self.rules, self.known_on)


def _lookup_keys(base_a: U64Array, base_b: U64Array, extra_a: U64Array, extra_b: U64Array,
                 want_a: U64Array, want_b: U64Array) -> IntArray:
    """Codes by key hashes: the base's (``base_a`` ascending) then the extra ones
    (numbered after the base, in their order); -1 for an unknown key."""
    out = _lookup_sorted(base_a, base_b, want_a, want_b)
    if extra_a.size:
        sorter = np.argsort(extra_a)
        extra = _lookup_sorted(extra_a[sorter], extra_b[sorter], want_a, want_b)
        found = (out < 0) & (extra >= 0)
        out[found] = base_a.size + sorter[extra[found]]
    return out


def _lookup_sorted(sorted_a: U64Array, sorted_b: U64Array, want_a: U64Array,
                   want_b: U64Array) -> IntArray:
    """Positions of ``want_a`` in the ascending ``sorted_a`` (-1 when absent); raises
    ``KeyError`` when the second hashes disagree (a collision of the first)."""
    out = np.full(want_a.size, -1, dtype=np.int64)
    if sorted_a.size == 0:
        return out
    pos = np.minimum(np.searchsorted(sorted_a, want_a), sorted_a.size - 1)
    hit = sorted_a[pos] == want_a
    if bool(np.any(sorted_b[pos[hit]] != want_b[hit])):
        raise KeyError("subject key hash collision")
    out[hit] = pos[hit]
    return out


def _covering(seg: Segments, day: int) -> tuple[I32Array, IntArray]:
    """The subjects with a segment covering ``day`` and that segment's index."""
    at = np.flatnonzero((seg.start <= day) & (seg.stop > day))
    return seg.code[at], at


def start_state(records: pl.DataFrame, rules: RuleSet, day: dt.date | int) -> DailyState:
    """The state as of ``day``, known on ``day``, computed from scratch."""
    d = day if isinstance(day, int) else to_day(day)
    codes = subject_codes(records)
    seg = timeline_of(records, rules, d, codes).segments
    size = codes.size
    future = np.flatnonzero(seg.start > d)
    calendar = future[stable_argsort(seg.start[future])]
    k_day, k_row = _knowledge_days(records, d)
    code_of_row = np.empty(codes.order.size, dtype=np.int64)
    code_of_row[codes.order] = codes.sorted_codes()
    pending = stable_argsort(k_day)
    current = np.full(size, -1, dtype=np.int64)
    on_code, on_seg = _covering(seg, d)
    current[on_code] = on_seg
    no_hash = np.zeros(0, dtype=np.uint64)
    return DailyState(
        rules=rules, known_on=d, records=records, added=records.clear(),
        added_code=np.zeros(0, dtype=np.int32), row_order=codes.order,
        row_offsets=codes.offsets, base_hash_a=codes.hash_a, base_hash_b=codes.hash_b,
        extra_hash_a=no_hash, extra_hash_b=no_hash, keys=codes.keys(records), base=seg,
        calendar_day=seg.start[calendar], calendar_seg=calendar.astype(np.int64),
        pending_day=k_day[pending], pending_code=code_of_row[k_row[pending]],
        dirty=np.zeros(size, dtype=np.bool_), delta=Segments.empty(), current=current,
        changed=np.zeros(0, dtype=np.int64),
    )


def update(state: DailyState, new_records: pl.DataFrame, day: dt.date | int) -> DailyState:
    """Move ``state`` to ``day`` (not before its ``known_on``) with ``new_records``: the
    canonical records that reached the system since (new ones, or corrections of earlier
    ones under the same (source, record_id)). Only the subjects the new records name or
    whose records become known, revoked or repaired by ``day`` are recomputed; everyone
    else moves to the segment the change points say (today's expiries), and linear decay
    needs no work at all (a segment's deduction is a line). The result equals
    ``start_state(all records, rules, day)``; ``changed`` lists the subjects whose
    segment changed."""
    d = day if isinstance(day, int) else to_day(day)
    if d < state.known_on:
        raise ValueError("a state moves forward only")
    incoming = new_records.select(state.records.columns) if new_records.height else None
    try:
        return _update(state, incoming, d)
    except KeyError:  # a hash collision with a new key: rebuild from scratch
        rows = state.all_records() if incoming is None else pl.concat(
            [state.all_records(), incoming], how="vertical_relaxed").unique(
            ["source", "record_id"], keep="last", maintain_order=True)
        return start_state(rows, state.rules, d)


def _update(state: DailyState, incoming: pl.DataFrame | None, d: int) -> DailyState:
    size = state.size
    extra_a, extra_b, keys = state.extra_hash_a, state.extra_hash_b, state.keys
    added, added_code = state.added, state.added_code
    pending_day, pending_code = state.pending_day, state.pending_code
    new_codes = np.zeros(0, dtype=np.int64)
    if incoming is not None:
        ka, kb = key_hashes(incoming)
        code = state.lookup(ka, kb)
        unseen = np.flatnonzero(code < 0)
        if unseen.size:
            fresh = dense_codes(ka[unseen], kb[unseen])
            if fresh is None:
                raise KeyError("subject key hash collision")
            first = np.zeros(int(fresh.max()) + 1, dtype=np.int64)
            first[fresh[::-1]] = unseen[::-1]
            code[unseen] = size + fresh
            extra_a = np.concatenate([extra_a, ka[first]])
            extra_b = np.concatenate([extra_b, kb[first]])
            keys = pl.concat([keys, incoming.select(SUBJECT_KEY)[pl.Series(first)]])
        new_codes = code
        added = pl.concat([added, incoming], how="vertical_relaxed")
        added_code = np.concatenate([added_code, code.astype(np.int32)])
        k_day, k_row = _knowledge_days(incoming, d)
        if k_day.size:
            merged_day = np.concatenate([pending_day, k_day])
            merged_code = np.concatenate([pending_code, code[k_row]])
            by_day = stable_argsort(merged_day)
            pending_day, pending_code = merged_day[by_day], merged_code[by_day]
    total = state.n_base + extra_a.size
    lo = np.searchsorted(pending_day, state.known_on, side="right")
    hi = np.searchsorted(pending_day, d, side="right")
    touched = distinct(np.concatenate([new_codes, pending_code[lo:hi]]))
    pending_day, pending_code = pending_day[hi:], pending_code[hi:]

    dirty = np.zeros(total, dtype=np.bool_)
    dirty[:size] = state.dirty
    dirty[size:] = True
    delta = state.delta
    if touched.size:
        base_codes = touched[touched < state.n_base]
        parts = [state.records[pl.Series(state.row_order[_ranges(state.row_offsets,
                                                                   base_codes)])]]
        mine = np.isin(added_code, touched)
        if mine.any():
            parts.append(added[pl.Series(np.flatnonzero(mine))])
        sub = pl.concat(parts, how="vertical_relaxed").unique(
            ["source", "record_id"], keep="last", maintain_order=True)
        sub_codes = subject_codes(sub)
        probe = _lookup_keys(state.base_hash_a, state.base_hash_b, extra_a, extra_b,
                             sub_codes.hash_a, sub_codes.hash_b)
        if bool(np.any(probe < 0)):
            raise KeyError("subject missing from the state")
        seg = Segments.gather(
            segments_of(la.code, la.decided, la.end, la.amount, la.linear, la.days)
            for la in [compile_ledger(sub, state.rules, d, sub_codes)])
        seg = _group_by_code(seg.with_codes(probe[seg.code].astype(np.int32)))
        keep = np.flatnonzero(~np.isin(delta.code, touched))
        delta = _group_by_code(Segments.concat([delta.take(keep), seg]))
        dirty[touched] = True

    # Who moves to another segment by today: the base change points between the last
    # day and today (expiries) of clean subjects, and every dirty subject (from delta).
    current = np.full(total, -1, dtype=np.int64)
    current[:size] = state.current
    c_lo = np.searchsorted(state.calendar_day, state.known_on, side="right")
    c_hi = np.searchsorted(state.calendar_day, d, side="right")
    due = state.calendar_seg[c_lo:c_hi]
    due_code = state.base.code[due].astype(np.int64)
    clean = ~dirty[due_code]
    due, due_code = due[clean], due_code[clean]
    if due.size:  # the calendar is by day: the last one of a subject is today's
        last = due_code.size - 1 - np.unique(due_code[::-1], return_index=True)[1]
        current[due_code[last]] = due[last]
    was_dirty = np.flatnonzero(dirty)
    current[was_dirty] = -1
    on_code, on_seg = _covering(delta, d)
    current[on_code] = state.base.size + on_seg
    moved_delta = delta.code[(delta.start > state.known_on) & (delta.start <= d)]
    changed = distinct(np.concatenate([touched, due_code,
                                       moved_delta.astype(np.int64)]))
    return DailyState(
        rules=state.rules, known_on=d, records=state.records, added=added,
        added_code=added_code, row_order=state.row_order, row_offsets=state.row_offsets,
        base_hash_a=state.base_hash_a, base_hash_b=state.base_hash_b, extra_hash_a=extra_a,
        extra_hash_b=extra_b, keys=keys, base=state.base, calendar_day=state.calendar_day,
        calendar_seg=state.calendar_seg, pending_day=pending_day, pending_code=pending_code,
        dirty=dirty, delta=delta, current=current, changed=changed,
    )
