"""Times as users read them: the store keeps UTC; the app shows Beijing time
(Asia/Shanghai, UTC+8 all year: China has no daylight saving time)."""

from __future__ import annotations

import datetime as dt

import polars as pl

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def local_time(value: dt.datetime) -> str:
    """A stored UTC time (naive or aware) as ``YYYY-MM-DD HH:MM`` Beijing time."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def local_expr(column: str) -> pl.Expr:
    """A naive UTC datetime column as naive Beijing time."""
    return (pl.col(column) + pl.duration(hours=8)).alias(column)


def local_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every datetime column of ``frame`` (naive UTC, as stored) in Beijing time."""
    columns = [c for c, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)
               and dtype.time_zone is None]
    return frame.with_columns(local_expr(c) for c in columns) if columns else frame
