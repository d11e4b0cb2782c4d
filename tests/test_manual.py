"""Manual restrictions from a file: read as the store hands them to the engine, every
bad row refused with file, row, column and reason; the same answer through the
command line as through the engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from creditindex.cli import main
from creditindex.errors import InputError
from creditindex.manual import MANUAL_COLUMNS, read_manual

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "records.csv"


def _sample_id() -> str:
    return str(pl.read_csv(SAMPLE, infer_schema=False).get_column("subject_id")[0])


def test_read_manual(tmp_path: Path) -> None:
    sid = _sample_id()
    path = tmp_path / "manual.csv"
    path.write_text("subject_id,start,until,reason\n"
                    f"{sid.lower()},2026-05-01,,调查中\n{sid},2026/01/01,2026-02-01,x\n",
                    encoding="utf-8")
    frame = read_manual(path)
    assert frame.schema == pl.Schema(MANUAL_COLUMNS)
    assert frame.get_column("subject_id").to_list() == [sid, sid]
    assert frame.get_column("until").to_list() == [None, dt.date(2026, 2, 1)]
    assert frame.get_column("document_no").null_count() == 2


def test_bad_rows_are_named(tmp_path: Path) -> None:
    sid = _sample_id()
    path = tmp_path / "manual.csv"
    path.write_text("subject_id,start,until,reason\n"
                    f"91440101XXXXXXXXXX,2026-05-01,,r\n{sid},2026-13-01,,r\n"
                    f"{sid},2026-05-01,soon,\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_manual(path)
    where = {(p.row, p.column) for p in info.value.problems}
    assert where == {(2, "subject_id"), (3, "start"), (4, "until"), (4, "reason")}
    missing = tmp_path / "missing.csv"
    missing.write_text("subject_id,until\nX,\n", encoding="utf-8")
    with pytest.raises(InputError, match="required column"):
        read_manual(missing)


def test_until_before_start_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manual.csv"
    path.write_text(f"subject_id,start,until,reason\n{_sample_id()},2026-05-01,2026-04-01,r\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="before the start"):
        read_manual(path)


def test_compute_and_check_take_manual_restrictions(tmp_path: Path) -> None:
    sid = _sample_id()
    path = tmp_path / "manual.csv"
    path.write_text(f"subject_id,start,until,reason,document_no\n{sid},2026-05-01,,调查中,"
                    "穗〔2026〕1号\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "check.csv"
    result = runner.invoke(main, ["check", "--records", str(SAMPLE), "--subjects", sid,
                                  "--on", "2026-06-01", "--manual", str(path),
                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = pl.read_csv(out).row(0, named=True)
    assert row["eligible"] is False and "调查中" in row["reasons"]
    answer = tmp_path / "compute.csv"
    result = runner.invoke(main, ["compute", "--records", str(SAMPLE), "--on", "2026-06-01",
                                  "--manual", str(path), "--out", str(answer)])
    assert result.exit_code == 0, result.output
    mine = pl.read_csv(answer).filter(pl.col("subject_id") == sid)
    assert mine.get_column("restricted").all()
    bad = tmp_path / "bad.csv"
    bad.write_text("subject_id,start,reason\nX,2026-05-01,r\n", encoding="utf-8")
    refused = runner.invoke(main, ["compute", "--records", str(SAMPLE), "--on", "2026-06-01",
                                   "--manual", str(bad)])
    assert refused.exit_code == 2 and "bad.csv" in refused.output
