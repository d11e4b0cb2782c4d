"""A few subjects' records out of the lake, for questions about a few subjects
(``check``, ``explain``, ``history``): Spark reads only their rows and the
single-process engine answers on the driver, exactly as in one process, since every
answer about a subject depends only on its own rows (records, subjects file, manual
restrictions) and the list entries.

Only their rows are read: the filter on ``subject_id`` is pushed down to the Parquet
files (row groups whose statistics exclude the ids are skipped), and records laid out by
shard (:func:`write_by_shard`, folders ``_shard=K``) are read only in the asked subjects'
shards, since the hash of ``subject_id`` decides the shard.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from creditindex.evaluate import CreditData
from creditindex.records import RECORD_SCHEMA, REQUIRED
from creditindex.rules import RuleSet
from creditindex.spark.frames import from_arrow
from creditindex.spark.inputs import canonical, open_parquet, read_records
from creditindex.spark.sharding import SHARD, shard_of, with_shard


def _ids(subject_ids: Sequence[str]) -> list[str]:
    return sorted({s.strip().upper() for s in subject_ids if s.strip()})


def shards_of(spark: SparkSession, subject_ids: Sequence[str], shards: int) -> list[int]:
    """The shards (of ``shards``) the subjects' rows are in."""
    ids = spark.createDataFrame([(s,) for s in _ids(subject_ids)], "subject_id string")
    return sorted({int(r[0]) for r in ids.select(shard_of(shards)).collect()})


def lake_rows(spark: SparkSession, paths: str | Sequence[str], subject_ids: Sequence[str],
              shards: int | None = None) -> DataFrame:
    """The canonical records of ``subject_ids`` at ``paths`` as a Spark frame: filtered
    on ``subject_id`` (pushed down to Parquet) and, for records laid out by
    :func:`write_by_shard` with ``shards`` shards, on their shards (partitions pruned)."""
    names = [paths] if isinstance(paths, str) else list(paths)
    frame = open_parquet(spark, names)
    if shards is not None and SHARD in frame.columns:
        frame = frame.where(F.col(SHARD).isin(shards_of(spark, subject_ids, shards)))
    return canonical(frame, ", ".join(names), dict(RECORD_SCHEMA), REQUIRED).where(
        F.col("subject_id").isin(_ids(subject_ids)))


def records_of(spark: SparkSession, paths: str | Sequence[str],
               subject_ids: Sequence[str], shards: int | None = None) -> pl.DataFrame:
    """Every record (all roles) of ``subject_ids`` in the Parquet records at ``paths``,
    as a canonical polars frame (:func:`lake_rows`)."""
    rows = lake_rows(spark, paths, subject_ids, shards)
    return from_arrow(rows.toArrow(), dict(RECORD_SCHEMA))


def write_by_shard(spark: SparkSession, paths: str | Sequence[str], out: str,
                   shards: int) -> None:
    """Copy the canonical records at ``paths`` into ``out`` laid out by shard
    (``out/_shard=K/*.parquet``, ``shards`` of them), so that questions about a few
    subjects read only their shards (``records_of(..., shards=shards)``)."""
    with_shard(read_records(spark, paths), shards).write.partitionBy(SHARD).parquet(out)


def check_data(spark: SparkSession, paths: str | Sequence[str], rules: RuleSet,
               subject_ids: Sequence[str], lists: pl.DataFrame | None = None,
               manual: pl.DataFrame | None = None, subjects: pl.DataFrame | None = None,
               shards: int | None = None) -> CreditData:
    """What a question about ``subject_ids`` needs: their records from the lake, their
    manual restrictions and subjects-file rows, and every list entry."""
    keep = pl.col("subject_id").is_in(pl.Series(_ids(subject_ids), dtype=pl.String).implode())
    return CreditData(
        records=records_of(spark, paths, subject_ids, shards), rules=rules,
        subjects=None if subjects is None else subjects.filter(keep), lists=lists,
        manual=None if manual is None else manual.filter(keep))
