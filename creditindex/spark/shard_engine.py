"""What runs on a Spark worker: one whole shard through the project's own engine.

Spark hands a shard's records (and its subjects-file rows) over as Arrow tables; they
become polars frames, :func:`creditindex.evaluate.compute` answers for them exactly as
in one process, and the answer goes back as an Arrow table - every column ``compute``
gives except ``rank``, which only the whole population can tell (see :mod:`.ranks`).
No scoring rule is written here: whatever ``compute`` returns passes through.
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

from creditindex.evaluate import CreditData, compute
from creditindex.records import RECORD_SCHEMA
from creditindex.rules import RuleSet
from creditindex.spark.frames import from_arrow, to_arrow
from creditindex.spark.sharding import SHARD

RANK = "rank"
SUBJECT_COLUMNS: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "country": pl.String(),
}
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

    def list_entries(self) -> pl.DataFrame | None:
        """The broadcast list entries, decoded once per worker process."""
        if self.lists is None:
            return None
        if self.lists_key not in _LISTS_CACHE:
            data = self.lists.value if hasattr(self.lists, "value") else self.lists
            _LISTS_CACHE.clear()
            _LISTS_CACHE[self.lists_key] = lists_from_bytes(data)
        return _LISTS_CACHE[self.lists_key]

    def answer(self, records: pl.DataFrame, subjects: pl.DataFrame | None) -> pl.DataFrame:
        """The engine's answer for one shard's records and subjects, without ``rank``."""
        data = CreditData(records=records, rules=self.rules, subjects=subjects,
                          lists=self.list_entries())
        return compute(data, self.on, self.known_on, **self.options).drop(RANK)

    def arrow_answer(self, shard: int, records: pa.Table, subjects: pa.Table | None
                     ) -> pa.Table:
        """One shard's Arrow tables in, its answer (with its shard number) out."""
        t0 = time.perf_counter()
        recs = from_arrow(records, self.record_schema)
        subs = None
        if subjects is not None and subjects.num_rows:
            schema = {c: t for c, t in SUBJECT_COLUMNS.items() if c in subjects.column_names}
            subs = from_arrow(subjects, schema)
        t1 = time.perf_counter()
        answer = self.answer(recs, subs)
        t2 = time.perf_counter()
        out = to_arrow(answer.with_columns(pl.lit(shard, pl.Int32).alias(SHARD)), self.output)
        self.timers.add("convert", (t1 - t0) + (time.perf_counter() - t2))
        self.timers.add("engine", t2 - t1)
        self.timers.add("shards", 1)
        return out


GroupedFunction = Callable[[tuple[Any, ...], pa.Table], pa.Table]
CogroupedFunction = Callable[[tuple[Any, ...], pa.Table, pa.Table], pa.Table]


def grouped_function(job: ShardJob) -> GroupedFunction:
    """The function ``groupBy(shard).applyInArrow`` calls once per shard of records."""

    def run(key: tuple[Any, ...], records: pa.Table) -> pa.Table:
        return job.arrow_answer(int(key[0].as_py()), records, None)

    return run


def cogrouped_function(job: ShardJob) -> CogroupedFunction:
    """The function ``cogroup(...).applyInArrow`` calls once per shard of records and
    subjects."""

    def run(key: tuple[Any, ...], records: pa.Table, subjects: pa.Table) -> pa.Table:
        return job.arrow_answer(int(key[0].as_py()), records, subjects)

    return run
