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


def parse_date(text: str) -> dt.date:
    """Parse one date in any format the importers accept (docs/semantics.md §2.1).

    Raises ``ValueError`` with a readable reason.
    """
    s = text.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)")
