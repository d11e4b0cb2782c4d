"""Deadlines of the staff's work queues, in working days (工作日: Monday to Friday less
public holidays, plus the make-up working days, as :mod:`creditindex.workdays` counts them
from the State Council's published arrangements).

The periods are the centre's own service commitments and are configurable:
``CREDITINDEX_OBJECTION_WORKING_DAYS`` (default 10) for deciding an objection,
``CREDITINDEX_REPAIR_WORKING_DAYS`` (default 5) for deciding a repair application,
``CREDITINDEX_ENDING_SOON_DAYS`` (default 30) for restrictions shown as ending soon.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from creditindex.limits import env_int
from creditindex.workdays import add_working_days


def objection_days() -> int:
    """Working days to decide an objection."""
    return env_int("CREDITINDEX_OBJECTION_WORKING_DAYS", 10)


def repair_days() -> int:
    """Working days to decide a repair application."""
    return env_int("CREDITINDEX_REPAIR_WORKING_DAYS", 5)


def ending_soon_days() -> int:
    """Days ahead in which a restriction counts as ending soon."""
    return env_int("CREDITINDEX_ENDING_SOON_DAYS", 30)


def with_deadlines(steps: pl.DataFrame, today: dt.date) -> pl.DataFrame:
    """Open steps with their ``deadline`` and ``days_left`` (negative: overdue), the
    most urgent first."""
    periods = {"objection_filed": objection_days(), "repair_applied": repair_days()}
    deadlines = [add_working_days(d, periods.get(k, objection_days()))
                 for d, k in zip(steps.get_column("filed_on"), steps.get_column("kind"),
                                 strict=True)]
    return steps.with_columns(pl.Series("deadline", deadlines, pl.Date)).with_columns(
        (pl.col("deadline") - pl.lit(today)).dt.total_days().alias("days_left")
    ).sort("deadline", "event_id")


def ending_soon(manual: pl.DataFrame, today: dt.date) -> pl.DataFrame:
    """Manual restrictions in force that end within :func:`ending_soon_days`."""
    horizon = today + dt.timedelta(days=ending_soon_days())
    return manual.filter(pl.col("until").is_not_null() & (pl.col("until") >= today)
                         & (pl.col("until") <= horizon) & (pl.col("start") <= horizon)
                         ).with_columns((pl.col("until") - pl.lit(today)).dt.total_days()
                                        .alias("days_left")).sort("until")
