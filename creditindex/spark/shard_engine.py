"""What runs on a Spark worker: one whole shard through the project's own engine.

Spark hands a shard's records (and its subjects-file rows) over as Arrow tables; they
become polars frames, :func:`creditindex.evaluate.compute` answers for them exactly as
in one process, and the answer goes back as an Arrow table - every column ``compute``
gives except ``rank``, which only the whole population can tell (see :mod:`.ranks`).
No scoring rule is written here: whatever ``compute`` returns passes through.

With a state folder (:mod:`.manifest`), a shard's answer also keeps, per subject, the
first day its answer may change (:func:`creditindex.daily.next_change`, the store's
daily job's own rule) and a hash of the subject's inputs; a later day's run hands those
rows back, and only subjects whose inputs changed or that reached a change point are
computed again (the others' answers stand: docs/semantics.md, the daily job).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from creditindex.days import to_day
from creditindex.evaluate import CreditData, compute
from creditindex.manual import MANUAL_COLUMNS
from creditindex.records import RECORD_SCHEMA
from creditindex.rules import RuleSet
from creditindex.spark.frames import from_arrow, to_arrow
from creditindex.spark.sharding import SHARD

RANK = "rank"
SUBJECT_COLUMNS: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "country": pl.String(),
}
# Columns a state row keeps beside the answer (see the module docstring), and the column
# that tells the rows of the side table apart (subjects file, manual restrictions, state).
STATE_COLUMNS: dict[str, pl.DataType] = {
    "next_change": pl.Date(), "decays_until": pl.Date(), "_inputs": pl.String(),
    "_day": pl.Date()}
KIND = "_kind"
SUBJECT, MANUAL, STATE = "subject", "manual", "state"
_PRIME = 2_147_483_647
# Per worker process: list entries decoded once per run (by their sha256), not per shard.
_LISTS_CACHE: dict[str, pl.DataFrame] = {}


def lists_to_bytes(lists: pl.DataFrame) -> bytes:
    """List entries as Arrow IPC bytes (what is broadcast to every worker)."""
    buffer = io.BytesIO()
    lists.write_ipc(buffer)
    return buffer.getvalue()


def lists_from_bytes(data: bytes) -> pl.DataFrame:
    """List entries back from :func:`lists_to_bytes`."""
    return pl.read_ipc(io.BytesIO(data))


@dataclass(frozen=True)
class Timers:
    """Accumulators (Spark's, or anything with ``add``) the shard function adds seconds
    to: Arrow <-> polars conversion and the engine itself, and a shard count."""

    convert: Any = None
    engine: Any = None
    shards: Any = None
    subjects: Any = None

    def add(self, name: str, value: float) -> None:
        """Add ``value`` to the accumulator ``name`` when there is one."""
        acc = getattr(self, name)
        if acc is not None:
            acc.add(value)


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs to answer for a shard: the rule set, the day, the
    known-on day, extra ``compute`` arguments (``category``, ``financier``...), the list
    entries (a Spark broadcast of :func:`lists_to_bytes`, or None, and their sha256 as
    ``lists_key``), the Arrow schema of the answer, and optional timers."""

    rules: RuleSet
    on: dt.date
    known_on: dt.date | None
    output: pa.Schema
    options: dict[str, Any] = field(default_factory=dict)
    lists: Any = None
    lists_key: str = ""
    record_schema: dict[str, pl.DataType] = field(
        default_factory=lambda: dict(RECORD_SCHEMA))
    timers: Timers = field(default_factory=Timers)
    keep_state: bool = False

    def list_entries(self) -> pl.DataFrame | None:
        """The broadcast list entries, decoded once per worker process."""
        if self.lists is None:
            return None
        if self.lists_key not in _LISTS_CACHE:
            data = self.lists.value if hasattr(self.lists, "value") else self.lists
            _LISTS_CACHE.clear()
            _LISTS_CACHE[self.lists_key] = lists_from_bytes(data)
        return _LISTS_CACHE[self.lists_key]

    def data(self, records: pl.DataFrame, subjects: pl.DataFrame | None,
             manual: pl.DataFrame | None) -> CreditData:
        """One shard's inputs as the engine takes them."""
        return CreditData(records=records, rules=self.rules, subjects=subjects,
                          lists=self.list_entries(), manual=manual)

    def answer(self, records: pl.DataFrame, subjects: pl.DataFrame | None,
               manual: pl.DataFrame | None = None,
               previous: pl.DataFrame | None = None) -> pl.DataFrame:
        """The engine's answer for one shard's records, subjects and manual restrictions,
        without ``rank``; with :attr:`keep_state`, also :data:`STATE_COLUMNS`, computing
        only the subjects that ``previous`` state rows (of an earlier run) cannot answer
        for (see :func:`stale_subjects`)."""
        data = self.data(records, subjects, manual)
        if not self.keep_state:
            self.timers.add("subjects", data.subject_keys().height)
            return compute(data, self.on, self.known_on, **self.options).drop(RANK)
        from creditindex.daily import next_change

        inputs = input_hashes(data)
        stale = stale_subjects(inputs, previous, to_day(self.on))
        mine = data.for_subjects(stale)
        fresh = compute(mine, self.on, self.known_on, **self.options).drop(RANK).join(
            next_change(mine, self.on).select(
                "subject_id", "subject_type", "next_change", "decays_until"),
            on=["subject_id", "subject_type"], how="left").join(
            inputs, on="subject_id", how="left").with_columns(pl.lit(self.on).alias("_day"))
        self.timers.add("subjects", fresh.height)
        if previous is None:
            return fresh
        kept = previous.join(inputs.select("subject_id"), on="subject_id", how="semi").filter(
            ~pl.col("subject_id").is_in(pl.Series(stale, dtype=pl.String).implode()))
        return pl.concat([fresh, kept.select(fresh.columns).cast(fresh.schema)])

    def arrow_answer(self, shard: int, records: pa.Table, side: pa.Table | None
                     ) -> pa.Table:
        """One shard's Arrow tables in (records, and the side table of subjects-file
        rows, manual restrictions and earlier state told apart by :data:`KIND`), its
        answer (with its shard number) out."""
        t0 = time.perf_counter()
        recs = from_arrow(records, self.record_schema)
        parts: dict[str, pl.DataFrame | None] = {SUBJECT: None, MANUAL: None, STATE: None}
        if side is not None and side.num_rows:
            frame = pl.from_arrow(side)
            assert isinstance(frame, pl.DataFrame)
            state_schema = {c: t for c, t in self.output_schema().items() if c != SHARD}
            for kind, schema in ((SUBJECT, SUBJECT_COLUMNS), (MANUAL, MANUAL_COLUMNS),
                                 (STATE, state_schema)):
                rows = frame.filter(pl.col(KIND) == kind)
                if rows.height:
                    parts[kind] = rows.select([
                        (pl.col(c) if c in rows.columns else pl.lit(None)).cast(t).alias(c)
                        for c, t in schema.items()])
        t1 = time.perf_counter()
        answer = self.answer(recs, parts[SUBJECT], parts[MANUAL], parts[STATE])
        t2 = time.perf_counter()
        out = to_arrow(answer.with_columns(pl.lit(shard, pl.Int32).alias(SHARD)), self.output)
        self.timers.add("convert", (t1 - t0) + (time.perf_counter() - t2))
        self.timers.add("engine", t2 - t1)
        self.timers.add("shards", 1)
        return out

    def output_schema(self) -> dict[str, pl.DataType]:
        """The polars schema of :attr:`output` (what a shard returns)."""
        frame = pl.from_arrow(self.output.empty_table())
        assert isinstance(frame, pl.DataFrame)
        return dict(frame.schema)


def input_hashes(data: CreditData) -> pl.DataFrame:
    """Per ``subject_id`` of ``data`` (all its roles): ``_inputs``, a hash of its rows in
    the records, the subjects file and the manual restrictions that does not depend on
    their order (rows count, sum and XOR of row hashes). Stable across processes for one
    polars version (the state's question names it)."""
    parts = [(1, data.records.select(list(RECORD_SCHEMA)))]
    if data.subjects is not None:
        parts.append((2, data.subjects))
    if data.manual is not None:
        parts.append((3, data.manual))
    hashed = [frame.select("subject_id", frame.hash_rows(seed=seed).alias("_h"))
              for seed, frame in parts if frame.height]
    if not hashed:
        return pl.DataFrame(schema={"subject_id": pl.String(), "_inputs": pl.String()})
    rows = pl.concat(hashed)
    return rows.group_by("subject_id").agg(pl.format(
        "{}:{}:{}", pl.len(), (pl.col("_h") % _PRIME).sum(), pl.col("_h").bitwise_xor()
    ).alias("_inputs"))


def stale_subjects(inputs: pl.DataFrame, previous: pl.DataFrame | None, day: int
                   ) -> list[str]:
    """The subject_ids whose answer on ``day`` must be computed: all without earlier
    state; else those whose inputs' hash changed (or that are new), and those whose
    answer may have moved since the state's day: a change point on or before ``day``, or
    a linear decay in force (``decays_until`` set) on a row of an earlier day (``_day``).
    The state's day is never after ``day`` (the driver passes no state then)."""
    if previous is None:
        return inputs.get_column("subject_id").to_list()
    moved = previous.filter((pl.col("_day").cast(pl.Int32) < day) & (
        (pl.col("next_change").cast(pl.Int32) <= day) | pl.col("decays_until").is_not_null())
    ).select("subject_id")
    changed = inputs.join(previous.select("subject_id", pl.col("_inputs").alias("_was"))
                          .unique("subject_id"), on="subject_id", how="left").filter(
        pl.col("_was").is_null() | (pl.col("_was") != pl.col("_inputs"))).select("subject_id")
    stale = pl.concat([moved, changed]).join(inputs.select("subject_id"), on="subject_id",
                                             how="semi")
    return stale.get_column("subject_id").unique().sort().to_list()


GroupedFunction = Callable[[tuple[Any, ...], pa.Table], pa.Table]
CogroupedFunction = Callable[[tuple[Any, ...], pa.Table, pa.Table], pa.Table]


def grouped_function(job: ShardJob) -> GroupedFunction:
    """The function ``groupBy(shard).applyInArrow`` calls once per shard of records."""

    def run(key: tuple[Any, ...], records: pa.Table) -> pa.Table:
        return job.arrow_answer(int(key[0].as_py()), records, None)

    return run


def cogrouped_function(job: ShardJob) -> CogroupedFunction:
    """The function ``cogroup(...).applyInArrow`` calls once per shard of records and
    the side table (subjects-file rows, manual restrictions, earlier state)."""

    def run(key: tuple[Any, ...], records: pa.Table, side: pa.Table) -> pa.Table:
        return job.arrow_answer(int(key[0].as_py()), records, side)

    return run
