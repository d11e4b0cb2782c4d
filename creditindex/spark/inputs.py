"""Reading the inputs of a Spark run: canonical records from Parquet (a file or a folder
of files, as a data lake holds them), subjects, and external list entries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from creditindex.errors import InputError, Problem
from creditindex.records import RECORD_SCHEMA, REQUIRED
from creditindex.records import read_subjects as read_subjects_file
from creditindex.spark.frames import spark_type
from creditindex.spark.shard_engine import SUBJECT_COLUMNS


def open_parquet(spark: SparkSession, paths: str | Sequence[str]) -> DataFrame:
    """Parquet files or folders as one Spark frame; :class:`InputError` when missing."""
    names = [paths] if isinstance(paths, str) else list(paths)
    try:
        return spark.read.parquet(*names)
    except AnalysisException as exc:
        reason = "not found" if "PATH_NOT_FOUND" in str(exc) else f"cannot read: {exc}"
        raise InputError.one(", ".join(names), reason) from exc


def canonical(frame: DataFrame, path: str, schema: dict[str, pl.DataType],
              required: Sequence[str]) -> DataFrame:
    """``frame``'s columns of ``schema``, cast to their types (optional ones null when
    absent); :class:`InputError` naming every required column that is missing."""
    present = {c.lower(): c for c in frame.columns}
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError([Problem(path, None, c, "required column missing") for c in missing])
    return frame.select(*[
        (F.col(present[c]) if c in present else F.lit(None)).cast(spark_type(t)).alias(c)
        for c, t in schema.items()
    ])


def read_records(spark: SparkSession, paths: str | Sequence[str]) -> DataFrame:
    """Canonical records (``records.RECORD_SCHEMA``) from Parquet files or folders."""
    name = paths if isinstance(paths, str) else ", ".join(paths)
    return canonical(open_parquet(spark, paths), name, dict(RECORD_SCHEMA), REQUIRED)


def read_subjects(spark: SparkSession, path: str) -> DataFrame:
    """Subjects without records (``subject_id, subject_type, subject_name[, country]``)
    from a Parquet file or folder, or any file :func:`creditindex.records.read_subjects`
    reads (CSV, Excel)."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in (".parquet", ".pq") or "://" in path:
        frame = open_parquet(spark, path)
    else:
        local = read_subjects_file(path)
        frame = spark.createDataFrame(local.to_arrow())
    required = ["subject_id", "subject_type"]
    return canonical(frame, path, dict(SUBJECT_COLUMNS), required)


def read_lists(paths: Sequence[str]) -> pl.DataFrame | None:
    """Canonical list entries (small: read on the driver, broadcast to the workers)."""
    if not paths:
        return None
    from creditindex.lists import read_list_entries

    entries: pl.DataFrame = read_list_entries(list(paths))
    return entries
