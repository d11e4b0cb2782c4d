"""Bad input an adversarial pass sent to the command line: each is refused with exit 2 and a
message naming the file (or option) and the reason, no traceback, nothing written."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import polars as pl
import pytest

from creditindex.errors import InputError
from creditindex.readers import read_table
from creditindex.records import read_records
from creditindex.rules import load_rules, parse_rules
from tests.adversarial.cases import (
    EXPERT,
    FIRM,
    bomb_xlsx,
    no_traceback,
    records_file,
    run,
)
from tests.helpers import rid, uscc

# ---------------------------------------------------------------- #1 spreadsheet bombs

@pytest.mark.parametrize("far", ["XFD1048576", "ZZ200000", "T1048576"])
def test_a_tiny_workbook_with_a_huge_used_range_is_refused_before_reading(
        tmp_path: Path, far: str) -> None:
    path = bomb_xlsx(tmp_path / "bomb.xlsx", far)
    assert path.stat().st_size < 10_000
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        read_table(path)
    assert time.monotonic() - started < 5
    problem = err.value.problems[0]
    assert problem.file == str(path)
    assert "exceeds" in problem.reason or "more than the limit" in problem.reason


@pytest.mark.parametrize("command", [
    ["compute", "--on", "2026-03-01", "--records"],
    ["check", "--on", "2026-03-01", "--subjects", FIRM, "--records"],
])
def test_the_command_line_refuses_a_bomb_with_exit_2(tmp_path: Path,
                                                     command: list[str]) -> None:
    path = bomb_xlsx(tmp_path / "bomb.xlsx")
    result = run(*command, str(path))
    no_traceback(result)
    assert str(path) in result.output and "limit" in result.output


def test_subjects_file_and_declared_dimension_are_checked_too(tmp_path: Path) -> None:
    path = bomb_xlsx(tmp_path / "ids.xlsx")
    result = run("check", "--on", "2026-03-01", "--subjects-file", str(path),
                 "--records", str(records_file(tmp_path / "r.csv")))
    no_traceback(result)
    assert "limit" in result.output


def test_limits_are_configurable_and_named_in_the_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = records_file(tmp_path / "r.csv")
    monkeypatch.setenv("CREDITINDEX_MAX_ROWS", "2")
    with pytest.raises(InputError, match="CREDITINDEX_MAX_ROWS"):
        read_table(path)
    monkeypatch.setenv("CREDITINDEX_MAX_ROWS", "3")
    assert read_table(path).height == 3
    monkeypatch.setenv("CREDITINDEX_MAX_FILE_BYTES", "100")
    with pytest.raises(InputError, match="file size"):
        read_table(path)


def test_legacy_workbook_formats_whose_range_cannot_be_checked_are_refused(
        tmp_path: Path) -> None:
    path = tmp_path / "book.ods"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match=r"save the sheet as \.xlsx"):
        read_table(path)


# ---------------------------------------------------------------- #3 IDs failing their check

@pytest.mark.parametrize("bad", ["NOT-AN-ID", uscc(2)[:-1] + ("0" if uscc(2)[-1] != "0"
                                                              else "1")])
def test_check_refuses_an_id_that_fails_its_check(tmp_path: Path, bad: str) -> None:
    evidence = tmp_path / "e.html"
    result = run("check", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--subjects", f"{FIRM},{bad}",
                 "--evidence", str(evidence))
    no_traceback(result)
    assert bad in result.output
    assert "not a valid code" in result.output
    assert not evidence.exists()


def test_a_resident_id_with_an_impossible_birth_date_is_refused_for_that_reason(
        tmp_path: Path) -> None:
    """Right check character, impossible date (1980-02-30): the birth-date check alone
    refuses it, and the reason says so."""
    from creditindex.identifiers import rid_check_char, rid_problem

    body = "44010619800230123"
    bad = body + rid_check_char(body)
    assert rid_problem(bad) == "resident ID birth date 19800230 is not a real date"
    result = run("pool", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--experts-file",
                 str(_lines(tmp_path / "pool.txt", [EXPERT, bad])))
    no_traceback(result)
    assert "birth date 19800230 is not a real date" in result.output


def _lines(path: Path, values: list[str]) -> Path:
    path.write_text("\n".join(values) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("intruder", [uscc(7), "garbage"])
def test_pool_refuses_what_is_not_an_expert(tmp_path: Path, intruder: str) -> None:
    result = run("pool", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--experts-file",
                 str(_lines(tmp_path / "pool.txt", [EXPERT, rid(6), intruder])))
    no_traceback(result)
    assert intruder.upper() in result.output


def test_too_many_subjects_in_one_request(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITINDEX_MAX_SUBJECTS", "2")
    ids = ",".join(uscc(i) for i in range(3))
    result = run("check", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--subjects", ids)
    no_traceback(result)
    assert "CREDITINDEX_MAX_SUBJECTS" in result.output


# ---------------------------------------------------------------- #8 absurd rule values

RULES = """
[ruleset]
name = "absurd"
version = "1"
[[grade]]
name = "A"
min = {grade_min}
[[grade]]
name = "B"
min = 0
[[behaviour]]
code = "X"
name = "x"
subject_types = ["bidder"]
points = 5
days = {days}
"""


@pytest.mark.parametrize("days", ["9223372036854775807", "4000000000", "36501"])
def test_absurd_day_counts_are_refused_with_entry_and_reason(days: str) -> None:
    with pytest.raises(InputError) as err:
        parse_rules(RULES.format(days=days, grade_min=90), "absurd.toml")
    problem = err.value.problems[0]
    assert problem.column == "behaviour[1] X.days"
    assert "36500" in problem.reason


def test_a_grade_above_base_is_refused() -> None:
    with pytest.raises(InputError) as err:
        parse_rules(RULES.format(days=30, grade_min=120), "above.toml")
    assert [(p.column, p.reason) for p in err.value.problems] == [
        ("grade[1] A.min", "min 120 is above base 100: no index can reach this grade")]


# ---------------------------------------------------------------- #22 records

def test_an_unknown_industry_and_a_duplicate_column_are_refused(tmp_path: Path) -> None:
    path = records_file(tmp_path / "r.csv")
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(pl.lit("spaceships").alias("industry")).write_csv(path)
    with pytest.raises(InputError) as err:
        read_records([path], load_rules(), today=dt.date(2026, 11, 30))
    assert {(p.row, p.column) for p in err.value.problems} == {(2, "industry"),
                                                               (3, "industry"),
                                                               (4, "industry")}
    assert "unknown industry 'spaceships'" in err.value.problems[0].reason
    text = path.read_text(encoding="utf-8").splitlines()
    dup = tmp_path / "dup.csv"
    dup.write_text("\n".join([text[0] + ",Region"] + [t + ",x" for t in text[1:]]),
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_records([dup], load_rules())
    assert [(p.row, p.column, p.reason) for p in err.value.problems] == [
        (1, "region", "the column appears more than once in the header")]


# ---------------------------------------------------------------- #15-17 no tracebacks

def test_unwritable_out_is_refused_before_computing(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = "/proc/creditindex/answer.csv"  # even root cannot create it
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "answer.csv")
    result = run("compute", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--out", target)
    no_traceback(result)
    assert "cannot write" in result.output


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary\xff\xfe", "规则".encode("gbk")])
def test_binary_or_gbk_rules_file(tmp_path: Path, content: bytes) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_bytes(content)
    result = run("validate-rules", str(rules))
    no_traceback(result)
    assert str(rules) in result.output


def test_binary_subjects_file(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes(bytes(range(256)) * 4)
    result = run("check", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--subjects-file", str(ids))
    no_traceback(result)
    assert "binary" in result.output


def test_binary_records_file(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(b"record_id,source\x00\xff\xfe\n")
    result = run("compute", "--records", str(path), "--on", "2026-03-01")
    no_traceback(result)
    assert "binary file" in result.output


def test_records_refuse_an_expert_id_with_an_impossible_birth_date(tmp_path: Path) -> None:
    """The vectorised check of record files: right check character, impossible date."""
    from creditindex.identifiers import rid_check_char

    body = "44010619800230123"
    bad = body + rid_check_char(body)
    path = records_file(tmp_path / "r.csv")
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(pl.when(pl.col("subject_type") == "expert").then(pl.lit(bad))
                       .otherwise(pl.col("subject_id")).alias("subject_id")).write_csv(path)
    with pytest.raises(InputError) as err:
        read_records([path], load_rules(), today=dt.date(2026, 11, 30))
    assert [(p.row, p.column, p.reason) for p in err.value.problems] == [
        (4, "subject_id", "resident ID birth date 19800230 is not a real date")]


def test_an_oversized_rule_set_is_refused_unread(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITINDEX_MAX_CONFIG_BYTES", "1000")
    rules = tmp_path / "big.toml"
    rules.write_text("# padding\n" * 200, encoding="utf-8")
    result = run("validate-rules", str(rules))
    no_traceback(result)
    assert "CREDITINDEX_MAX_CONFIG_BYTES" in result.output


def test_a_sheet_wider_than_the_column_limit_is_refused(tmp_path: Path) -> None:
    path = bomb_xlsx(tmp_path / "wide.xlsx", "VZ2")  # 598 columns, 1,196 cells
    with pytest.raises(InputError) as err:
        read_table(path)
    assert "598 columns: more than the limit of 512 columns" in err.value.problems[0].reason


@pytest.mark.parametrize("region", ["4401", "44010", "4401066", "abcdef"])
def test_a_region_that_is_not_six_digits_is_refused(tmp_path: Path, region: str) -> None:
    path = records_file(tmp_path / "r.csv")
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(pl.lit(region).alias("region")).head(1).write_csv(path)
    with pytest.raises(InputError) as err:
        read_records([path], load_rules(), today=dt.date(2026, 11, 30))
    assert [(p.row, p.column, p.reason) for p in err.value.problems] == [
        (2, "region", f"region must be a 6-digit administrative code, not '{region}'")]
