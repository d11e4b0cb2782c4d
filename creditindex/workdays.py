"""Working days (工作日) in mainland China: Monday to Friday, less the public holidays, plus
the make-up working days (调休上班) the State Council's General Office announces each
year (``creditindex/data/cn_public_holidays.toml``, which cites each notice). A year the
file does not list counts Monday to Friday."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CALENDAR_FILE = "cn_public_holidays.toml"
CALENDAR_PATH = Path(__file__).resolve().parent / "data" / CALENDAR_FILE


@dataclass(frozen=True)
class Calendar:
    """The published arrangements: holiday days, make-up working days, the years known."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    years: frozenset[int]


def parse_calendar(text: str) -> Calendar:
    """The arrangements of a calendar file's text (``ValueError`` naming the year and
    day when a spell runs backwards, leaves its year, or a day is both a holiday and a
    make-up working day)."""
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    years: set[int] = set()
    for entry in tomllib.loads(text).get("year", []):
        year = int(entry["year"])
        years.add(year)
        for spell in entry.get("holidays", []):
            first, last = spell["from"], spell["to"]
            if last < first or first.year != year or last.year != year:
                raise ValueError(f"{CALENDAR_FILE}: year {year}: holiday {spell.get('name')} "
                                 f"from {first} to {last} is not a spell of that year")
            holidays.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        for day in entry.get("workdays", []):
            if day.year != year:
                raise ValueError(f"{CALENDAR_FILE}: year {year}: make-up working day {day} "
                                 "is not in that year")
            workdays.add(day)
    both = sorted(holidays & workdays)
    if both:
        raise ValueError(f"{CALENDAR_FILE}: {both[0]} is both a holiday and a working day")
    return Calendar(frozenset(holidays), frozenset(workdays), frozenset(years))


@cache
def calendar() -> Calendar:
    """The calendar shipped with the package."""
    return parse_calendar(CALENDAR_PATH.read_text(encoding="utf-8"))


def is_working_day(day: dt.date, cal: Calendar | None = None) -> bool:
    """Whether ``day`` is a working day: a make-up working day, or Monday to Friday and
    not a public holiday."""
    cal = cal or calendar()
    if day in cal.workdays:
        return True
    return day.weekday() < 5 and day not in cal.holidays


def add_working_days(day: dt.date, n: int, cal: Calendar | None = None) -> dt.date:
    """The ``n``-th working day after ``day`` (``day`` itself is not counted: a period
    starts on the day after the event, 期间开始的当日不计入)."""
    cal = cal or calendar()
    current, left = day, n
    while left > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current, cal):
            left -= 1
    return current

