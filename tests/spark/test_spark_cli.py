"""The command line without ``--engine spark`` behaves as before and never loads
pyspark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from creditindex.cli import main


def test_cli_start_does_not_import_pyspark() -> None:
    code = ("import sys; from creditindex.cli import main; "
            "assert not [m for m in sys.modules if m.startswith('pyspark')], 'pyspark loaded'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_local_engine_refuses_record_folders(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    result = CliRunner().invoke(main, ["compute", "--records", str(folder),
                                       "--on", "2026-06-01"])
    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_spark_options_need_engine_spark(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    records.write_text("record_id\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["compute", "--records", str(records), "--on",
                                       "2026-06-01", "--master", "local[1]"])
    assert result.exit_code == 2
    assert "--engine spark" in result.output


def test_engine_spark_needs_an_output_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compute", "--engine", "spark", "--records",
                                       str(tmp_path), "--on", "2026-06-01"])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_check_and_evaluate_refuse_spark_options_without_engine_spark(tmp_path: Path
                                                                     ) -> None:
    records = tmp_path / "records.csv"
    records.write_text("record_id\n", encoding="utf-8")
    checked = CliRunner().invoke(main, ["check", "--records", str(records), "--subjects",
                                        "91350100M000100Y43", "--on", "2026-06-01",
                                        "--shards", "4"])
    assert checked.exit_code == 2 and "--engine spark" in checked.output
    evaluated = CliRunner().invoke(main, ["evaluate", "--on", "2026-06-01", "--records",
                                          str(records)])
    assert evaluated.exit_code == 2 and "--engine spark" in evaluated.output
    no_state = CliRunner().invoke(main, ["evaluate", "--engine", "spark", "--on",
                                         "2026-06-01", "--records", str(tmp_path)])
    assert no_state.exit_code == 2 and "--state" in no_state.output
