"""``creditindex compute|evaluate|check --engine spark``: the same engine on a Spark
cluster. ``compute`` and ``evaluate`` write the day's answer as Parquet (``evaluate``
with a state folder, so that a later day evaluates only what changed); ``check`` reads
the asked subjects' records from the lake and answers on the driver with the
single-process engine. pyspark is imported only when one of them runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from creditindex.cli.spark_options import SparkArgs
from creditindex.rules import load_rules

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from creditindex.evaluate import CreditData

_NEEDS_PYSPARK = "--engine spark needs pyspark: pip install 'creditindex[spark]'"


@contextmanager
def _session(master: str | None) -> Iterator[SparkSession]:
    """A session on ``master``, stopped afterwards unless one was already active."""
    try:
        from pyspark.sql import SparkSession

        from creditindex.spark.session import spark_session
    except ImportError as exc:
        raise click.ClickException(f"{_NEEDS_PYSPARK} ({exc})") from exc
    existing = SparkSession.getActiveSession()
    spark = spark_session(master)
    try:
        yield spark
    finally:
        if existing is None:
            spark.stop()


def _refuse_db(db_url: str | None, records_paths: Sequence[str]) -> None:
    if db_url:
        raise click.UsageError("--engine spark reads Parquet records (--records), not --db")
    if not records_paths:
        raise click.UsageError("give --records (Parquet files or folders) with --engine spark")


def compute_with_spark(args: SparkArgs, rules_path: str | None, records_paths: Sequence[str],
                       db_url: str | None, list_paths: Sequence[str],
                       subjects_path: str | None, on: dt.date, known_on: dt.date | None,
                       category: str | None, financier: str | None, out: str | None,
                       manual_path: str | None = None) -> None:
    """Run :func:`creditindex.spark.pipeline.compute_on_spark` for the command line."""
    _refuse_db(db_url, records_paths)
    if not out:
        raise click.UsageError("--engine spark writes Parquet: give --out NEW_FOLDER")
    rules = load_rules(rules_path)
    manual = None
    if manual_path:
        from creditindex.manual import read_manual

        manual = read_manual(manual_path)
    with _session(args.master) as spark:
        from creditindex.spark.inputs import read_lists
        from creditindex.spark.pipeline import compute_on_spark

        lists = read_lists(list_paths)
        run = compute_on_spark(spark, list(records_paths), rules, on, out, known_on=known_on,
                               lists=lists, subjects_path=subjects_path, shards=args.shards,
                               state=args.state, manual=manual,
                               options={"category": category, "financier": financier})
    detail = ""
    if args.state:
        detail = (f", {len(run.computed)} recomputed, {len(run.refreshed)} refreshed, "
                  f"{len(run.reused)} reused")
    click.echo(f"wrote {run.rows} rows to {out} ({run.shards} shards{detail})", err=True)


def check_data_with_spark(master: str | None, shards: int | None, rules_path: str | None,
                          records_paths: Sequence[str], db_url: str | None,
                          list_paths: Sequence[str], manual_path: str | None,
                          subject_ids: Sequence[str]) -> CreditData:
    """What ``check --engine spark`` answers from: the asked subjects' records read on
    the cluster (:func:`creditindex.spark.lookup.check_data`), lists and manual
    restrictions from their files."""
    _refuse_db(db_url, records_paths)
    rules = load_rules(rules_path)
    manual = None
    if manual_path:
        from creditindex.manual import read_manual

        manual = read_manual(manual_path)
    with _session(master) as spark:
        from creditindex.spark.inputs import read_lists
        from creditindex.spark.lookup import check_data

        return check_data(spark, list(records_paths), rules, subject_ids,
                          lists=read_lists(list_paths), manual=manual, shards=shards)
