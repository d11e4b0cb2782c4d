"""Working days skip the public holidays and count the make-up working days (调休) of the
State Council's published arrangements."""

from __future__ import annotations

import datetime as dt

import pytest

from creditindex.workdays import (
    add_working_days,
    calendar,
    is_working_day,
    parse_calendar,
)

D = dt.date


def test_the_shipped_calendar_covers_2024_to_2026_and_is_consistent() -> None:
    cal = calendar()
    assert {2024, 2025, 2026} <= cal.years
    assert all(day.weekday() >= 5 for day in cal.workdays)  # make-up days are weekend days
    assert not cal.holidays & cal.workdays
    # days off as the notices total them: 2024 1+8+3+5+1+3+7, 2025 1+8+3+5+3+8,
    # 2026 3+9+3+5+3+3+7
    counts = {y: sum(d.year == y for d in cal.holidays) for y in (2024, 2025, 2026)}
    assert counts == {2024: 28, 2025: 28, 2026: 33}


def test_spring_festival_2026() -> None:
    # 2月15日至23日放假调休，2月14日（周六）、2月28日（周六）上班
    assert is_working_day(D(2026, 2, 14))  # a Saturday, worked
    assert not any(is_working_day(D(2026, 2, d)) for d in range(15, 24))
    assert is_working_day(D(2026, 2, 24))
    # filed on Friday 13 February: 1st working day the Saturday after, then 24, 25 ...
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    # ten working days from Thursday 12 February: 13, 14, 24, 25, 26, 27, 28 (Sat), 2, 3, 4
    assert add_working_days(D(2026, 2, 12), 10) == D(2026, 3, 4)


def test_spring_festival_2025() -> None:
    # 1月28日至2月4日放假调休，1月26日（周日）、2月8日（周六）上班
    assert add_working_days(D(2025, 1, 24), 1) == D(2025, 1, 26)  # Sunday, worked
    assert add_working_days(D(2025, 1, 24), 3) == D(2025, 2, 5)   # 26, 27, then 5 Feb


def test_national_day_week() -> None:
    # 2026: 10月1日至7日放假调休，9月20日（周日）、10月10日（周六）上班
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)  # Saturday, worked
    assert add_working_days(D(2026, 9, 30), 4) == D(2026, 10, 12)
    # 2025: 10月1日至8日 (国庆节、中秋节)，9月28日（周日）、10月11日（周六）上班
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert add_working_days(D(2025, 9, 30), 5) == D(2025, 10, 14)  # 9, 10, 11, 13, 14
    # 2024: 10月1日至7日，9月29日（周日）、10月12日（周六）上班
    assert add_working_days(D(2024, 9, 27), 1) == D(2024, 9, 29)
    assert add_working_days(D(2024, 9, 30), 5) == D(2024, 10, 12)  # 8-11, then Sat 12


def test_ordinary_weeks_and_unknown_years_count_monday_to_friday() -> None:
    assert add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)
    assert add_working_days(D(2026, 11, 27), 5) == D(2026, 12, 4)
    assert add_working_days(D(2030, 10, 1), 1) == D(2030, 10, 2)  # 2030 not published yet


def test_a_bad_calendar_is_refused_with_its_year_and_day() -> None:
    with pytest.raises(ValueError, match="2027-10-01 is both"):
        parse_calendar("""[[year]]
year = 2027
holidays = [{ name = "国庆节", from = 2027-10-01, to = 2027-10-07 }]
workdays = [2027-10-01]
""")
    with pytest.raises(ValueError, match="year 2027: holiday 春节"):
        parse_calendar("""[[year]]
year = 2027
holidays = [{ name = "春节", from = 2027-02-10, to = 2027-02-01 }]
""")
