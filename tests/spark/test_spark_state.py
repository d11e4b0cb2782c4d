"""A shard's answer from its earlier state (no cluster): computing only the subjects
whose inputs changed or that reached a change point gives, day after day, exactly the
answer computed from nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from creditindex.evaluate import CreditData, compute
from creditindex.manual import MANUAL_COLUMNS
from creditindex.spark.frames import arrow_schema, spark_schema
from creditindex.spark.pipeline import answer_columns
from creditindex.spark.shard_engine import (
    RANK,
    STATE_COLUMNS,
    ShardJob,
    input_hashes,
    lists_to_bytes,
    stale_subjects,
)
from creditindex.spark.sharding import SHARD
from tests.spark.sparkdata import ON, SparkData, spark_data

KEY = ["subject_type", "subject_id"]


@pytest.fixture(scope="module")
def data() -> SparkData:
    return spark_data(n_subjects=800, n_records=2000, seed=5)


def _manual(data: SparkData) -> pl.DataFrame:
    ids = data.records.get_column("subject_id").unique().sort().to_list()
    return pl.DataFrame({
        "subject_id": ids[:3], "start": [dt.date(2026, 5, 1), dt.date(2026, 6, 15),
                                         dt.date(2026, 7, 2)],
        "until": [dt.date(2026, 6, 20), None, dt.date(2026, 7, 3)],
        "reason": ["a", "b", "c"], "document_no": [None, "D", None]}, schema=MANUAL_COLUMNS)


def _job(data: SparkData, on: dt.date) -> ShardJob:
    columns = answer_columns(data.rules, on, None, {}, data.lists)
    kept = {**{c: t for c, t in columns.items() if c != RANK}, **STATE_COLUMNS,
            SHARD: pl.Int32()}
    blob = lists_to_bytes(data.lists)
    return ShardJob(rules=data.rules, on=on, known_on=None,
                    output=arrow_schema(spark_schema(kept)), lists=blob, lists_key="k",
                    keep_state=True)


def test_day_after_day_from_state_equals_from_nothing(data: SparkData) -> None:
    manual = _manual(data)
    previous = None
    records = data.records
    recomputed = []
    for step, on in enumerate([ON + dt.timedelta(days=d) for d in (0, 1, 14, 15, 31, 32)]):
        if step == 3:  # new records for two subjects
            new = data.records.head(2).with_columns(
                pl.format("NEW-{}", pl.col("record_id")).alias("record_id"),
                pl.lit(on).alias("decided_on"), pl.lit(on).alias("recorded_on"),
                pl.lit(None, pl.Date).alias("revoked_on"),
                pl.lit(None, pl.Date).alias("repaired_on"))
            records = pl.concat([records, new], how="vertical_relaxed")
        job = _job(data, on)
        got = job.answer(records, data.subjects, manual, previous)
        want = compute(CreditData(records=records, rules=data.rules, subjects=data.subjects,
                                  lists=data.lists, manual=manual), on).drop(RANK)
        assert_frame_equal(got.select(want.columns).sort(KEY), want.sort(KEY))
        stale = stale_subjects(input_hashes(job.data(records, data.subjects, manual)),
                               previous, (on - dt.date(1970, 1, 1)).days)
        recomputed.append(len(stale))
        previous = got
    total = data.records.get_column("subject_id").n_unique()
    assert recomputed[0] >= total
    assert all(n < total / 2 for n in recomputed[1:])  # later days: a few subjects


def test_the_shard_function_reads_the_side_table(data: SparkData) -> None:
    manual = _manual(data)
    job = _job(data, ON)
    side = pl.concat([data.subjects.with_columns(pl.lit("subject").alias("_kind")),
                      manual.with_columns(pl.lit("manual").alias("_kind"))],
                     how="diagonal_relaxed")
    out = pl.from_arrow(job.arrow_answer(3, data.records.to_arrow(), side.to_arrow()))
    assert isinstance(out, pl.DataFrame)
    want = compute(CreditData(records=data.records, rules=data.rules, subjects=data.subjects,
                              lists=data.lists, manual=manual), ON).drop(RANK)
    assert_frame_equal(out.select(want.columns).sort(KEY), want.sort(KEY),
                       check_dtypes=False)
    assert out.get_column(SHARD).unique().to_list() == [3]
    assert isinstance(job.output, pa.Schema)
