"""``creditindex compute --engine spark``: the day's answer computed on a Spark cluster
(a check of a few subjects reads their records with :func:`creditindex.spark.lookup.
records_of` and answers with ``evaluate.check``). pyspark is imported only when it runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import click

from creditindex.cli.spark_options import SparkArgs
from creditindex.rules import load_rules

_NEEDS_PYSPARK = "--engine spark needs pyspark: pip install 'creditindex[spark]'"


def compute_with_spark(args: SparkArgs, rules_path: str | None, records_paths: Sequence[str],
                       db_url: str | None, list_paths: Sequence[str],
                       subjects_path: str | None, on: dt.date, known_on: dt.date | None,
                       category: str | None, financier: str | None, out: str | None) -> None:
    """Run :func:`creditindex.spark.pipeline.compute_on_spark` for the command line."""
    if db_url:
        raise click.UsageError("--engine spark reads Parquet records (--records), not --db")
    if not records_paths:
        raise click.UsageError("give --records (Parquet files or folders) with --engine spark")
    if not out:
        raise click.UsageError("--engine spark writes Parquet: give --out NEW_FOLDER")
    try:
        from pyspark.sql import SparkSession

        from creditindex.spark.inputs import read_lists
        from creditindex.spark.pipeline import compute_on_spark
        from creditindex.spark.session import spark_session
    except ImportError as exc:
        raise click.ClickException(f"{_NEEDS_PYSPARK} ({exc})") from exc
    rules = load_rules(rules_path)
    lists = read_lists(list_paths)
    existing = SparkSession.getActiveSession()
    spark = spark_session(args.master)
    try:
        run = compute_on_spark(spark, list(records_paths), rules, on, out, known_on=known_on,
                               lists=lists, subjects_path=subjects_path, shards=args.shards,
                               state=args.state,
                               options={"category": category, "financier": financier})
    finally:
        if existing is None:
            spark.stop()
    reused = f", {len(run.reused)} reused" if args.state else ""
    click.echo(f"wrote {run.rows} rows to {out} ({run.shards} shards"
               f"{', ' + str(len(run.computed)) + ' computed' if args.state else ''}{reused})",
               err=True)

