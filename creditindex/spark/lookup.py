"""A few subjects' records out of the lake, for questions about a few subjects
(``check``, ``explain``, ``history``): Spark reads only their rows (the filter is pushed
down to the Parquet files) and the single-process engine answers on the driver, exactly
as in one process, since every answer about a subject depends only on its own records
and the list entries."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from creditindex.records import RECORD_SCHEMA
from creditindex.spark.frames import from_arrow
from creditindex.spark.inputs import read_records


def records_of(spark: SparkSession, paths: str | Sequence[str],
               subject_ids: Sequence[str]) -> pl.DataFrame:
    """Every record (all roles) of ``subject_ids`` in the Parquet records at ``paths``,
    as a canonical polars frame."""
    ids = sorted({s.strip().upper() for s in subject_ids if s.strip()})
    rows = read_records(spark, paths).where(F.col("subject_id").isin(ids))
    return from_arrow(rows.toArrow(), dict(RECORD_SCHEMA))
