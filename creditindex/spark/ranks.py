"""Ranks over the whole population without sorting it.

An index is rounded to cents between the floor and the base, so it takes at most
(base - floor) x 100 + 1 values. Counting subjects per (subject type, index value) gives
a table of at most that many rows per type; a subject's rank is one plus the number of
subjects of its type with a strictly higher index (competition ranking, as
:func:`creditindex.engine.rank_expr`: 1, 1, 3). The table is joined back to every row.
"""

from __future__ import annotations

import polars as pl
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

KEY = ["subject_type", "index"]


def ranks_from_counts(counts: pl.DataFrame) -> pl.DataFrame:
    """From ``subject_type, index, count`` rows, ``subject_type, index, rank`` (Int64):
    1 + the number of subjects of the same type with a strictly higher index."""
    return counts.sort(["subject_type", "index"], descending=[False, True]).select(
        *KEY,
        (pl.col("count").cum_sum().over("subject_type") - pl.col("count") + 1)
        .cast(pl.Int64).alias("rank"),
    )


def rank_table(spark: SparkSession, unranked: DataFrame) -> pl.DataFrame:
    """The (subject type, index) -> rank table of an answer without ranks (one small
    aggregation; the only rows that reach the driver)."""
    counts = unranked.groupBy(*KEY).agg(F.count(F.lit(1)).alias("count")).toArrow()
    frame = pl.from_arrow(counts)
    assert isinstance(frame, pl.DataFrame)
    return ranks_from_counts(frame.cast({"count": pl.Int64}))


def with_ranks(spark: SparkSession, unranked: DataFrame) -> DataFrame:
    """``unranked`` with column ``rank`` joined from :func:`rank_table` (broadcast)."""
    table = rank_table(spark, unranked)
    ranks = spark.createDataFrame(table.to_arrow(), "subject_type string, index double, "
                                  "rank long")
    return unranked.join(F.broadcast(ranks), on=KEY, how="left")
