"""Shards: which shard a subject's rows go to, and a fingerprint of each shard's rows.

A shard is ``pmod(xxhash64(subject_id), shards)``: every row of a subject (all its roles,
its subjects-file rows) lands in the same shard, always the same one for a given number
of shards, so a state folder can tell which shards changed since its last run.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

SHARD = "_shard"
# Fingerprints sum hashes modulo a prime (Spark's ANSI mode refuses overflowing sums).
_PRIME = 2_147_483_647


def shard_of(shards: int) -> Column:
    """The shard number of a row (an int in ``0..shards-1``) by its ``subject_id``."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    return F.pmod(F.xxhash64(F.col("subject_id")), F.lit(shards)).cast("int")


def with_shard(frame: DataFrame, shards: int) -> DataFrame:
    """``frame`` with its shard number in column :data:`SHARD`."""
    return frame.withColumn(SHARD, shard_of(shards))


def fingerprints(frame: DataFrame, columns: list[str]) -> DataFrame:
    """Per shard of a sharded ``frame``: a fingerprint of its rows that does not depend on
    their order (row count, sum and XOR of 64-bit row hashes over ``columns``), as one
    string column ``fingerprint``."""
    row = F.xxhash64(*[F.col(c) for c in columns])
    return frame.groupBy(SHARD).agg(
        F.count(F.lit(1)).alias("_n"),
        F.sum(F.pmod(row, F.lit(_PRIME))).alias("_sum"),
        F.bit_xor(row).alias("_xor"),
    ).select(SHARD, F.concat_ws(":", "_n", "_sum", "_xor").alias("fingerprint"))
