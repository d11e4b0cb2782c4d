"""The Spark engine on a real standalone cluster gives exactly the single-process
answer: every column, every row, with every rule of the contract in play."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from pyspark.sql import SparkSession

from creditindex.cli import main
from creditindex.errors import InputError
from creditindex.evaluate import CreditData, check, compute
from creditindex.spark.local_cluster import LocalCluster
from creditindex.spark.lookup import records_of
from creditindex.spark.pipeline import compute_on_spark, read_answer
from tests.spark.sparkdata import KNOWN_ON, ON, SparkData, spark_data

SHARDS = 6


@pytest.fixture(scope="module")
def data() -> SparkData:
    """Generated records with every rule in play."""
    return spark_data()


def _write_records(records: pl.DataFrame, folder: Path, parts: int = 3) -> Path:
    """Records as a folder of Parquet files, as a data lake holds them."""
    folder.mkdir(parents=True)
    size = -(-records.height // parts)
    for i in range(parts):
        records.slice(i * size, size).write_parquet(folder / f"part-{i}.parquet")
    return folder


def _single_process(data: SparkData, records: pl.DataFrame | None = None,
                    known_on: dt.date | None = None, subjects: bool = True,
                    **options: str | None) -> pl.DataFrame:
    credit = CreditData(records=data.records if records is None else records,
                        rules=data.rules, subjects=data.subjects if subjects else None,
                        lists=data.lists)
    return compute(credit, ON, known_on, **options)


def _assert_rules_in_play(data: SparkData, answer: pl.DataFrame) -> None:
    """The data exercise what they claim to (so equality means something)."""
    reasons = answer.get_column("reasons")
    causes = ["list:", "suspension:", "behaviour:"]
    if any(g.restricted for g in data.rules.grade):
        causes.append("grade:")
    for cause in causes:
        assert reasons.str.contains(cause).sum() > 0, f"no {cause} restriction in the data"
    assert answer.group_by("subject_id").len().filter(pl.col("len") > 1).height > 0
    assert answer.filter(pl.col("index") < 100).height > 50
    assert answer.filter(pl.col("index") == 100).height > 50


def test_answer_equals_single_process(spark: SparkSession, data: SparkData,
                                      workdir: Path) -> None:
    records = _write_records(data.records, workdir / "records")
    subjects = workdir / "subjects.parquet"
    data.subjects.write_parquet(subjects)
    run = compute_on_spark(spark, str(records), data.rules, ON, str(workdir / "answer"),
                           known_on=KNOWN_ON, lists=data.lists, subjects_path=str(subjects),
                           shards=SHARDS, timed=True, options={"financier": "adb"})
    want = _single_process(data, known_on=KNOWN_ON, financier="adb")
    _assert_rules_in_play(data, want)
    got = read_answer(workdir / "answer")
    assert_frame_equal(got, want)
    assert run.rows == want.height
    assert run.worker_seconds["shards"] == SHARDS  # every shard evaluated once, whole
    # Known-on matters here: the answer as known on the day differs.
    assert not want.equals(_single_process(data, financier="adb"))
    # The lender's own list bars only its projects.
    assert not want.equals(_single_process(data, known_on=KNOWN_ON))


def test_command_line_engine_spark(cluster: LocalCluster, spark: SparkSession,
                                   data: SparkData, workdir: Path) -> None:
    records = _write_records(data.records, workdir / "records", parts=2)
    lists = workdir / "lists.parquet"
    data.lists.write_parquet(lists)
    out = workdir / "answer"
    result = CliRunner().invoke(main, [
        "compute", "--engine", "spark", "--master", cluster.master_url, "--shards", "4",
        "--records", str(records), "--lists", str(lists), "--on", ON.isoformat(),
        "--category", "engineering", "--out", str(out)])
    assert result.exit_code == 0, result.output
    want = _single_process(data, subjects=False, category="engineering")
    assert_frame_equal(read_answer(out), want)
    # The answer folder is never replaced.
    again = CliRunner().invoke(main, [
        "compute", "--engine", "spark", "--master", cluster.master_url,
        "--records", str(records), "--on", ON.isoformat(), "--out", str(out)])
    assert again.exit_code == 2
    with pytest.raises(InputError, match="already exists"):
        compute_on_spark(spark, str(records), data.rules, ON, str(out))
    assert_frame_equal(read_answer(out), want)


def test_rerun_recomputes_only_changed_shards(spark: SparkSession, data: SparkData,
                                              workdir: Path) -> None:
    state = workdir / "state"
    records = workdir / "records"
    _write_records(data.records, records)
    first = compute_on_spark(spark, str(records), data.rules, ON, str(workdir / "a1"),
                             lists=data.lists, shards=SHARDS, state=str(state))
    assert first.computed == list(range(SHARDS)) and first.reused == []

    # Late records reach the lake the same day for two subjects.
    late_ids = data.records.get_column("subject_id").unique().sort().head(2)
    late = data.records.filter(pl.col("subject_id").is_in(late_ids.implode())).head(2)
    late = late.with_columns(pl.format("LATE-{}", pl.col("record_id")).alias("record_id"),
                             pl.lit(ON).alias("decided_on"), pl.lit(ON).alias("recorded_on"))
    late.write_parquet(records / "part-late.parquet")
    second = compute_on_spark(spark, str(records), data.rules, ON, str(workdir / "a2"),
                              lists=data.lists, shards=SHARDS, state=str(state))
    assert 1 <= len(second.computed) <= 2
    assert sorted(second.computed + second.reused) == list(range(SHARDS))
    everything = pl.concat([data.records, late], how="vertical_relaxed")
    want = _single_process(data, everything, subjects=False)
    assert_frame_equal(read_answer(workdir / "a2"), want)
    assert not want.equals(_single_process(data, subjects=False))

    # Nothing changed: nothing recomputed, the same answer.
    third = compute_on_spark(spark, str(records), data.rules, ON, str(workdir / "a3"),
                             lists=data.lists, shards=SHARDS, state=str(state))
    assert third.computed == [] and len(third.reused) == SHARDS
    assert_frame_equal(read_answer(workdir / "a3"), want)


def test_check_on_a_few_subjects_reads_only_theirs(spark: SparkSession, data: SparkData,
                                                   workdir: Path) -> None:
    records = _write_records(data.records, workdir / "records")
    answer = _single_process(data, subjects=False)
    restricted = answer.filter(pl.col("restricted")).get_column("subject_id").head(5)
    clean = answer.filter(~pl.col("restricted")).get_column("subject_id").head(5)
    asked = [*restricted, *clean, "91440106MA59999999"]
    mine = records_of(spark, str(records), asked)
    assert set(mine.get_column("subject_id")) == set(restricted) | set(clean)
    full = CreditData(records=data.records, rules=data.rules, lists=data.lists)
    narrow = CreditData(records=mine, rules=data.rules, lists=data.lists)
    want = check(full, ON, asked, known_on=KNOWN_ON)
    got = check(narrow, ON, asked, known_on=KNOWN_ON)
    assert_frame_equal(got.table, want.table)
    assert_frame_equal(got.grounds, want.grounds)
    assert not got.table.get_column("eligible").all()

