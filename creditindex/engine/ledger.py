"""The ledger (docs/semantics.md §4, §5.1-5.2, §6): one entry per counted penalty record
as known on a day, with its amount (points x repeat factor), the first day without it
(repair included) and its bar (restriction end and scope).

:func:`compile_ledger` builds it as arrays grouped by subject code (:class:`LedgerArrays`);
:func:`ledger` shows the same entries as a frame, with the records' strings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex.categories import ALL, scope_mask_expr
from creditindex.days import to_day
from creditindex.engine.arrays import (
    NO_DAY,
    OPEN_DAY,
    AnyInt,
    BoolArray,
    FloatArray,
    I32Array,
    IntArray,
    U64Array,
    block_argsort,
    i64,
    u64,
)
from creditindex.engine.codes import SEED_A, SEED_B, SubjectCodes, subject_codes
from creditindex.engine.scoring import points_on
from creditindex.records import PERMANENT_DATE
from creditindex.rules import RuleSet

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


def ledger(records: pl.DataFrame, rules: RuleSet, known_on: dt.date | int) -> pl.DataFrame:
    """One row per counted record as known on ``known_on``: its amount (points x repeat
    factor), the first day without it (``end``, repair included), its restriction end.
    Rows are sorted by subject, role, ``decided``, ``source`` and ``record_id``."""
    k = known_on if isinstance(known_on, int) else to_day(known_on)
    return ledger_frame(records, compile_ledger(records, rules, k,
                                                subject_codes(records, lexical=True)))


def ledger_frame(records: pl.DataFrame, la: LedgerArrays) -> pl.DataFrame:
    """The ledger arrays ``la`` of ``records`` (compiled with lexical codes) as the frame
    of :func:`ledger`."""
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
    order = block_argsort(key)
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
        resorted = i64(sub.sort("_key", "source", "record_id").get_column("_at"))
        order[at] = order[resorted]
    return order


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
    if isinstance(codes.dtype, pl.Enum) and list(codes.dtype.categories) == table.codes:
        return np.asarray(codes.to_physical().cast(pl.Int16).fill_null(-1).to_numpy(),
                          dtype=np.int16)
    known = pl.Series(table.codes, dtype=pl.String)
    ref_a, ref_b = u64(known.hash(SEED_A)), u64(known.hash(SEED_B))
    slots = _perfect_slots(ref_a) if codes.len() else None
    if slots is None:
        mapping = {c: i for i, c in enumerate(table.codes)}
        return i64(codes.replace_strict(mapping, default=-1, return_dtype=pl.Int64))
    shift, mask = slots
    lookup = np.full(mask + 1, -1, dtype=np.int64)
    lookup[((ref_a >> np.uint64(shift)) & np.uint64(mask)).astype(np.int64)] = np.arange(
        ref_a.size)
    hashes = pl.DataFrame({"c": codes}).select(pl.col("c").hash(SEED_A).alias("a"),
                                              pl.col("c").hash(SEED_B).alias("b"))
    all_a, all_b = u64(hashes.get_column("a")), u64(hashes.get_column("b"))
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

    def counting_on(self, day: int) -> tuple[IntArray, FloatArray]:
        """The entries that deduct on ``day`` and their deduction that day (after the
        repeat factor and decay)."""
        at = np.flatnonzero((self.decided <= day) & (self.end > day))
        beh = self.beh[at]
        return at, points_on(self.amount[at], self.decided[at] + self.table.days[beh],
                             self.table.days[beh], self.table.linear[beh], day)


def _first_copies(records: pl.DataFrame, rows: AnyInt, tie: IntArray) -> BoolArray:
    """Of known ``rows`` that share (subject, role, behaviour, decided) with another row
    (``tie`` is equal for those that do), True for those that count: one copy per act
    (the same and a non-blank document_no), the one recorded first (then by source,
    then record_id). Compact records (:mod:`creditindex.compact`) carry that order."""
    if "_copy_rank" in records.columns:
        return _first_copies_ranked(records, rows, tie)
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
    keep[i64(first.get_column("_at"))] = np.asarray(first.to_series(0).to_numpy(),
                                                     dtype=np.bool_)
    return keep


def _first_copies_ranked(records: pl.DataFrame, rows: AnyInt, tie: IntArray) -> BoolArray:
    """:func:`_first_copies` on the order of copies worked out when the records were
    read (``_copy_rank``, ``_copy_doc``: see :data:`creditindex.compact.COPY_COLUMNS`)."""
    at = pl.Series(rows)
    sub = records.select(pl.col("_copy_rank", "_copy_doc").gather(at)).with_columns(
        pl.Series("_tie", tie), pl.int_range(pl.len()).alias("_at"))
    ordered = sub.sort("_tie", "_copy_rank")
    first = ordered.select(pl.struct("_tie", "_copy_doc").is_first_distinct()
                           | (pl.col("_copy_doc") < 0), "_at")
    keep = np.zeros(rows.size, dtype=np.bool_)
    keep[i64(first.get_column("_at"))] = np.asarray(first.to_series(0).to_numpy(),
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


PERMANENT_DAY = to_day(PERMANENT_DATE)  # a stated bar with no end, as read from records


@dataclass(frozen=True)
class RowColumns:
    """What the ledger reads of each records row as known on ``known_on``, as arrays in
    row order: whether the row ``counts`` (recorded by then, not revoked by then, a
    behaviour of the rule set), ``decided``, ``recorded``, ``repaired`` and the stated
    ``until`` (last barred day) as int32 days (``NO_DAY`` when missing), the stated
    ``scope`` mask (0 when none) and the behaviour number."""

    known_on: int
    counts: BoolArray
    decided: I32Array
    recorded: I32Array
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
        if "restrict_scope" not in records.columns:
            scope = pl.repeat(0, records.height, dtype=pl.Int64)
        elif records.schema["restrict_scope"].is_integer():  # a mask already (compact)
            scope = pl.col("restrict_scope")
        else:
            scope = scope_mask_expr("restrict_scope").clip(0, ALL)
        cols = records.select(
            day("decided_on").fill_null(NO_DAY).alias("decided"),
            day("recorded_on").fill_null(NO_DAY).alias("recorded"),
            day("repaired_on").fill_null(NO_DAY).alias("repaired"),
            day("restrict_until").fill_null(NO_DAY).alias("until"),
            scope.cast(pl.Int8).alias("scope"),
            ((day("recorded_on") <= k) & (day("revoked_on").is_null()
                                          | (day("revoked_on") > k))).fill_null(False)
            .alias("known"),
        )
        beh = behaviour_numbers(records.get_column("behaviour_code"), table).astype(np.int16)
        # each column let go once it is an array (not all held twice at once)
        held = {c.name: c for c in cols.get_columns()}
        del cols

        def array(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
            return np.asarray(held.pop(name).to_numpy(), dtype=dtype)

        return cls(known_on=k, counts=array("known", np.bool_) & (beh >= 0),
                   decided=array("decided", np.int32), recorded=array("recorded", np.int32),
                   repaired=array("repaired", np.int32), until=array("until", np.int32),
                   scope=array("scope", np.int8), beh=beh)


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
            sorter = block_argsort(key)
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
        if tied_at.size and ("document_no" in records.columns
                             or "_copy_rank" in records.columns):
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
