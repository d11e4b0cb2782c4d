"""Command-line options that choose the engine (one process or Spark). Importing this
does not import pyspark."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SparkArgs:
    """Where and how a Spark run goes: master URL, shard count, state folder."""

    master: str | None
    shards: int | None
    state: str | None


_ENGINE = [
    click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
                 show_default=True,
                 help="local: this process; spark: a Spark cluster (pip extra 'spark')."),
    click.option("--master", help="With --engine spark: the master URL (spark://HOST:"
                                  "7077, local[4]...; default: spark-submit's)."),
]


_SHARDS = click.option("--shards", type=click.IntRange(min=1),
                       help="With --engine spark: shards by subject_id hash "
                            "(default: 4 per core of the cluster).")
_STATE = click.option("--state", type=click.Path(file_okay=False),
                      help="With --engine spark: a folder keeping per-shard state and a "
                           "manifest, so a rerun (the same day or a later one) evaluates "
                           "only shards whose inputs changed or whose subjects reached a "
                           "change point.")
MANUAL = click.option("--manual", "manual_path", type=click.Path(dir_okay=False),
                      help="Manual restrictions (subject_id, start, until, reason"
                           "[, document_no]; CSV, Parquet, Excel), as the store keeps them.")


def _apply(func: F, options: Sequence[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def SPARK_OPTIONS(func: F) -> F:
    """``--engine``, ``--master``, ``--shards``, ``--state``."""
    return _apply(func, [*_ENGINE, _SHARDS, _STATE])


def LOOKUP_OPTIONS(func: F) -> F:
    """``--engine``, ``--master``, ``--shards`` (questions about a few subjects: with
    records laid out by shard, only the asked subjects' shards are read)."""
    return _apply(func, [*_ENGINE, _SHARDS])


def refuse_folders(paths: Sequence[str], option: str) -> None:
    """Refuse folders where only files are read (what ``click.Path(dir_okay=False)``
    says), for options that take folders only with ``--engine spark``."""
    for path in paths:
        if Path(path).is_dir():
            raise click.BadParameter(f"File {path!r} is a directory (folders of Parquet "
                                     "files need --engine spark).", param_hint=f"'{option}'")


def writable_or_url(ctx: click.Context, param: click.Parameter, value: str | None
                    ) -> str | None:
    """``--out`` of a command that may write through Spark: a URL (``hdfs://...``) is
    left to Spark; a local path must be writable (see ``common.writable_file``)."""
    if value is None or "://" in value:
        return value
    from creditindex.cli.common import writable_file

    return writable_file(ctx, param, value)
