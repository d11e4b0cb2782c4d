"""One date rule for records, lists, mappings, the store and the command line: bare
numbers are never dates, a month above 12 is never read as a day (no YYYY-DD-MM), and
every refusal names file, row, column and reason; nothing is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from creditindex.cli import main
from creditindex.convert import convert
from creditindex.dates import parse_date, parse_date_expr
from creditindex.errors import InputError
from creditindex.lists import read_list_entries
from creditindex.records import read_records
from creditindex.rules import load_rules
from tests.adversarial.cases import no_traceback, records_file

NOT_DATES = {
    "7": "is a bare number", "2025": "is a bare number", "20251": "is a bare number",
    "45000": "is a bare number", "2025-13-01": "is not a real calendar day",
    "2026-13-02": "is not a real calendar day", "2026-02-30": "is not a real calendar day",
    "2026/2/29": "is not a real calendar day", "20261301": "is not a real calendar day",
    "someday": "not a date",
}


@pytest.mark.parametrize(("text", "why"), NOT_DATES.items())
def test_records_refuse_it_naming_file_row_column_and_reason(tmp_path: Path, text: str,
                                                            why: str) -> None:
    path = records_file(tmp_path / "r.csv")
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(text))
                       .otherwise(pl.col("decided_on")).alias("decided_on")).write_csv(path)
    with pytest.raises(InputError) as err:
        read_records([path], load_rules(), today=dt.date(2026, 11, 30))
    [problem] = err.value.problems
    assert (problem.file, problem.row, problem.column) == (str(path), 3, "decided_on")
    assert f"'{text}' {why}" in problem.reason or (why == "not a date"
                                                   and problem.reason.startswith(why))


@pytest.mark.parametrize("text", ["2026-13-02", "2026-14-01", "2026-31-12"])
def test_month_above_twelve_is_never_read_as_day_month(text: str) -> None:
    with pytest.raises(ValueError, match="not a real calendar day"):
        parse_date(text)


@settings(deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_every_real_day_reads_back_in_every_accepted_format(day: dt.date) -> None:
    texts = [day.isoformat(), day.strftime("%Y/%m/%d"), day.strftime("%Y%m%d"),
             f"{day.year:04d}年{day.month}月{day.day}日", f"{day.isoformat()} 00:00:00"]
    got = pl.DataFrame({"t": texts}).select(parse_date_expr("t")).to_series().to_list()
    assert got == [day] * len(texts)
    if day.day > 12:  # a day-first reading would be a different date, or none
        swapped = f"{day.year:04d}-{day.day:02d}-{day.month:02d}"
        with pytest.raises(ValueError):
            parse_date(swapped)


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=9_999_999))
def test_no_bare_number_of_up_to_seven_digits_is_a_date(n: int) -> None:
    assert pl.DataFrame({"t": [str(n)]}).select(parse_date_expr("t")).item() is None


def test_lists_refuse_bare_numbers_and_day_month(tmp_path: Path) -> None:
    path = tmp_path / "court.csv"
    path.write_text("list,entry_id,name,listed_on,until\n"
                    "court,a,甲公司,2025,\ncourt,b,乙公司,2026-01-01,2026-13-02\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_list_entries([path])
    got = {(p.row, p.column): p.reason for p in err.value.problems}
    assert "'2025' is a bare number" in got[(2, "listed_on")]
    assert "'2026-13-02' is not a real calendar day" in got[(3, "until")]


def test_mappings_refuse_bare_numbers_even_with_their_own_formats(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text("名称,日期\n甲公司,45000\n乙公司,05.03.2024\n", encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text('kind = "list"\n[dates]\nformats = ["%d.%m.%Y"]\n'
                       '[fields]\nlist = { value = "court" }\nname = "名称"\n'
                       'listed_on = "日期"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        convert(source, mapping)
    [problem] = err.value.problems
    assert problem.row == 2 and "'45000' is a bare number" in problem.reason


def test_the_store_writes_nothing_from_a_file_with_a_bad_date(store_url: str,
                                                              tmp_path: Path) -> None:
    path = records_file(tmp_path / "r.csv")
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(pl.lit("20251").alias("recorded_on")).write_csv(path)
    runner = CliRunner()
    result = runner.invoke(main, ["import", "--db", store_url, "--records", str(path)])
    no_traceback(result)
    assert "'20251' is a bare number" in result.output
    out = tmp_path / "all.csv"
    done = runner.invoke(main, ["compute", "--db", store_url, "--on", "2026-03-01",
                                "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert pl.read_csv(out).height == 0


@pytest.mark.parametrize("text", ["2025", "2026-13-02", ""])
def test_command_line_days_follow_the_same_rule(tmp_path: Path, text: str) -> None:
    result = CliRunner().invoke(main, ["compute", "--records",
                                       str(records_file(tmp_path / "r.csv")), "--on", text])
    no_traceback(result)
    assert "--on" in result.output
