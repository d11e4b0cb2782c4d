"""A day's answer on Spark, end to end: read, shard, evaluate each shard with the
project's engine, rank globally from counts, write Parquet.

The answer has exactly the columns and values :func:`creditindex.evaluate.compute`
gives in one process (rows in no particular order: sort by ``subject_type, rank,
subject_id`` for compute's order).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from creditindex.errors import InputError
from creditindex.evaluate import CreditData, compute
from creditindex.manual import MANUAL_COLUMNS
from creditindex.records import RECORD_SCHEMA, empty_records
from creditindex.rules import RuleSet
from creditindex.spark import manifest as mf
from creditindex.spark.frames import arrow_schema, spark_schema
from creditindex.spark.inputs import read_records, read_subjects
from creditindex.spark.ranks import with_ranks
from creditindex.spark.shard_engine import (
    KIND,
    MANUAL,
    RANK,
    STATE,
    STATE_COLUMNS,
    SUBJECT,
    SUBJECT_COLUMNS,
    ShardJob,
    Timers,
    cogrouped_function,
    grouped_function,
    lists_to_bytes,
)
from creditindex.spark.sharding import SHARD, fingerprints, with_shard

SHARDS_PER_CORE = 4


@dataclass
class SparkRun:
    """What a run did: rows written, shards recomputed (inputs changed or no earlier
    answer), refreshed (inputs unchanged, some subjects at a change point) and reused,
    seconds per phase and (when timed) what the workers did: seconds converting Arrow and
    in the engine, shards evaluated, subjects computed."""

    out: str
    rows: int = 0
    shards: int = 0
    computed: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    worker_seconds: dict[str, float] = field(default_factory=dict)


def answer_columns(rules: RuleSet, on: dt.date, known_on: dt.date | None,
                   options: dict[str, Any], lists: pl.DataFrame | None) -> pl.Schema:
    """The columns (and types) ``compute`` answers with, learnt from the engine itself
    on no records: whatever it returns, the Spark run returns."""
    data = CreditData(records=empty_records(), rules=rules, lists=lists)
    return compute(data, on, known_on, **options).schema


def default_shards(spark: SparkSession) -> int:
    """:data:`SHARDS_PER_CORE` shards per core the cluster has (at least 1)."""
    return max(1, SHARDS_PER_CORE * spark.sparkContext.defaultParallelism)


def _fingerprints(records: DataFrame, subjects: DataFrame | None,
                  manual: DataFrame | None) -> dict[int, str]:
    parts = [fingerprints(records, list(RECORD_SCHEMA))]
    for prefix, frame, columns in (("s", subjects, SUBJECT_COLUMNS),
                                   ("m", manual, MANUAL_COLUMNS)):
        if frame is not None:
            parts.append(fingerprints(frame, list(columns)).withColumn(
                "fingerprint", F.concat(F.lit(prefix), F.col("fingerprint"))))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.unionByName(part)
    rows = joined.groupBy(SHARD).agg(F.concat_ws("/", F.sort_array(
        F.collect_list("fingerprint"))).alias("fp")).collect()
    return {int(r[SHARD]): str(r["fp"]) for r in rows}


def _evaluate(records: DataFrame, side: DataFrame | None, job: ShardJob,
              schema: Any) -> DataFrame:
    """Every shard of ``records`` (cogrouped with the ``side`` rows) through the engine."""
    if side is None:
        return records.groupBy(SHARD).applyInArrow(grouped_function(job), schema)
    return records.groupBy(SHARD).cogroup(side.groupBy(SHARD)).applyInArrow(
        cogrouped_function(job), schema)


def _side(parts: Sequence[tuple[str, DataFrame | None]]) -> DataFrame | None:
    """The side table: every given frame's rows tagged with their kind (``KIND``)."""
    tagged = [frame.withColumn(KIND, F.lit(kind)) for kind, frame in parts
              if frame is not None]
    if not tagged:
        return None
    side = tagged[0]
    for frame in tagged[1:]:
        side = side.unionByName(frame, allowMissingColumns=True)
    return side


def _hadoop_path(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """``path`` as a Hadoop path and its file system (local, HDFS, S3...)."""
    jvm = spark.sparkContext._jvm
    jsc = spark.sparkContext._jsc
    assert jvm is not None and jsc is not None, "Spark has no JVM gateway"
    target = jvm.org.apache.hadoop.fs.Path(path)
    return target, target.getFileSystem(jsc.hadoopConfiguration())


def refuse_existing(spark: SparkSession, out: str) -> None:
    """:class:`InputError` when ``out`` exists (an answer is never replaced)."""
    target, fs = _hadoop_path(spark, out)
    if fs.exists(target):
        raise InputError.one(out, "already exists: give a new folder for the answer")


def _stored(spark: SparkSession, state: str, entries: dict[int, mf.ShardEntry]
            ) -> DataFrame | None:
    """The state rows earlier runs keep for the shards of ``entries``."""
    by_run: dict[str, list[int]] = defaultdict(list)
    for shard, entry in entries.items():
        by_run[entry.run].append(shard)
    parts = [spark.read.parquet(str(mf.answers_dir(state, run))).where(
        F.col(SHARD).isin(shards)) for run, shards in sorted(by_run.items())]
    if not parts:
        return None
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.unionByName(part)
    return frame


def _valid_until(spark: SparkSession, state: str, run_id: str, on: dt.date
                 ) -> dict[int, str]:
    """Per shard this run computed: the last day its answer stands unless its inputs
    change (see :mod:`.manifest`)."""
    rows = spark.read.parquet(str(mf.answers_dir(state, run_id))).groupBy(SHARD).agg(
        F.min("next_change").alias("first"),
        F.max(F.col("decays_until").isNotNull().cast("int")).alias("decays")).collect()
    out = {}
    for row in rows:
        if row["decays"]:
            out[int(row[SHARD])] = on.isoformat()
        elif row["first"] is None:
            out[int(row[SHARD])] = mf.NO_END
        else:
            out[int(row[SHARD])] = (row["first"] - dt.timedelta(days=1)).isoformat()
    return out


def _write_atomically(spark: SparkSession, frame: DataFrame, out: str) -> None:
    """Write Parquet beside ``out`` and move it into place when complete; never
    replace an existing ``out``."""
    refuse_existing(spark, out)
    target, fs = _hadoop_path(spark, out)
    partial = f"{out.rstrip('/')}.partial-{uuid.uuid4().hex[:8]}"
    frame.write.parquet(partial)
    partial_path, _ = _hadoop_path(spark, partial)
    if not fs.rename(partial_path, target):
        raise OSError(f"could not move {partial} to {out}")


def manual_frame(spark: SparkSession, manual: pl.DataFrame | None) -> DataFrame | None:
    """Manual restrictions (a small polars frame read on the driver) as a Spark frame."""
    if manual is None or manual.height == 0:
        return None
    frame = manual.select(list(MANUAL_COLUMNS)).cast(MANUAL_COLUMNS)  # type: ignore[arg-type]
    return spark.createDataFrame(frame.to_arrow(), spark_schema(MANUAL_COLUMNS))


def compute_on_spark(spark: SparkSession, records_path: str | Sequence[str], rules: RuleSet,
                     on: dt.date,
                     out: str, known_on: dt.date | None = None,
                     lists: pl.DataFrame | None = None, subjects_path: str | None = None,
                     shards: int | None = None, state: str | None = None,
                     options: dict[str, Any] | None = None, timed: bool = False,
                     manual: pl.DataFrame | None = None) -> SparkRun:
    """Every subject's answer on ``on`` (as known on ``known_on``) from the records in
    ``records_path`` (Parquet), written as Parquet to ``out`` (a new folder).

    ``options`` are passed to ``compute`` as they are (``category``, ``financier``...);
    ``manual``: manual restrictions (:data:`creditindex.manual.MANUAL_COLUMNS`).
    With ``state`` (a folder shared by driver and workers), per-shard state and a
    manifest are kept there, and a later run of the same question, on the same day or a
    later one, evaluates only the shards whose inputs changed or whose subjects reached
    a change point, and in them only those subjects (see :mod:`.manifest`). ``timed``
    adds worker-side accumulators.
    """
    refuse_existing(spark, out)
    opts = dict(options or {})
    n = shards or default_shards(spark)
    run = SparkRun(out=out, shards=n)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        run.seconds[name] = run.seconds.get(name, 0.0) + now - clock
        clock = now

    records = with_shard(read_records(spark, records_path), n)
    subjects = None if subjects_path is None else with_shard(
        read_subjects(spark, subjects_path), n)
    restrictions = manual_frame(spark, manual)
    if restrictions is not None:
        restrictions = with_shard(restrictions, n)
    columns = answer_columns(rules, on, known_on, opts, lists)
    unranked_schema = {c: t for c, t in columns.items() if c != RANK}
    kept_schema = {**unranked_schema, **(STATE_COLUMNS if state else {})}
    shard_schema = spark_schema({**kept_schema, SHARD: pl.Int32()})
    sc = spark.sparkContext
    blob = lists_to_bytes(lists) if lists is not None else None
    timers = Timers(sc.accumulator(0.0), sc.accumulator(0.0), sc.accumulator(0),
                    sc.accumulator(0)) if timed else Timers()
    job = ShardJob(rules=rules, on=on, known_on=known_on, output=arrow_schema(shard_schema),
                   options=opts, lists=None if blob is None else sc.broadcast(blob),
                   lists_key="" if blob is None else hashlib.sha256(blob).hexdigest(),
                   timers=timers, keep_state=bool(state))
    lap("prepare")

    # Without a known-on day the question is the same from day to day (answers of a
    # later day come from earlier state and change points); with one, of that day only.
    question: dict[str, Any] = {
        "rules": rules.content_hash, "lists": job.lists_key, "options": opts, "shards": n,
        "columns": list(columns), "engine": mf.engine_hash(), "polars": pl.__version__}
    if known_on is not None:
        question.update(on=on.isoformat(), known_on=known_on.isoformat())
    previous_rows: DataFrame | None = None
    keep: dict[int, mf.ShardEntry] = {}
    prints: dict[int, str] = {}
    if state:
        prints = _fingerprints(records, subjects, restrictions)
        todo = mf.plan(mf.load_manifest(state), question, prints, on.isoformat())
        lap("fingerprint")
        keep = todo.keep
        if len(todo.todo) < len(prints):
            wanted = F.col(SHARD).isin(todo.todo)
            records = records.where(wanted)
            subjects = None if subjects is None else subjects.where(wanted)
            restrictions = None if restrictions is None else restrictions.where(wanted)
        previous_rows = _stored(spark, state, todo.previous)
        run.computed, run.refreshed, run.reused = todo.recompute, todo.refresh, sorted(keep)
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]

    side = _side([(SUBJECT, subjects), (MANUAL, restrictions), (STATE, previous_rows)])
    fresh = _evaluate(records, side, job, shard_schema)
    cached: DataFrame | None = None
    if state:
        parts = []
        if run.computed or run.refreshed:
            target = str(mf.answers_dir(state, run_id))
            fresh.write.partitionBy(SHARD).parquet(target)
            parts.append(spark.read.parquet(target))
        kept = _stored(spark, state, keep)
        if kept is not None:
            parts.append(kept)
        unranked = parts[0] if parts else spark.createDataFrame([], shard_schema)
        for part in parts[1:]:
            unranked = unranked.unionByName(part)
        lap("evaluate")
    else:
        cached = unranked = fresh.persist(StorageLevel.MEMORY_AND_DISK)
        run.rows = unranked.count()
        lap("evaluate")
    unranked = unranked.select(*[F.col(f.name).cast(f.dataType) for f in shard_schema.fields
                                 if f.name in unranked_schema])
    answer = with_ranks(spark, unranked).select(*columns.keys())
    lap("rank")
    _write_atomically(spark, answer, out)
    lap("write")
    if cached is not None:
        cached.unpersist()
    if state:
        valid = _valid_until(spark, state, run_id, on) if (run.computed or run.refreshed) \
            else {}
        ran = {k: mf.ShardEntry(prints[k], run_id, on.isoformat(), valid.get(k, mf.NO_END))
               for k in run.computed + run.refreshed}
        mf.save_manifest(state, mf.Manifest(run=run_id, question=question,
                                            shards={**keep, **ran}))
        run.rows = spark.read.parquet(out).count()
    if timed:
        run.worker_seconds = {"arrow_convert": float(timers.convert.value),
                              "engine": float(timers.engine.value),
                              "shards": float(timers.shards.value),
                              "subjects": float(timers.subjects.value)}
    return run


def read_answer(path: str | Path) -> pl.DataFrame:
    """A Spark answer folder as one polars frame, in ``compute``'s row order."""
    frame = pl.read_parquet(str(Path(path) / "*.parquet"))
    return frame.sort("subject_type", "rank", "subject_id")
