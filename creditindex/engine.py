"""The pure engine: records + rules + known-on day -> ledger -> scores, timeline.

Days are integers (days since 1970-01-01) inside; nothing here does I/O. Every number
comes from the ledger: one row per counted penalty record with its amount, its dates and
its reason.

Two layers. The frame functions (:func:`ledger`, :func:`timeline`, :func:`scores_on`,
...) take and return polars frames. Underneath, a fast core works on arrays: strings are
hashed once into dense subject codes (:func:`subject_codes`), records are laid out
grouped by subject (a sorted single-key layout), the ledger is compiled into arrays
(:func:`compile_ledger`) and turned into change points (:func:`segments_of`), in chunks
of whole subjects on several threads. On top of it: :func:`timeline_of` and
:func:`snapshot` straight from the records, and the daily update (:class:`DailyState`,
:func:`start_state`, :func:`update`) that carries the evaluation from one day to the
next recomputing only the subjects that changed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex.categories import ALL, scope_mask_expr
from creditindex.days import to_day
from creditindex.records import PERMANENT_DATE
from creditindex.rules import RuleSet

SUBJECT_KEY = ["subject_id", "subject_type"]
# Rounding guard: float sums of a handful of terms err by ~1e-13; a true half-cent
# is nudged over the edge so that rounding is half away from zero as if exact.
_HALF_GUARD = 1e-9

LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "subject_type": pl.String(),
    "subject_name": pl.String(),
    "record_id": pl.String(),
    "source": pl.String(),
    "industry": pl.String(),
    "region": pl.String(),
    "behaviour_code": pl.String(),
    "document_no": pl.String(),
    "decided": pl.Int32(),
    "end": pl.Int32(),
    "nominal_end": pl.Int32(),
    "days": pl.Int32(),
    "factor": pl.Float64(),
    "amount": pl.Float64(),
    "linear": pl.Boolean(),
    "restrict_end": pl.Int32(),
    "restrict_scope": pl.Int8(),
    "repaired_from": pl.Int32(),
}


def behaviours_frame(rules: RuleSet) -> pl.DataFrame:
    """The rule set's behaviour catalogue as a frame keyed by ``behaviour_code``."""
    return pl.DataFrame(
        {
            "behaviour_code": [b.code for b in rules.behaviour],
            "_points": [float(b.points) for b in rules.behaviour],
            "days": [b.days for b in rules.behaviour],
            "_restrict_days": [OPEN_DAY if b.permanent else b.restrict_days
                               for b in rules.behaviour],
            "_repeat_days": [b.repeat_within_days for b in rules.behaviour],
            "_repeat_factor": [None if b.repeat_factor is None else float(b.repeat_factor)
                               for b in rules.behaviour],
            "linear": [b.decay == "linear" for b in rules.behaviour],
            "_min_publish": [b.min_publish_days or 0 for b in rules.behaviour],
        },
        schema_overrides={"days": pl.Int32, "_restrict_days": pl.Int32,
                          "_repeat_days": pl.Int32, "_min_publish": pl.Int32},
    )


def known_records(records: pl.DataFrame, known_on: int) -> pl.DataFrame:
    """Records as known on day ``known_on``: recorded by then, not revoked by then, and each
    act published by several sources (same subject, role, behaviour, day and document
    number) kept once, as the copy recorded first."""
    day = pl.col
    existing = records.with_columns(
        day("decided_on").cast(pl.Int32).alias("decided"),
        day("recorded_on").cast(pl.Int32).alias("_recorded"),
        day("revoked_on").cast(pl.Int32).alias("_revoked"),
        day("repaired_on").cast(pl.Int32).alias("_repaired"),
    ).filter(
        (pl.col("_recorded") <= known_on)
        & (pl.col("_revoked").is_null() | (pl.col("_revoked") > known_on))
    )
    act = [*SUBJECT_KEY, "behaviour_code", "decided", "document_no"]
    has_doc = pl.col("document_no").is_not_null() & (pl.col("document_no").str.strip_chars()
                                                     != "")
    first_copy = (
        pl.struct("_recorded", "source", "record_id").rank("ordinal").over(act) == 1
    )
    return existing.filter(~has_doc | first_copy)


def ledger(records: pl.DataFrame, rules: RuleSet, known_on: dt.date | int) -> pl.DataFrame:
    """One row per counted record as known on ``known_on``: its amount (points x repeat
    factor), the first day without it (``end``, repair included), its restriction end.
    Rows are sorted by subject, role, ``decided``, ``source`` and ``record_id``."""
    k = known_on if isinstance(known_on, int) else to_day(known_on)
    codes = subject_codes(records, lexical=True)
    la = compile_ledger(records, rules, k, codes)
    order = _ledger_order(records, la)
    rows = pl.Series(la.row[order])
    strings = [c for c, t in LEDGER_SCHEMA.items() if t == pl.String()]
    present = [c for c in strings if c in records.columns]
    out = records.select(pl.col(present).gather(rows)).with_columns(
        *(pl.lit(None, pl.String).alias(c) for c in strings if c not in present),
        pl.Series("decided", la.decided[order]),
        pl.Series("end", la.end[order]),
        pl.Series("nominal_end", la.nominal_end[order]),
        pl.Series("days", la.days[order]),
        pl.Series("factor", la.factor[order]),
        pl.Series("amount", la.amount[order]),
        pl.Series("linear", la.linear[order]),
        pl.Series("restrict_end", la.restrict_end[order]),
        pl.Series("restrict_scope", la.restrict_scope[order]),
        pl.Series("repaired_from", la.repaired_from[order]),
    ).with_columns(
        pl.when(pl.col(c) != NO_DAY).then(pl.col(c)).alias(c)
        for c in ("restrict_end", "repaired_from")
    )
    return out.select(list(LEDGER_SCHEMA)).cast(LEDGER_SCHEMA)  # type: ignore[arg-type]


def _ledger_order(records: pl.DataFrame, la: LedgerArrays) -> IntArray:
    """The order of ledger entries (grouped by lexical subject code) by ``decided``, then
    ``source`` and ``record_id`` where a subject has several entries the same day."""
    if la.size == 0:
        return np.zeros(0, dtype=np.int64)
    d0 = int(la.decided.min())
    span = int(la.decided.max()) - d0 + 1
    key = la.code.astype(np.int64) * span + (la.decided - d0)
    order = _block_argsort(key)
    skey = key[order]
    tied = np.zeros(skey.size, dtype=np.bool_)
    same = skey[1:] == skey[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    at = np.flatnonzero(tied)
    if at.size:
        sub = records.select(pl.col("source", "record_id").gather(pl.Series(la.row[order[at]]))
                             ).with_columns(pl.Series("_key", skey[at]),
                                            pl.Series("_at", at))
        resorted = _i64(sub.sort("_key", "source", "record_id").get_column("_at"))
        order[at] = order[resorted]
    return order


def deductions_on(ledger_frame: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """Ledger rows that deduct on ``day``, with ``points``: that day's deduction after the
    repeat factor and decay, and ``expires_on`` day (first day without it)."""
    d = day if isinstance(day, int) else to_day(day)
    weight = pl.when(pl.col("linear")).then(
        (pl.col("nominal_end") - d).cast(pl.Float64) / pl.col("days")).otherwise(1.0)
    return ledger_frame.filter((pl.col("decided") <= d) & (pl.col("end") > d)).with_columns(
        (pl.col("amount") * weight).alias("points"))


def round_half_away(expr: pl.Expr) -> pl.Expr:
    """Round to 2 decimals, half away from zero, as exact arithmetic would."""
    scaled = expr.abs() * 100 + 0.5 + _HALF_GUARD
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


def timeline_deducted_on(tl: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """As-of lookup in a timeline: per subject with a segment covering ``day``, ``deducted``."""
    d = day if isinstance(day, int) else to_day(day)
    current = tl.filter((pl.col("start") <= d) & (pl.col("stop").is_null()
                                                   | (pl.col("stop") > d)))
    return current.select(
        *SUBJECT_KEY,
        (pl.col("step") + pl.col("lin0") - pl.col("slope") * (d - pl.col("start")))
        .alias("deducted"),
    )


def first_day_reaching(rules: RuleSet, step: np.ndarray, lin0: np.ndarray, slope: np.ndarray,
                       start: np.ndarray, stop: np.ndarray, level: float) -> np.ndarray:
    """Per segment, the first day in ``[start, stop]`` whose rounded index is at least
    ``level`` (``stop`` when none is); the index never falls within a segment."""

    def rounded(day: np.ndarray) -> np.ndarray:
        ded = step + lin0 - slope * (day - start)
        raw = np.maximum(rules.floor, rules.base - ded)
        out: np.ndarray = np.sign(raw) * np.floor(np.abs(raw) * 100 + 0.5 + _HALF_GUARD) / 100
        return out

    # The floor clamps the index: when the floor itself reaches the level, every day does.
    floor_cents = np.floor(abs(rules.floor) * 100 + 0.5 + _HALF_GUARD) * np.sign(rules.floor)
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


# ---------------------------------------------------------------------------------------
# The fast core: integer subject codes, integer days, sorted single-key layouts
# ---------------------------------------------------------------------------------------
#
# Strings are touched once, to hash them; everything after runs on numpy arrays keyed by a
# dense integer code per (subject_id, subject_type). Two independent 64-bit hashes are
# taken: the first groups, the second verifies (two keys would have to collide under both
# to be merged); should the first collide, codes fall back to exact string grouping.
# Ledger entries are kept grouped by code (a sorted single-key layout), so that every later
# sort (repeat escalation, change points) only orders a few entries within each subject.

IntArray = npt.NDArray[np.int64]
I32Array = npt.NDArray[np.int32]
U32Array = npt.NDArray[np.uint32]
AnyInt = npt.NDArray[np.integer[Any]]
U64Array = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NO_DAY = int(np.iinfo(np.int32).max)  # a missing date: never
OPEN_DAY = 10_000_000  # the end of a bar without end (far past any real day)
_SEED_A, _SEED_A2, _SEED_B, _SEED_B2 = 0x51ED, 0x7A3B, 0x2C9F, 0x6D1E
_EPS = 1e-9
_RESIDUE = 1e-12  # rounding left over from earlier subjects that is worth taking out


def _u64(series: pl.Series) -> U64Array:
    return np.asarray(series.to_numpy(), dtype=np.uint64)


def _i64(series: pl.Series) -> IntArray:
    return np.asarray(series.to_numpy(), dtype=np.int64)


def _stable_argsort(values: npt.NDArray[Any]) -> U32Array:
    """Indices that sort ``values``, equal values in their order (polars, multithreaded)."""
    frame = pl.DataFrame({"v": values})
    out = frame.select(pl.arg_sort_by("v", maintain_order=True)).to_series()
    return np.asarray(out.to_numpy(), dtype=np.uint32)


def _block_argsort(values: IntArray) -> IntArray:
    """Indices that sort ``values`` already sorted but for short runs (timsort: adaptive)."""
    return np.argsort(values, kind="stable").astype(np.int64)


def _runs(sorted_values: npt.NDArray[Any]) -> BoolArray:
    """True where a run of equal values starts."""
    new = np.empty(sorted_values.size, dtype=np.bool_)
    if sorted_values.size:
        new[0] = True
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return new


def key_hashes(frame: pl.DataFrame, id_col: str = "subject_id",
               type_col: str = "subject_type") -> tuple[U64Array, U64Array]:
    """The two independent 64-bit hashes of each row's (subject_id, subject_type)."""
    out = frame.select(
        (pl.col(id_col).hash(_SEED_A) ^ pl.col(type_col).hash(_SEED_A2)).alias("a"),
        (pl.col(id_col).hash(_SEED_B) ^ pl.col(type_col).hash(_SEED_B2)).alias("b"),
    )
    return _u64(out.get_column("a")), _u64(out.get_column("b"))


@dataclass(frozen=True)
class SubjectCodes:
    """Dense codes ``0..size-1`` for the (subject_id, subject_type) pairs of some rows:
    ``order`` lists the rows grouped by code (ascending rows within a code), ``offsets``
    where each code's rows start in it; ``first_row`` is, per code, a row holding its
    strings; ``hash_a``/``hash_b`` are the key's two hashes per code."""

    order: AnyInt
    offsets: IntArray
    first_row: AnyInt
    hash_a: U64Array
    hash_b: U64Array

    @property
    def size(self) -> int:
        """The number of distinct subjects."""
        return int(self.first_row.size)

    def sorted_codes(self) -> I32Array:
        """The code of each row of ``order``."""
        return np.repeat(np.arange(self.size, dtype=np.int32), np.diff(self.offsets))

    def keys(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``subject_id, subject_type`` per code, from the rows of ``frame``."""
        return frame.select(pl.col(*SUBJECT_KEY).gather(pl.Series(self.first_row)))


def _codes_from(order: AnyInt, counts: IntArray, hash_a: U64Array, hash_b: U64Array
                ) -> SubjectCodes:
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    first = order[offsets[:-1]]
    return SubjectCodes(order=order, offsets=offsets, first_row=first,
                        hash_a=hash_a[first], hash_b=hash_b[first])


def subject_codes(frame: pl.DataFrame, id_col: str = "subject_id",
                  type_col: str = "subject_type", lexical: bool = False) -> SubjectCodes:
    """Dense integer codes of the (subject_id, subject_type) pairs of ``frame``'s rows,
    numbered in the order of their hashes, or of the keys themselves (``lexical``)."""
    ka, kb = key_hashes(frame, id_col, type_col)
    ordered = pl.DataFrame({"a": ka, "b": kb}).with_row_index("i").sort(
        "a", maintain_order=True)
    order = np.asarray(ordered.get_column("i").to_numpy(), dtype=np.uint32)
    sorted_a = _u64(ordered.get_column("a"))
    new = _runs(sorted_a)
    del sorted_a
    sorted_b = _u64(ordered.get_column("b"))
    collision = order.size > 1 and bool(np.any(~new[1:] & (sorted_b[1:] != sorted_b[:-1])))
    del sorted_b, ordered
    if collision:  # two keys share the first hash: group on the strings themselves
        ranked = frame.select(pl.struct(id_col, type_col).rank("dense").cast(pl.Int64) - 1)
        code = _i64(ranked.to_series())
        return _codes_from(_stable_argsort(code), np.bincount(code), ka, kb)
    starts = np.flatnonzero(new)
    del new
    counts = np.diff(np.r_[starts, order.size])
    codes = _codes_from(order, counts, ka, kb)
    if not lexical or codes.size == 0:
        return codes
    keys = codes.keys(frame.rename({id_col: SUBJECT_KEY[0], type_col: SUBJECT_KEY[1]})
                      if (id_col, type_col) != tuple(SUBJECT_KEY) else frame)
    lex = _i64(keys.select(pl.struct(SUBJECT_KEY).rank("ordinal").cast(pl.Int64) - 1
                           ).to_series())
    inverse = np.empty_like(lex)
    inverse[lex] = np.arange(lex.size, dtype=np.int64)
    new_counts = counts[inverse]
    new_starts = np.cumsum(new_counts) - new_counts
    moved = order[np.repeat(codes.offsets[:-1][inverse] - new_starts, new_counts)
                  + np.arange(order.size, dtype=np.int64)]
    return _codes_from(moved, new_counts, ka, kb)


@dataclass(frozen=True)
class BehaviourTable:
    """The rule set's behaviours as arrays indexed by behaviour number."""

    codes: list[str]
    points: FloatArray
    days: I32Array
    restrict_days: I32Array      # 0: none; OPEN_DAY: permanent
    scope: npt.NDArray[np.int8]  # the default scope's category mask
    range_min: I32Array          # the statutory range of a stated bar (0: none)
    repeat_days: I32Array        # 0: none
    repeat_factor: FloatArray
    linear: BoolArray
    min_publish: I32Array

    @classmethod
    def of(cls, rules: RuleSet) -> BehaviourTable:
        """The arrays of ``rules``' behaviour catalogue."""
        bs = rules.behaviour
        return cls(
            codes=[b.code for b in bs],
            points=np.array([float(b.points) for b in bs], dtype=np.float64),
            days=np.array([b.days for b in bs], dtype=np.int32),
            restrict_days=np.array([OPEN_DAY if b.permanent else int(b.restrict_days or 0)
                                    for b in bs], dtype=np.int32),
            scope=np.array([b.scope_mask() for b in bs], dtype=np.int8),
            range_min=np.array([b.restrict_min_days or 0 for b in bs], dtype=np.int32),
            repeat_days=np.array([b.repeat_within_days or 0 for b in bs], dtype=np.int32),
            repeat_factor=np.array([float(b.repeat_factor or 1.0) for b in bs],
                                   dtype=np.float64),
            linear=np.array([b.decay == "linear" for b in bs], dtype=np.bool_),
            min_publish=np.array([b.min_publish_days or 0 for b in bs], dtype=np.int32),
        )


def _perfect_slots(ref: U64Array) -> tuple[int, int] | None:
    """A shift and a mask under which the hashes ``ref`` fall in distinct table slots."""
    bits = max(4, int(ref.size).bit_length() + 3)
    for _ in range(4):
        mask = (1 << bits) - 1
        for shift in range(0, 64 - bits + 1, 3):
            slots = (ref >> np.uint64(shift)) & np.uint64(mask)
            if np.unique(slots).size == ref.size:
                return shift, mask
        bits += 2
    return None


def behaviour_numbers(codes: pl.Series, table: BehaviourTable) -> AnyInt:
    """Per row, the behaviour's number in the rule set, or -1 for a code it lacks (a
    table lookup on the code's hash, confirmed by a second hash)."""
    known = pl.Series(table.codes, dtype=pl.String)
    ref_a, ref_b = _u64(known.hash(_SEED_A)), _u64(known.hash(_SEED_B))
    slots = _perfect_slots(ref_a) if codes.len() else None
    if slots is None:
        mapping = {c: i for i, c in enumerate(table.codes)}
        return _i64(codes.replace_strict(mapping, default=-1, return_dtype=pl.Int64))
    shift, mask = slots
    lookup = np.full(mask + 1, -1, dtype=np.int64)
    lookup[((ref_a >> np.uint64(shift)) & np.uint64(mask)).astype(np.int64)] = np.arange(
        ref_a.size)
    hashes = pl.DataFrame({"c": codes}).select(pl.col("c").hash(_SEED_A).alias("a"),
                                              pl.col("c").hash(_SEED_B).alias("b"))
    all_a, all_b = _u64(hashes.get_column("a")), _u64(hashes.get_column("b"))
    out: AnyInt = np.empty(all_a.size, dtype=np.int16) if ref_a.size < (1 << 15) else (
        np.empty(all_a.size, dtype=np.int64))
    for lo in range(0, all_a.size, 1 << 20):  # a block at a time: small temporaries
        ha, hb = all_a[lo:lo + (1 << 20)], all_b[lo:lo + (1 << 20)]
        num = lookup[((ha >> np.uint64(shift)) & np.uint64(mask)).astype(np.intp)]
        safe = np.maximum(num, 0)
        num[(num < 0) | (ref_a[safe] != ha) | (ref_b[safe] != hb)] = -1
        out[lo:lo + num.size] = num
    return out


@dataclass(frozen=True)
class LedgerArrays:
    """The ledger as arrays, one entry per counted record (semantics §4, §5.1-5.2, §10), grouped
    by subject code (ascending records rows within a code): ``row`` in the records frame,
    ``code``, behaviour number ``beh``, ``decided``, ``end`` (first day without it, repair
    included), ``escalated`` (repeat factor applies), ``amount`` (points x factor),
    ``restrict_end`` and ``repaired_from`` (``NO_DAY`` when none). Days are int32."""

    table: BehaviourTable
    row: AnyInt
    code: I32Array
    beh: npt.NDArray[np.int16]
    decided: I32Array
    end: I32Array
    escalated: BoolArray
    amount: FloatArray
    restrict_end: I32Array
    restrict_scope: npt.NDArray[np.int8]
    repaired_from: I32Array

    @property
    def size(self) -> int:
        """The number of ledger entries."""
        return int(self.row.size)

    @property
    def days(self) -> I32Array:
        """The behaviour's ``days`` per entry."""
        return self.table.days[self.beh]

    @property
    def nominal_end(self) -> I32Array:
        """``decided + days``: the end without a repair."""
        return self.decided + self.days

    @property
    def linear(self) -> BoolArray:
        """Whether the entry decays linearly."""
        return self.table.linear[self.beh]

    @property
    def factor(self) -> FloatArray:
        """The repeat factor ``m`` per entry."""
        return np.where(self.escalated, self.table.repeat_factor[self.beh], 1.0)


def _first_copies(records: pl.DataFrame, rows: AnyInt, tie: IntArray) -> BoolArray:
    """Of known ``rows`` that share (subject, role, behaviour, decided) with another row
    (``tie`` is equal for those that do), True for those that count: one copy per act
    (the same and a non-blank document_no), the one recorded first (then by source,
    then record_id)."""
    sub = records.select(
        pl.col("document_no", "source", "record_id").gather(pl.Series(rows)),
        pl.col("recorded_on").cast(pl.Date).gather(pl.Series(rows)).alias("_recorded"),
    ).with_columns(pl.Series("_tie", tie), pl.int_range(pl.len()).alias("_at"))
    has_doc = pl.col("document_no").is_not_null() & (
        pl.col("document_no").str.strip_chars() != "")
    ordered = sub.sort("_tie", "document_no", "_recorded", "source", "record_id",
                       nulls_last=True)
    first = ordered.select(pl.struct("_tie", "document_no").is_first_distinct() | ~has_doc,
                           "_at")
    keep = np.zeros(rows.size, dtype=np.bool_)
    keep[_i64(first.get_column("_at"))] = np.asarray(first.to_series(0).to_numpy(),
                                                     dtype=np.bool_)
    return keep


def _previous_in_runs(group: IntArray, day: AnyInt) -> IntArray:
    """For entries sorted by (``group``, ``day``), the latest day of the same group that
    is strictly earlier (``NO_DAY`` when none)."""
    n = group.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new_value = np.empty(n, dtype=np.bool_)
    new_value[0] = True
    new_value[1:] = (group[1:] != group[:-1]) | (day[1:] != day[:-1])
    before = np.maximum.accumulate(np.where(new_value, np.arange(n), 0)) - 1
    ok = before >= 0
    ok[ok] = group[before[ok]] == group[ok]
    out: IntArray = np.where(ok, day[np.maximum(before, 0)], NO_DAY)
    return out


_DATES = ("decided_on", "recorded_on", "revoked_on", "repaired_on")
PERMANENT_DAY = to_day(PERMANENT_DATE)  # a stated bar with no end, as read from records
CHUNK_ROWS = 1 << 18  # rows per part when work is split by subject (bounds the memory)
WORKERS = max(1, min(4, os.cpu_count() or 1))  # threads working on parts at once
T = TypeVar("T")


@dataclass(frozen=True)
class RowColumns:
    """What the ledger reads of each records row as known on ``known_on``, as arrays in
    row order: whether the row ``counts`` (recorded by then, not revoked by then, a
    behaviour of the rule set), ``decided``, ``repaired`` and the stated ``until`` (last
    barred day) as int32 days (``NO_DAY`` when missing), the stated ``scope`` mask (0 when
    none) and the behaviour number."""

    known_on: int
    counts: BoolArray
    decided: I32Array
    repaired: I32Array
    until: I32Array
    scope: npt.NDArray[np.int8]
    beh: npt.NDArray[np.int16]

    @classmethod
    def of(cls, records: pl.DataFrame, table: BehaviourTable, known_on: int) -> RowColumns:
        """The columns of ``records`` as known on ``known_on``."""
        def day(column: str) -> pl.Expr:
            if column not in records.columns:
                return pl.repeat(None, records.height, dtype=pl.Int32)
            return pl.col(column).cast(pl.Date).to_physical()

        k = int(known_on)
        scope = (scope_mask_expr("restrict_scope").clip(0, ALL)
                 if "restrict_scope" in records.columns
                 else pl.repeat(0, records.height, dtype=pl.Int64))
        cols = records.select(
            day("decided_on").fill_null(NO_DAY).alias("decided"),
            day("repaired_on").fill_null(NO_DAY).alias("repaired"),
            day("restrict_until").fill_null(NO_DAY).alias("until"),
            scope.cast(pl.Int8).alias("scope"),
            ((day("recorded_on") <= k) & (day("revoked_on").is_null()
                                          | (day("revoked_on") > k))).fill_null(False)
            .alias("known"),
        )
        beh = behaviour_numbers(records.get_column("behaviour_code"), table).astype(np.int16)
        counts = np.asarray(cols.get_column("known").to_numpy(), dtype=np.bool_) & (beh >= 0)
        return cls(known_on=k, counts=counts,
                   decided=np.asarray(cols.get_column("decided").to_numpy(), dtype=np.int32),
                   repaired=np.asarray(cols.get_column("repaired").to_numpy(),
                                       dtype=np.int32),
                   until=np.asarray(cols.get_column("until").to_numpy(), dtype=np.int32),
                   scope=np.asarray(cols.get_column("scope").to_numpy(), dtype=np.int8),
                   beh=beh)


def code_chunks(codes: SubjectCodes, rows: int | None = None) -> list[tuple[int, int]]:
    """Ranges of subject codes ``[lo, hi)`` holding about ``rows`` records rows each
    (default :data:`CHUNK_ROWS`)."""
    rows = CHUNK_ROWS if rows is None else rows
    total = int(codes.offsets[-1])
    if codes.size == 0:
        return []
    cuts = np.searchsorted(codes.offsets, np.arange(0, total, max(rows, 1)), side="right") - 1
    bounds = sorted({0, codes.size, *(int(c) for c in cuts if 0 <= c < codes.size)})
    return list(itertools.pairwise(bounds))


def compile_ledger(records: pl.DataFrame, rules: RuleSet, known_on: dt.date | int,
                   codes: SubjectCodes | None = None, columns: RowColumns | None = None,
                   subjects: tuple[int, int] | None = None) -> LedgerArrays:
    """The ledger as known on ``known_on`` as arrays: the same entries as :func:`ledger`,
    grouped by subject code. ``codes`` and ``columns`` are those of ``records`` (computed
    when not given); ``subjects`` limits the work to a range of codes ``[lo, hi)``."""
    k = known_on if isinstance(known_on, int) else to_day(known_on)
    table = BehaviourTable.of(rules)
    if codes is None:
        codes = subject_codes(records)
    if columns is None or columns.known_on != k:
        columns = RowColumns.of(records, table, k)
    lo, hi = subjects if subjects is not None else (0, codes.size)
    order = codes.order[codes.offsets[lo]:codes.offsets[hi]]
    # Everything in code order from here: a subject's rows are next to each other.
    at = np.flatnonzero(columns.counts[order])
    code = np.repeat(np.arange(lo, hi, dtype=np.int32), np.diff(codes.offsets[lo:hi + 1]))[at]
    rows = order[at]
    del order, at
    beh = columns.beh[rows]
    decided = columns.decided[rows]
    n = rows.size
    # One pass sorted by (subject, behaviour, decided) finds the copies of an act (same
    # key) and each entry's previous decision of the same behaviour (repeat escalation).
    keep = np.ones(n, dtype=np.bool_)
    prev = np.full(n, NO_DAY, dtype=np.int32)
    if n:
        nb = len(table.codes)
        d0 = int(decided.min())
        span = int(decided.max()) - d0 + 1
        group = code.astype(np.int64) * nb + beh
        if int(group[-1]) < (1 << 62) // span:
            key = group * span + (decided - d0)
            sorter = _block_argsort(key)
            key = key[sorter]
            same = key[1:] == key[:-1]
            del key
        else:
            sorter = np.lexsort((decided, group)).astype(np.int64)
            sg, sd = group[sorter], decided[sorter]
            same = (sg[1:] == sg[:-1]) & (sd[1:] == sd[:-1])
            del sg, sd
        tied = np.zeros(n, dtype=np.bool_)
        tied[1:] |= same
        tied[:-1] |= same
        tied_at = np.flatnonzero(tied)
        del tied
        if tied_at.size and "document_no" in records.columns:
            # a run of equal keys starts where a tied position is not tied to the previous
            joined = np.zeros(tied_at.size, dtype=np.bool_)
            inner = tied_at > 0
            joined[inner] = same[tied_at[inner] - 1]
            cand = sorter[tied_at]
            keep[cand] = _first_copies(records, rows[cand], np.cumsum(~joined))
        del same, tied_at
        repeating = sorter[table.repeat_days[beh[sorter]] > 0]
        del sorter
        if repeating.size:
            prev[repeating] = _previous_in_runs(group[repeating], decided[repeating])
        del group, repeating
    if not keep.all():
        rows, code, beh, decided, prev = (rows[keep], code[keep], beh[keep], decided[keep],
                                          prev[keep])
    del keep
    gap = decided - prev  # int32: NO_DAY entries give a negative gap
    escalated = (prev != NO_DAY) & (gap >= 1) & (gap <= table.repeat_days[beh])
    del gap, prev
    repaired = columns.repaired[rows]
    repaired_from = np.where(repaired <= k,
                             np.maximum(repaired, decided + table.min_publish[beh]), NO_DAY
                             ).astype(np.int32)
    del repaired
    restrict_end, restrict_scope = _bars(table, beh, decided, columns.until[rows],
                                         columns.scope[rows], repaired_from)
    amount = table.points[beh]
    amount[escalated] *= table.repeat_factor[beh[escalated]]
    return LedgerArrays(
        table=table, row=rows, code=code, beh=beh, decided=decided,
        end=np.minimum(decided + table.days[beh], repaired_from), escalated=escalated,
        amount=amount, restrict_end=restrict_end, restrict_scope=restrict_scope,
        repaired_from=repaired_from,
    )


def _bars(table: BehaviourTable, beh: npt.NDArray[np.int16], decided: I32Array,
          until: I32Array, scope: npt.NDArray[np.int8], repaired_from: I32Array
          ) -> tuple[I32Array, npt.NDArray[np.int8]]:
    """Each entry's bar (docs/semantics.md, "Restrictions"): the first day without it
    (``NO_DAY``: the behaviour bars nothing; ``OPEN_DAY``: no end) and its category mask.
    The decision's stated period (through ``until``, inclusive) wins over the behaviour's
    ``restrict_days``; a stated scope over the behaviour's; a repair ends it early."""
    rdays = table.restrict_days[beh]
    bars = (rdays > 0) | (until != NO_DAY)
    by_rule = np.where(rdays == OPEN_DAY, OPEN_DAY, decided.astype(np.int64) + rdays)
    stated = np.where(until == PERMANENT_DAY, OPEN_DAY, until.astype(np.int64) + 1)
    end = np.where(until != NO_DAY, stated, by_rule)
    end = np.minimum(end, repaired_from)
    restrict_end = np.where(bars, end, NO_DAY).astype(np.int32)
    restrict_scope = np.where(scope > 0, scope, table.scope[beh]).astype(np.int8)
    return restrict_end, restrict_scope


def ledger_parts(records: pl.DataFrame, rules: RuleSet, known_on: dt.date | int,
                 codes: SubjectCodes | None = None, rows: int | None = None
                 ) -> Iterator[LedgerArrays]:
    """The ledger of :func:`compile_ledger` in parts of about ``rows`` records rows, each
    part whole subjects (everything partitions by subject), in code order."""
    table = BehaviourTable.of(rules)
    k = known_on if isinstance(known_on, int) else to_day(known_on)
    if codes is None:
        codes = subject_codes(records)
    columns = RowColumns.of(records, table, k)
    for lo, hi in code_chunks(codes, rows):
        yield compile_ledger(records, rules, known_on, codes, columns, (lo, hi))


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


def _sums(index: IntArray, values: FloatArray, size: int) -> FloatArray:
    """Per index ``0..size-1``, the sum of its ``values``."""
    return np.asarray(np.bincount(index, weights=values, minlength=size), dtype=np.float64)


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
        regroup = _stable_argsort(c)
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
    order = _block_argsort(key)
    key = key[order]
    new_group = _runs(key)
    starts = np.flatnonzero(new_group)
    g_key = key[starts]
    del key
    g_code = g_key // span
    g_day = (g_key - g_code * span + first_day).astype(np.int32)
    del g_key
    subject_first = _runs(g_code)

    change = np.empty(2 * n, dtype=np.float64)
    change[0::2] = np.where(linear, 0.0, amount)
    np.negative(change[0::2], out=change[1::2])
    step = _segmented_cumsum(np.add.reduceat(change[order], starts), subject_first)
    del change
    step[np.abs(step) < _EPS] = 0.0

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
        slope = _segmented_cumsum(_sums(group, per_day, size), subject_first)
        levels = _segmented_cumsum(_sums(group, level, size), subject_first)
        del group, per_day, level
        slope[np.abs(slope) < _EPS] = 0.0
        sloped = np.flatnonzero(slope)
        lin0[sloped] = levels[sloped] - slope[sloped] * (g_day[sloped] - origin_g[sloped])
        lin0 += 0.0
    del order, starts, new_group
    stop = np.empty_like(g_day)
    stop[:-1] = g_day[1:]
    stop[np.r_[subject_first[1:], True]] = NO_DAY
    return Segments.dense(code=g_code.astype(np.int32), start=g_day, stop=stop, step=step,
                          lin0=lin0, slope=slope)


def dense_codes(hash_a: U64Array, hash_b: U64Array) -> IntArray | None:
    """Dense codes grouping equal ``(hash_a, hash_b)`` pairs (numbered in ``hash_a``
    order), or ``None`` when two different ``hash_b`` share a ``hash_a``."""
    order = _stable_argsort(hash_a)
    sa, sb = hash_a[order], hash_b[order]
    new = _runs(sa)
    if sa.size > 1 and bool(np.any(~new[1:] & (sb[1:] != sb[:-1]))):
        return None
    code = np.empty(sa.size, dtype=np.int64)
    code[order] = np.cumsum(new) - 1
    return code


def _id_groups(keys: pl.DataFrame) -> IntArray:
    """Per (subject_id, subject_type) key, a dense code of its subject_id alone."""
    hashes = keys.select(pl.col("subject_id").hash(_SEED_A).alias("a"),
                         pl.col("subject_id").hash(_SEED_B).alias("b"))
    code = dense_codes(_u64(hashes.get_column("a")), _u64(hashes.get_column("b")))
    if code is None:
        code = _i64(keys.select(pl.col("subject_id").rank("dense").cast(pl.Int64) - 1
                                ).to_series())
    return code


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
    order = _block_argsort(key)
    key, amount = key[order], amount[order]
    starts = np.flatnonzero(_runs(key))
    day_key = key[starts]
    day_sum = np.add.reduceat(amount, starts)
    day_max = np.maximum.reduceat(amount, starts)
    cum = np.cumsum(day_sum)
    first = np.searchsorted(day_key, day_key - rule.window_days, side="right")
    window = cum - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    hit = (day_max >= rule.single_points - _EPS) | (window >= rule.total_points - _EPS)
    hit_code, hit_day = np.divmod(day_key[hit], span)
    return hit_code, hit_day + d0


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


def in_parallel(work: Callable[[tuple[int, int]], T], chunks: Sequence[tuple[int, int]]
                 ) -> list[T]:
    """``work`` over chunks of subjects, on :data:`WORKERS` threads (numpy and polars
    release the GIL), results in chunk order."""
    if WORKERS < 2 or len(chunks) < 2:
        return [work(c) for c in chunks]
    with ThreadPoolExecutor(min(WORKERS, len(chunks))) as pool:
        return list(pool.map(work, chunks))


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


SNAPSHOT_COLUMNS = ["subject_id", "subject_type", "deducted", "index", "grade", "rank",
                    "restricted"]


def snapshot(records: pl.DataFrame, rules: RuleSet, day: dt.date | int,
             known_on: dt.date | int | None = None) -> pl.DataFrame:
    """Every subject's evaluation on ``day`` as known on ``known_on`` (default ``day``):
    :data:`SNAPSHOT_COLUMNS`, one row per (subject_id, subject_type) found in the records
    (as ``evaluate.compute``; ranks are over them). ``restricted`` covers the causes found
    in records (behaviours, restricted grades in any role, expert suspensions), not
    external lists or manual entries. Rows are in no particular order."""
    d = day if isinstance(day, int) else to_day(day)
    k = d if known_on is None else (known_on if isinstance(known_on, int)
                                   else to_day(known_on))
    codes = subject_codes(records)
    size = codes.size
    keys = codes.keys(records)
    expert = np.asarray((keys.get_column("subject_type") == "expert").to_numpy(),
                        dtype=np.bool_)
    deducted = np.zeros(size, dtype=np.float64)
    flag = np.zeros(size, dtype=np.bool_)
    rule = rules.expert_suspension
    columns = RowColumns.of(records, BehaviourTable.of(rules), k)

    def part(chunk: tuple[int, int]) -> None:
        lo, hi = chunk
        la = compile_ledger(records, rules, k, codes, columns, chunk)
        active = np.flatnonzero((la.decided <= d) & (la.end > d))
        weight = np.where(la.linear[active],
                          (la.nominal_end[active] - d) / la.days[active], 1.0)
        deducted[lo:hi] = _sums(la.code[active].astype(np.int64) - lo,
                                la.amount[active] * weight, hi - lo)
        by_behaviour = (la.decided <= d) & (la.restrict_end > d) & (
            la.restrict_end != NO_DAY)
        flag[la.code[by_behaviour]] = True
        if rule is not None:
            s_code, s_day = suspension_starts(la, expert, rules)
            flag[s_code[(s_day <= d) & (s_day + rule.suspend_days > d)]] = True

    in_parallel(part, code_chunks(codes))
    scores = keys.with_columns(pl.Series("deducted", deducted)).with_columns(
        index_expr(rules, pl.col("deducted")).alias("index")).with_columns(
        grade_expr(rules, pl.col("index")).alias("grade")).with_columns(
        grade_restricted_expr(rules, pl.col("grade")).alias("_flag"))
    flag |= np.asarray(scores.get_column("_flag").to_numpy(), dtype=np.bool_)
    group = _id_groups(keys)
    restricted = np.bincount(group, weights=flag.astype(np.float64))[group] > 0
    return scores.with_columns(
        round_half_away(pl.col("deducted")).alias("deducted"), rank_expr().alias("rank"),
        pl.Series("restricted", restricted),
    ).select(SNAPSHOT_COLUMNS)


# ---------------------------------------------------------------------------------------
# The daily update (每日一评): yesterday's state + today's records -> today's state
# ---------------------------------------------------------------------------------------


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
    return seg.take(_stable_argsort(seg.code))


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
    calendar = future[_stable_argsort(seg.start[future])]
    k_day, k_row = _knowledge_days(records, d)
    code_of_row = np.empty(codes.order.size, dtype=np.int64)
    code_of_row[codes.order] = codes.sorted_codes()
    pending = _stable_argsort(k_day)
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
            by_day = _stable_argsort(merged_day)
            pending_day, pending_code = merged_day[by_day], merged_code[by_day]
    total = state.n_base + extra_a.size
    lo = np.searchsorted(pending_day, state.known_on, side="right")
    hi = np.searchsorted(pending_day, d, side="right")
    touched = np.unique(np.concatenate([new_codes, pending_code[lo:hi]]))
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
    changed = np.unique(np.concatenate([touched, due_code,
                                        moved_delta.astype(np.int64)]))
    return DailyState(
        rules=state.rules, known_on=d, records=state.records, added=added,
        added_code=added_code, row_order=state.row_order, row_offsets=state.row_offsets,
        base_hash_a=state.base_hash_a, base_hash_b=state.base_hash_b, extra_hash_a=extra_a,
        extra_hash_b=extra_b, keys=keys, base=state.base, calendar_day=state.calendar_day,
        calendar_seg=state.calendar_seg, pending_day=pending_day, pending_code=pending_code,
        dirty=dirty, delta=delta, current=current, changed=changed,
    )
