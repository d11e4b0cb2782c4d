"""A subject listed by subject_id on an external list, with no penalty records and not
registered anywhere, is ineligible while listed: from files, from the store and in the
evidence report."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from click.testing import CliRunner

from creditindex import restrict
from creditindex.cli import main
from creditindex.days import to_day
from creditindex.evaluate import CreditData, check
from creditindex.lists import entries_frame
from creditindex.records import records_frame
from creditindex.rules import load_rules
from tests.helpers import rid, row, uscc

LISTED = uscc(777)
OTHER = uscc(778)


def _entries() -> list[dict[str, object]]:
    return [{"list": "court", "entry_id": "c1", "subject_id": LISTED,
             "listed_on": dt.date(2026, 1, 1), "until": dt.date(2026, 6, 30),
             "grounds": "失信被执行人"}]


def test_engine_answers_a_listed_unknown_subject_ineligible() -> None:
    records = records_frame([row(OTHER, "bidder", "BID-WITHDRAW", "2025-06-01")])
    data = CreditData(records, load_rules(), lists=entries_frame(_entries()))
    answer = check(data, dt.date(2026, 3, 1), [LISTED.lower(), OTHER]).table
    assert answer.select("subject_id", "eligible").rows() == [(LISTED, False), (OTHER, True)]
    assert "court" in answer.row(0, named=True)["reasons"]
    after = check(data, dt.date(2026, 7, 1), [LISTED]).table
    assert after.get_column("eligible").to_list() == [True]
    index = restrict.EligibilityIndex.of(data, to_day(dt.date(2026, 3, 1)))
    assert list(index.eligible([LISTED, OTHER], to_day(dt.date(2026, 3, 1)))) == [False, True]


def _write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    records = tmp_path / "records.csv"
    records_frame([row(OTHER, "bidder", "BID-WITHDRAW", "2025-06-01"),
                   row(rid(5), "expert", "LATE", "2025-06-01")]).write_csv(records)
    lists = tmp_path / "lists.csv"
    lists.write_text("list,entry_id,subject_id,listed_on,until,grounds\n"
                     f"court,c1,{LISTED},2026-01-01,2026-06-30,defaulter\n", encoding="utf-8")
    return records, lists


def test_cli_files_and_evidence_answer_it_ineligible(tmp_path: Path) -> None:
    records, lists = _write_inputs(tmp_path)
    evidence = tmp_path / "e.html"
    out = tmp_path / "answer.json"
    result = CliRunner().invoke(main, [
        "check", "--records", str(records), "--lists", str(lists), "--on", "2026-03-01",
        "--subjects", LISTED, "--evidence", str(evidence), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())[0]["eligible"] is False
    html = evidence.read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/json" id="evidence">(.*?)</script>',
                         html, re.S)
    assert embedded is not None
    assert json.loads(embedded.group(1))["answers"][0]["eligible"] is False


def test_store_answers_it_ineligible(store_url: str, tmp_path: Path) -> None:
    records, lists = _write_inputs(tmp_path)
    runner = CliRunner()
    for args in (["import", "--records", str(records)], ["lists", "import", str(lists)]):
        result = runner.invoke(main, [*args, "--db", store_url])
        assert result.exit_code == 0, result.output
    out = tmp_path / "answer.json"
    result = runner.invoke(main, ["check", "--db", store_url, "--on", "2026-03-01",
                                  "--subjects", LISTED, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())[0]["eligible"] is False
