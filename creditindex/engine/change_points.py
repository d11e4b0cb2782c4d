"""Change points (docs/semantics.md §5.6): per subject, the days its deduction changes and
the deduction from then on, as segments ``[start, stop)`` over which it is
``step + lin0 - slope * (day - start)``. :func:`segments_of` turns ledger arrays into
:class:`Segments`; :func:`timeline_of` does so straight from the records, in parallel
parts of whole subjects; :func:`timeline` is the frame view of a ledger frame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex.days import to_day
from creditindex.engine.arrays import (
    EPS,
    NO_DAY,
    AnyInt,
    BoolArray,
    FloatArray,
    I32Array,
    IntArray,
    block_argsort,
    in_parallel,
    runs,
    stable_argsort,
    sums,
)
from creditindex.engine.codes import SubjectCodes, code_chunks, subject_codes
from creditindex.engine.ledger import BehaviourTable, RowColumns, compile_ledger
from creditindex.engine.scoring import grade_expr, index_expr
from creditindex.rules import RuleSet

_RESIDUE = 1e-12  # rounding left over from earlier subjects that is worth taking out


@dataclass(frozen=True)
class Segments:
    """Change points in a sorted single-key layout: segment ``i`` belongs to subject
    ``code[i]``; a subject's segments are contiguous and ascending by ``start``; ``stop``
    is the next segment's start (``NO_DAY`` for the last, open segment). Over a segment
    the deduction is ``step + lin0 - slope * (day - start)``; ``lin0`` and ``slope`` are
    stored only for the segments with a linear decay (``sloped``, ascending)."""

    code: I32Array
    start: I32Array
    stop: I32Array
    step: FloatArray
    sloped: IntArray
    sloped_lin0: FloatArray
    sloped_slope: FloatArray

    @classmethod
    def dense(cls, code: I32Array, start: I32Array, stop: I32Array, step: FloatArray,
              lin0: FloatArray, slope: FloatArray) -> Segments:
        """Segments from full ``lin0`` and ``slope`` arrays."""
        at = np.flatnonzero(slope != 0).astype(np.int64)
        return cls(code, start, stop, step, at, lin0[at], slope[at])

    @property
    def size(self) -> int:
        """The number of segments."""
        return int(self.code.size)

    @property
    def lin0(self) -> FloatArray:
        """``lin0`` of every segment (zero without a linear decay)."""
        out = np.zeros(self.size, dtype=np.float64)
        out[self.sloped] = self.sloped_lin0
        return out

    @property
    def slope(self) -> FloatArray:
        """``slope`` of every segment (zero without a linear decay)."""
        out = np.zeros(self.size, dtype=np.float64)
        out[self.sloped] = self.sloped_slope
        return out

    def take(self, index: AnyInt) -> Segments:
        """The segments at ``index``."""
        return Segments.dense(self.code[index], self.start[index], self.stop[index],
                              self.step[index], self.lin0[index], self.slope[index])

    @staticmethod
    def concat(parts: Sequence[Segments]) -> Segments:
        """The segments of several parts, one after the other."""
        if len(parts) == 1:
            return parts[0]
        return Segments.gather(parts)

    @staticmethod
    def gather(parts: Iterable[Segments]) -> Segments:
        """The segments of parts made one by one, joined (one field at a time, so the
        parts and the whole are not all held at twice)."""
        fields: dict[str, list[npt.NDArray[Any]]] = {
            f: [] for f in ("code", "start", "stop", "step", "sloped", "sloped_lin0",
                            "sloped_slope")}
        offset = 0
        for part in parts:
            for name, arrays in fields.items():
                value = getattr(part, name)
                arrays.append(value + offset if name == "sloped" else value)
            offset += part.size
        joined = {}
        for name in list(fields):
            arrays = fields.pop(name)
            joined[name] = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
            del arrays
        return Segments(**joined)

    @staticmethod
    def empty() -> Segments:
        """No segments."""
        z = np.zeros(0, dtype=np.int32)
        f = np.zeros(0, dtype=np.float64)
        return Segments(z, z, z, f, np.zeros(0, dtype=np.int64), f, f)

    def with_codes(self, code: I32Array) -> Segments:
        """The same segments under other subject codes."""
        return Segments(code, self.start, self.stop, self.step, self.sloped,
                        self.sloped_lin0, self.sloped_slope)

    def deducted_on(self, day: int) -> tuple[I32Array, FloatArray]:
        """The subjects with a segment covering ``day`` and their deduction that day."""
        at = np.flatnonzero((self.start <= day) & (self.stop > day))
        ded = self.step[at]
        s = self.sloped
        on = (self.start[s] <= day) & (self.stop[s] > day)
        if on.any():
            lin = s[on]
            ded[np.searchsorted(at, lin)] += self.sloped_lin0[on] - self.sloped_slope[on] * (
                day - self.start[lin])
        return self.code[at], ded


def _segmented_cumsum(values: FloatArray, first: BoolArray) -> FloatArray:
    """Running sums restarting where ``first`` is True (``first[0]`` True), for values
    whose sum over each run is zero but for rounding: one running sum, with what was left
    before each run's start taken out at that start (when it is not negligible)."""
    total = np.cumsum(values)
    starts = np.flatnonzero(first)
    before = total[starts] - values[starts]
    if before.size and float(np.abs(before).max()) > _RESIDUE:
        values = values.copy()
        values[starts] -= np.diff(before, prepend=0.0)
        np.cumsum(values, out=total)
    return total


def segments_of(code: AnyInt, decided: I32Array, end: I32Array, amount: FloatArray,
                linear: BoolArray, days: I32Array) -> Segments:
    """Change-point arithmetic over ledger entries grouped by ``code``: each live entry adds
    its amount (or a linear level and slope) from ``decided`` and takes it back from
    ``end``; per subject, the change days are sorted, what changes on each is summed and
    the sums are run (a subject's changes sum to zero, so one running sum over all the
    subjects restarts by itself)."""
    alive = end > decided
    if not alive.all():
        live = np.flatnonzero(alive)
        code, decided, end = code[live], decided[live], end[live]
        amount, linear, days = amount[live], linear[live], days[live]
    del alive
    n = int(code.size)
    if n == 0:
        return Segments.empty()
    c = code.astype(np.int64)
    if n > 1 and bool(np.any(c[1:] < c[:-1])):
        regroup = stable_argsort(c)
        c, decided, end = c[regroup], decided[regroup], end[regroup]
        amount, linear, days = amount[regroup], linear[regroup], days[regroup]
    first_day = int(decided.min())
    span = int(end.max()) - first_day + 1
    if int(c[-1]) >= (1 << 62) // span:
        raise ValueError("too many subjects for the span of days")
    # Each entry gives two changes, side by side: (subject, day) keys that are already
    # grouped by subject, so the sort only orders a few days within each subject.
    c *= span
    c -= first_day
    key = np.empty(2 * n, dtype=np.int64)
    np.add(c, decided, out=key[0::2])
    np.add(c, end, out=key[1::2])
    del c
    order = block_argsort(key)
    key = key[order]
    new_group = runs(key)
    starts = np.flatnonzero(new_group)
    g_key = key[starts]
    del key
    g_code = g_key // span
    g_day = (g_key - g_code * span + first_day).astype(np.int32)
    del g_key
    subject_first = runs(g_code)

    change = np.empty(2 * n, dtype=np.float64)
    change[0::2] = np.where(linear, 0.0, amount)
    np.negative(change[0::2], out=change[1::2])
    step = _segmented_cumsum(np.add.reduceat(change[order], starts), subject_first)
    del change
    step[np.abs(step) < EPS] = 0.0

    size = g_code.size
    slope = np.zeros(size, dtype=np.float64)
    lin0 = np.zeros(size, dtype=np.float64)
    if linear.any():
        # Linear entries: a slope and a level taken from an origin per subject (its first
        # change day), so that sums stay small and a subject depends on no other.
        is_lin = np.empty(2 * n, dtype=np.bool_)
        is_lin[0::2] = linear
        is_lin[1::2] = linear
        at = np.flatnonzero(is_lin[order])
        del is_lin
        group = (np.cumsum(new_group) - 1)[at]
        event = order[at]
        del at
        subject_starts = np.flatnonzero(subject_first)
        origin_g = g_day[subject_starts][np.cumsum(subject_first) - 1]
        entry = event >> 1
        per_day = amount[entry] / days[entry]
        per_day[(event & 1) == 1] *= -1.0
        level = per_day * (decided[entry] + days[entry] - origin_g[group])
        del entry, event
        slope = _segmented_cumsum(sums(group, per_day, size), subject_first)
        levels = _segmented_cumsum(sums(group, level, size), subject_first)
        del group, per_day, level
        slope[np.abs(slope) < EPS] = 0.0
        sloped = np.flatnonzero(slope)
        lin0[sloped] = levels[sloped] - slope[sloped] * (g_day[sloped] - origin_g[sloped])
        lin0 += 0.0
    del order, starts, new_group
    stop = np.empty_like(g_day)
    stop[:-1] = g_day[1:]
    stop[np.r_[subject_first[1:], True]] = NO_DAY
    return Segments.dense(code=g_code.astype(np.int32), start=g_day, stop=stop, step=step,
                          lin0=lin0, slope=slope)


@dataclass(frozen=True)
class Timeline:
    """Every subject's change points, compiled: ``keys`` (``subject_id, subject_type`` per
    subject code) and the change points as :class:`Segments` grouped by code, in one or
    more ``parts`` (consecutive ranges of codes, as computed)."""

    keys: pl.DataFrame
    parts: tuple[Segments, ...]

    @cached_property
    def segments(self) -> Segments:
        """All the change points in one :class:`Segments`."""
        return Segments.gather(self.parts)

    @property
    def size(self) -> int:
        """The number of change points."""
        return sum(p.size for p in self.parts)

    def frame(self, rules: RuleSet) -> pl.DataFrame:
        """The change points as the frame :func:`timeline` returns (rows grouped by
        subject in code order, ascending ``start`` within a subject)."""
        frames = [_timeline_frame(self.keys, p, rules) for p in self.parts if p.size]
        if not frames:
            return _timeline_frame(self.keys, Segments.empty(), rules)
        return pl.concat(frames, rechunk=False)

    def deducted_on(self, day: int) -> FloatArray:
        """Per subject code, the deduction on ``day``."""
        out = np.zeros(self.keys.height, dtype=np.float64)
        for part in self.parts:
            code, ded = part.deducted_on(day)
            out[code] = ded
        return out


def _timeline_frame(keys: pl.DataFrame, seg: Segments, rules: RuleSet) -> pl.DataFrame:
    idx = pl.Series(seg.code)
    stop = pl.Series("stop", seg.stop, dtype=pl.Int64)
    frame = pl.DataFrame({
        "subject_id": keys.get_column("subject_id").gather(idx),
        "subject_type": keys.get_column("subject_type").gather(idx),
        "start": pl.Series(seg.start).cast(pl.Int32),
        "stop": pl.select(pl.when(stop != NO_DAY).then(stop)).to_series().cast(pl.Int32),
        "step": seg.step, "lin0": seg.lin0, "slope": seg.slope,
    })
    deducted = pl.col("step") + pl.col("lin0")
    return frame.with_columns(index_expr(rules, deducted).alias("index_at_start")
                              ).with_columns(
        grade_expr(rules, pl.col("index_at_start")).alias("grade_at_start"))


def timeline_of(records: pl.DataFrame, rules: RuleSet, known_on: dt.date | int,
                codes: SubjectCodes | None = None) -> Timeline:
    """Every subject's change points as known on ``known_on``, straight from the records
    (the same change points as ``timeline(ledger(records, rules, known_on), rules)``),
    computed in parts of whole subjects, in parallel."""
    if codes is None:
        codes = subject_codes(records)
    k = known_on if isinstance(known_on, int) else to_day(known_on)
    columns = RowColumns.of(records, BehaviourTable.of(rules), k)

    def part(chunk: tuple[int, int]) -> Segments:
        la = compile_ledger(records, rules, known_on, codes, columns, chunk)
        return segments_of(la.code, la.decided, la.end, la.amount, la.linear, la.days)

    parts = in_parallel(part, code_chunks(codes))
    return Timeline(keys=codes.keys(records), parts=tuple(parts))


def timeline(ledger_frame: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Change points: per subject, one row per segment ``[start, stop)`` over which the
    deduction is ``step + lin0 - slope * (day - start)`` (slope is 0 without linear decay).
    ``stop`` is null for the last, open segment (back at full marks). Rows are sorted by
    subject, role and ``start``."""
    codes = subject_codes(ledger_frame, lexical=True)
    cols = ledger_frame.select(
        pl.col("decided", "end", "days").cast(pl.Int32).fill_null(NO_DAY),
        pl.col("amount").cast(pl.Float64),
        pl.col("linear").cast(pl.Boolean).fill_null(False),
    )

    def column(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        return np.asarray(cols.get_column(name).to_numpy(), dtype=dtype)[codes.order]

    seg = segments_of(codes.sorted_codes(), column("decided", np.int32),
                      column("end", np.int32), column("amount", np.float64),
                      column("linear", np.bool_), column("days", np.int32))
    return _timeline_frame(codes.keys(ledger_frame), seg, rules)
