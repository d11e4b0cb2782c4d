"""check, manual restrictions and the daily update on a real standalone cluster: every
column equal to the single-process engine's, and a later day evaluating only what
changed (shards that received records; in the others only subjects at a change point)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from pyspark.sql import SparkSession

from creditindex.cli import main
from creditindex.evaluate import CreditData, compute
from creditindex.manual import read_manual
from creditindex.spark.local_cluster import LocalCluster
from creditindex.spark.lookup import lake_rows, records_of, shards_of, write_by_shard
from creditindex.spark.pipeline import compute_on_spark, read_answer
from tests.spark.sparkdata import ON, SparkData, spark_data

SHARDS = 5
DAY2 = ON + dt.timedelta(days=20)


@pytest.fixture(scope="module")
def data() -> SparkData:
    """Generated records with every rule in play (fewer than the pipeline tests)."""
    return spark_data(n_subjects=1500, n_records=3500, seed=29)


@pytest.fixture(scope="module")
def offenders(data: SparkData) -> list[str]:
    """Subjects with records, in a fixed order."""
    return data.records.get_column("subject_id").unique().sort().to_list()


@pytest.fixture(scope="module")
def manual(data: SparkData, offenders: list[str], tmp_path_factory: pytest.TempPathFactory
           ) -> pl.DataFrame:
    """Manual restrictions: in force on ON (indefinite and dated), ended before ON,
    starting between ON and DAY2 (a change point of an otherwise unchanged shard), and of
    a subject without records (only in the subjects file)."""
    clean = data.subjects.get_column("subject_id").to_list()
    path = tmp_path_factory.mktemp("manual") / "manual.csv"
    pl.DataFrame({
        "subject_id": [offenders[0], offenders[1], offenders[2], offenders[3], clean[1]],
        "start": ["2026-05-01", "2026-05-20", "2025-01-01", "2026-06-10", "2026-03-01"],
        "until": [None, "2026-12-31", "2025-06-30", None, "2026-09-30"],
        "reason": ["串通投标调查", "audit", "ended", "later", "no records"],
        "document_no": ["穗公管〔2026〕1号", None, None, "D-4", None],
    }).write_csv(path)
    return read_manual(path)


def _lake(records: pl.DataFrame, folder: Path, parts: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-records.height // parts)
    for i in range(parts):
        records.slice(i * size, size).write_parquet(folder / f"part-{i}.parquet")
    return folder


def _local(data: SparkData, day: dt.date, manual: pl.DataFrame | None,
           records: pl.DataFrame | None = None, **options: str | None) -> pl.DataFrame:
    credit = CreditData(records=data.records if records is None else records,
                        rules=data.rules, subjects=data.subjects, lists=data.lists,
                        manual=manual)
    return compute(credit, day, **options)


def test_manual_restrictions_on_spark(spark: SparkSession, data: SparkData,
                                      manual: pl.DataFrame, workdir: Path) -> None:
    records = _lake(data.records, workdir / "records")
    subjects = workdir / "subjects.parquet"
    data.subjects.write_parquet(subjects)
    compute_on_spark(spark, str(records), data.rules, ON, str(workdir / "answer"),
                     lists=data.lists, subjects_path=str(subjects), shards=SHARDS,
                     manual=manual, options={"category": "procurement"})
    want = _local(data, ON, manual, category="procurement")
    assert_frame_equal(read_answer(workdir / "answer"), want)
    manual_rows = want.filter(pl.col("reasons").str.contains("manual:"))
    assert manual_rows.get_column("subject_id").unique().len() == 3
    assert not want.equals(_local(data, ON, None, category="procurement"))


def _check_args(kind: str, records: Path, lists: Path, manual_csv: Path, asked: Path,
                out: Path, *extra: str) -> list[str]:
    args = ["check", "--records", str(records), "--lists", str(lists), "--manual",
            str(manual_csv), "--subjects-file", str(asked), "--on", ON.isoformat(),
            "--out", str(out), *extra]
    return args + (["--engine", "spark"] if kind == "spark" else [])


@pytest.mark.parametrize("extra", [[], ["--consortium", "--category", "engineering"],
                                   ["--financier", "adb", "--type", "bidder"]],
                         ids=["each", "consortium", "financier"])
def test_check_engine_spark_equals_local(spark: SparkSession, data: SparkData,
                                         offenders: list[str], manual: pl.DataFrame,
                                         workdir: Path, extra: list[str]) -> None:
    lake = _lake(data.records, workdir / "lake")
    single = workdir / "records.parquet"
    data.records.write_parquet(single)
    lists = workdir / "lists.parquet"
    data.lists.write_parquet(lists)
    manual_csv = workdir / "manual.csv"
    manual.write_csv(manual_csv)
    answer = _local(data, ON, manual)
    restricted = answer.filter(pl.col("restricted")).get_column("subject_id").unique().sort()
    clean = data.subjects.row(0, named=True)  # no records, listed by name
    asked = pl.DataFrame({
        "subject_id": [*restricted.head(4), offenders[0], offenders[3], offenders[10],
                       clean["subject_id"]],
        "subject_name": [None] * 7 + [clean["subject_name"]]})
    asked_csv = workdir / "asked.csv"
    asked.write_csv(asked_csv)
    runner = CliRunner()
    got_local = runner.invoke(main, _check_args("local", single, lists, manual_csv,
                                                asked_csv, workdir / "local.parquet", *extra))
    assert got_local.exit_code == 0, got_local.output
    got_spark = runner.invoke(main, _check_args("spark", lake, lists, manual_csv, asked_csv,
                                                workdir / "spark.parquet", *extra))
    assert got_spark.exit_code == 0, got_spark.output
    want = pl.read_parquet(workdir / "local.parquet")
    assert_frame_equal(pl.read_parquet(workdir / "spark.parquet"), want)
    assert not want.get_column("eligible").all()
    if not extra:
        reasons = " ".join(want.get_column("reasons").to_list())
        assert "manual:" in reasons and "list:" in reasons


def test_check_reads_only_the_asked_subjects_shards(spark: SparkSession, data: SparkData,
                                                    offenders: list[str],
                                                    workdir: Path) -> None:
    lake = _lake(data.records, workdir / "lake")
    by_shard = workdir / "by-shard"
    write_by_shard(spark, str(lake), str(by_shard), SHARDS)
    asked = offenders[5:8]
    wanted = shards_of(spark, asked, SHARDS)
    assert len(wanted) < SHARDS
    plan = lake_rows(spark, str(by_shard), asked, shards=SHARDS)._jdf.queryExecution(
    ).executedPlan().toString()
    pruned = re.search(r"PartitionFilters: \[([^\]]*)\]", plan)
    assert pruned and "_shard" in pruned.group(1) and " IN (" in pruned.group(1), plan
    assert "PushedFilters" in plan and "subject_id" in plan
    mine = records_of(spark, str(by_shard), asked, shards=SHARDS)
    ids = pl.Series(asked).implode()
    want = data.records.filter(pl.col("subject_id").is_in(ids))
    order = ["source", "record_id", "subject_type"]
    assert_frame_equal(mine.sort(order), want.sort(order), check_dtypes=False)


def test_next_day_evaluates_only_what_changed(spark: SparkSession, data: SparkData,
                                              offenders: list[str], manual: pl.DataFrame,
                                              workdir: Path) -> None:
    records = _lake(data.records, workdir / "records")
    subjects = workdir / "subjects.parquet"
    data.subjects.write_parquet(subjects)
    state = str(workdir / "state")

    def day(on: dt.date, name: str) -> tuple[pl.DataFrame, object]:
        run = compute_on_spark(spark, str(records), data.rules, on, str(workdir / name),
                               lists=data.lists, subjects_path=str(subjects),
                               shards=SHARDS, state=state, manual=manual, timed=True)
        return read_answer(workdir / name), run

    first, run1 = day(ON, "day1")
    assert_frame_equal(first, _local(data, ON, manual))
    assert run1.computed == list(range(SHARDS))  # type: ignore[attr-defined]
    total = run1.worker_seconds["subjects"]  # type: ignore[attr-defined]

    # New records reach the lake for two subjects of one shard.
    target = shards_of(spark, offenders[:1], SHARDS)[0]
    mates = [s for s in offenders[20:200] if shards_of(spark, [s], SHARDS) == [target]][:2]
    new = data.records.filter(pl.col("subject_id").is_in(pl.Series(mates).implode())).head(2)
    new = new.with_columns(pl.format("NEW-{}", pl.col("record_id")).alias("record_id"),
                           pl.lit(DAY2 - dt.timedelta(days=2)).alias("decided_on"),
                           pl.lit(DAY2 - dt.timedelta(days=1)).alias("recorded_on"),
                           *(pl.lit(None, new.schema[c]).alias(c) for c in (
                               "revoked_on", "repaired_on", "restrict_until",
                               "publish_until")))
    new.write_parquet(records / "part-new.parquet")
    everything = pl.concat([data.records, new], how="vertical_relaxed")

    second, run2 = day(DAY2, "day2")
    want2 = _local(data, DAY2, manual, records=everything)
    assert_frame_equal(second, want2)
    assert run2.computed == [target]  # type: ignore[attr-defined]
    assert sorted(run2.refreshed + run2.reused) == [  # type: ignore[attr-defined]
        k for k in range(SHARDS) if k != target]
    # Only subjects with new inputs or at a change point were computed again.
    assert 2 <= run2.worker_seconds["subjects"] < total / 2  # type: ignore[attr-defined]
    # The answer did move with the day (expiry, decay, a manual restriction starting).
    assert not second.equals(first)
    assert second.filter(pl.col("subject_id") == offenders[3]).get_column("restricted").all()

    # The same day again: every shard reused, nothing evaluated, the same answer.
    third, run3 = day(DAY2, "day3")
    assert run3.computed == [] and run3.refreshed == []  # type: ignore[attr-defined]
    assert run3.reused == list(range(SHARDS))  # type: ignore[attr-defined]
    assert_frame_equal(third, want2)


def test_evaluate_engine_spark_command(cluster: LocalCluster, spark: SparkSession,
                                       data: SparkData, manual: pl.DataFrame,
                                       workdir: Path) -> None:
    records = _lake(data.records, workdir / "records")
    manual_csv = workdir / "manual.csv"
    manual.write_csv(manual_csv)
    lists = workdir / "lists.parquet"
    data.lists.write_parquet(lists)
    base = ["evaluate", "--engine", "spark", "--master", cluster.master_url, "--shards",
            "3", "--records", str(records), "--lists", str(lists), "--manual",
            str(manual_csv), "--state", str(workdir / "state")]
    for on, name in ((ON, "d1"), (DAY2, "d2")):
        result = CliRunner().invoke(main, [*base, "--on", on.isoformat(), "--out",
                                           str(workdir / name)])
        assert result.exit_code == 0, result.output
        local = compute(CreditData(records=data.records, rules=data.rules, lists=data.lists,
                                   manual=manual), on)
        assert_frame_equal(read_answer(workdir / name), local)
    assert "0 recomputed" in result.output
    no_state = CliRunner().invoke(main, [b for b in base if b != str(workdir / "state")
                                         and b != "--state"] + ["--out", str(workdir / "x")])
    assert no_state.exit_code == 2 and "--state" in no_state.output
