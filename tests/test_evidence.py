"""The evidence report of an eligibility check: self-contained, reproducible, masked."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from creditindex.cli import main
from creditindex.evaluate import CreditData, check
from creditindex.evidence import frame_digest, write_evidence
from creditindex.records import records_frame
from creditindex.rules import load_rules
from tests.helpers import day, rid, row, uscc

G, CLEAN, E = uscc(1), uscc(2), rid(5)


def _payload(html_text: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="evidence">(.*?)</script>',
                      html_text, re.S)
    assert found
    return dict(json.loads(found.group(1).replace("<\\/", "</")))


def test_report_states_inputs_rules_data_answer_grounds_and_time(tmp_path: Path) -> None:
    rules = load_rules()
    data = CreditData(records_frame([
        row(G, "bidder", "BID-COLLUSION", "2026-02-01", document_no="穗建罚〔2026〕9号"),
        row(E, "expert", "ABSENT", "2026-03-01")]), rules)
    result = check(data, day("2026-06-01"), [G, CLEAN, E])
    made = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
    out = tmp_path / "evidence.html"
    write_evidence(result, data, out, inputs={"records": ["r.csv"]}, made_at=made)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "<link" not in text  # self-contained
    payload = _payload(text)
    assert payload["rule_set"] == {"name": "default", "version": rules.ruleset.version,
                                   "sha256": rules.content_hash}
    assert payload["check"] == {"on": "2026-06-01", "known_on": "2026-06-01",
                                "made_at": "2026-06-01T09:30:00+00:00"}
    assert payload["data"]["records"] == 2  # type: ignore[index]
    assert payload["data"]["records_sha256"] == frame_digest(data.records)  # type: ignore[index]
    answers = {a["subject_id"]: a["eligible"] for a in payload["answers"]}  # type: ignore[attr-defined]
    assert answers[G] is False and answers[CLEAN] is True
    assert E not in text  # the expert's resident ID is masked everywhere
    assert E[:6] + "********" + E[14:] in answers
    grounds = payload["grounds"]
    # BID-COLLUSION's default bar: 365 days (the statutory minimum of 招标投标法第五十三条),
    # on tendered projects (engineering), citing the Tendering Law
    assert any(g["document_no"] == "穗建罚〔2026〕9号" and g["until"] == "2027-01-31"
               and g["scope"] == "engineering" and "第五十三条" in g["basis"]
               for g in grounds)  # type: ignore[attr-defined]
    assert rules.content_hash in text and "穗建罚〔2026〕9号" in text


def test_digest_ignores_row_order() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    assert frame_digest(frame) == frame_digest(frame.reverse())
    assert frame_digest(frame) != frame_digest(frame.head(2))


def test_cli_check_writes_evidence_and_exits_zero_when_ineligible(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    records_frame([row(G, "bidder", "BID-COLLUSION", "2026-02-01")]).write_csv(records)
    evidence = tmp_path / "e.html"
    result = CliRunner().invoke(main, [
        "check", "--records", str(records), "--on", "2026-06-01",
        "--subjects", f"{G},{CLEAN}", "--evidence", str(evidence), "--out",
        str(tmp_path / "answer.csv")])
    assert result.exit_code == 0, result.output
    answer = pl.read_csv(tmp_path / "answer.csv")
    assert answer.get_column("eligible").to_list() == [False, True]
    assert _payload(evidence.read_text(encoding="utf-8"))["inputs"]["records"] == [  # type: ignore[index]
        str(records)]


def test_masking_covers_consortium_ids_and_reasons_but_not_digit_usccs() -> None:
    from creditindex.evidence import mask_personal

    digits_uscc = "914401030124426901"  # a firm's code made of digits: not personal
    assert mask_personal(digits_uscc) == digits_uscc
    masked = mask_personal(f"{G}+{E}: suspension of {E}")
    assert E not in masked and G in masked
    assert masked.count(E[:6] + "********" + E[14:]) == 2


def test_consortium_evidence_masks_member_ids(tmp_path: Path) -> None:
    data = CreditData(records_frame([row(E, "expert", "ABSENT", "2026-03-01")]), load_rules())
    result = check(data, day("2026-03-02"), [G, E], consortium=True)
    text = write_evidence(result, data, tmp_path / "e.html") and (
        tmp_path / "e.html").read_text(encoding="utf-8")
    assert E not in text
