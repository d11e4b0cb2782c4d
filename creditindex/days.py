"""Dates at the edges, integer days inside: day 0 is 1970-01-01."""

from __future__ import annotations

import datetime as dt

EPOCH = dt.date(1970, 1, 1)


def to_day(d: dt.date) -> int:
    """The integer day of a date."""
    return (d - EPOCH).days


def to_date(day: int) -> dt.date:
    """The date of an integer day."""
    return EPOCH + dt.timedelta(days=int(day))
