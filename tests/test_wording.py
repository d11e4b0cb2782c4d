"""Every ground a user reads is worded from the structure through the one catalogue: a
check with every cause (behaviour, grade, suspension, list, manual) shows no English in
Chinese, in the app's sentences, the evidence report, the certificate and the credit
report; English when chosen."""

from __future__ import annotations

import datetime as dt
import html
import re

import polars as pl
import pytest

from creditindex import wording
from creditindex.certificate import CheckRequest, certificate_payload, render_html, run_check
from creditindex.evaluate import CheckResult, CreditData, check
from creditindex.evidence import evidence_payload, render_evidence
from creditindex.records import records_frame
from creditindex.report import report_payload, restriction_cells
from tests.helpers import day, example_rules, rid, row, uscc

BEHAVIOUR, GRADE, LISTED, MANUAL, EXPERT = uscc(1), uscc(2), uscc(3), uscc(4), rid(5)
ALL = [BEHAVIOUR, GRADE, LISTED, MANUAL, EXPERT]
DAY = day("2026-06-01")
# A word of a natural language written in Latin letters: codes (BID-COLLUSION, grade D)
# are upper case, so any lower-case letter pair is English.
ENGLISH = re.compile(r"[A-Za-z]*[a-z]{2,}[A-Za-z]*")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _named(subject_id: str, subject_type: str, code: str, decided: str,
           **extra: str) -> dict[str, object]:
    return row(subject_id, subject_type, code, decided, subject_name="甲建设有限公司", **extra)


@pytest.fixture(scope="module")
def data() -> CreditData:
    records = [
        _named(BEHAVIOUR, "bidder", "BID-COLLUSION", "2026-02-01",
               document_no="穗建罚〔2026〕9号"),
        *[_named(GRADE, "bidder", "BID-FRAUD", f"2026-01-0{i}") for i in (1, 2, 3)],
        _named(EXPERT, "expert", "ABSENT", "2026-03-01"),
        _named(EXPERT, "expert", "ABSENT", "2026-03-02"),
    ]
    lists = pl.DataFrame(
        {"list": ["失信被执行人名单"], "entry_id": ["c1"], "subject_id": [LISTED],
         "name": [None], "country": [None], "listed_on": [day("2026-03-01")],
         "until": [None], "grounds": ["失信被执行人"], "source_row": [2]},
        schema_overrides={"name": pl.String, "country": pl.String, "until": pl.Date})
    manual = pl.DataFrame(
        {"subject_id": [MANUAL], "start": [day("2026-05-01")], "until": [None],
         "reason": ["监管部门通报"], "document_no": ["穗建〔2026〕1号"]},
        schema_overrides={"until": pl.Date})
    return CreditData(records_frame(records), example_rules(restricted_d=True), lists=lists,
                      manual=manual)


@pytest.fixture(scope="module")
def result(data: CreditData) -> CheckResult:
    answer = check(data, DAY, ALL)
    assert set(answer.grounds.get_column("cause")) == {
        "behaviour", "grade", "suspension", "list", "manual"}
    assert not any(answer.table.get_column("eligible"))
    return answer


DATA = ("监管部门通报", "失信被执行人名单", "穗建罚〔2026〕9号", "穗建〔2026〕1号",
        "甲建设有限公司", "广州市住房和城乡建设局")


def _without_data(text: str) -> str:
    """``text`` less the names and numbers the data holds (they stay as written)."""
    for value in DATA:
        text = text.replace(value, " ")
    return text


def _visible(page: str) -> str:
    """What a reader sees: no embedded JSON, no command lines, digests or paths."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_apps_sentences_have_no_english_in_chinese(data: CreditData,
                                                       result: CheckResult) -> None:
    names = wording.behaviour_names(data.rules.behaviour, "zh")
    reasons = wording.reasons_column(result.table, result.grounds, names, "zh").to_list()
    grounds = wording.grounds_frame(result.grounds, names, "zh")
    texts = [*reasons, *grounds.get_column("detail").to_list(),
             *grounds.get_column("source").drop_nulls().to_list()]
    assert all(texts)
    assert [w for text in texts for w in ENGLISH.findall(text)] == []
    english = wording.grounds_frame(result.grounds, wording.behaviour_names(
        data.rules.behaviour, "en"), "en").get_column("detail").to_list()
    assert not any(CHINESE.search(_without_data(t)) for t in english)


def test_the_evidence_report_in_chinese_has_no_english(data: CreditData,
                                                       result: CheckResult) -> None:
    payload = evidence_payload(result, data, {"subject_ids": ALL, "consortium": False,
                                              "type": None},
                               made_at=dt.datetime(2026, 6, 1, 1, 30, tzinfo=dt.UTC))
    page = render_evidence(payload)
    seen = _visible(page)
    assert ENGLISH.findall(seen) == []
    assert "串通投标" in seen or "串标" in seen or "BID-COLLUSION" in seen
    assert "信用等级为 D" in seen and "失信被执行人名单" in seen and "监管部门通报" in seen
    assert "2026-06-01 09:30:00" in page  # Beijing time
    english = _visible(render_evidence(payload, "en"))
    assert "Eligibility check evidence" in english and "grade D" in english
    for basis in {str(g["basis"]) for g in payload["grounds"] if g["basis"]}:
        english = english.replace(html.escape(basis, quote=False), " ").replace(basis, " ")
    assert CHINESE.findall(_without_data(english)) == []  # laws are cited as enacted
    # the machine-readable payload is embedded unchanged
    assert '"grounds"' in page and "behaviour_names" in page


def test_the_certificate_and_report_word_every_ground_in_chinese(data: CreditData) -> None:
    request = CheckRequest(subject_ids=tuple(ALL), on=DAY, known_on=DAY)
    members = run_check(data, request, consortium=False)
    cert = certificate_payload(data, request, members, None, check_no="HC1",
                               verify_code="ABCD", issued_at=dt.datetime(2026, 6, 1, 1, 30),
                               operator="张三", channel="app")
    seen = _visible(render_html(cert)).replace(data.rules.ruleset.name, " ").replace(
        data.rules.content_hash, " ")  # the rule set's name and digest are data
    assert ENGLISH.findall(seen) == []
    assert "全部交易类别" in seen
    assert {g["cause"] for g in cert["grounds"]} == {  # type: ignore[union-attr]
        "behaviour", "grade", "suspension", "list", "manual"}
    for sid in (BEHAVIOUR, GRADE, EXPERT):
        cells = restriction_cells(report_payload(data, sid, DAY, audience="staff"))
        assert cells and ENGLISH.findall(" ".join(c for r in cells for c in r)) == []


GOOD = {"record_id": "R1", "source": "广州市财政局", "industry": "procurement",
        "region": "440111", "subject_id": uscc(1), "subject_name": "甲公司",
        "subject_type": "bidder", "behaviour_code": "BID-COVER", "decided_on": "2021-01-01",
        "recorded_on": "2021-01-02", "document_no": "穗财罚〔2021〕1号", "revoked_on": "",
        "repaired_on": "", "restrict_until": "", "restrict_scope": "", "authority": "",
        "basis": "", "publish_until": ""}
# One bad cell a row (the column changed from GOOD), and the catalogue key it is worded by.
BAD_ROWS = [
    ({"region": "4401"}, "problem.region"),
    ({"industry": "mining"}, "problem.industry"),
    ({"behaviour_code": "NO-SUCH"}, "problem.unknown_code"),
    ({"subject_type": "expert", "subject_id": rid(2)}, "problem.code_type"),
    ({"decided_on": "2099-01-01", "recorded_on": "2099-01-02"}, "problem.decided_future"),
    ({"recorded_on": "2020-01-01"}, "problem.recorded_early"),
    ({"revoked_on": "2020-01-01"}, "problem.revoked_early"),
    ({"repaired_on": "2020-01-01"}, "problem.repaired_early"),
    ({"publish_until": "2020-01-01"}, "problem.publish_early"),
    ({"recorded_on": "2026-13-01"}, "problem.not_a_date"),
    ({"subject_id": uscc(3)[:17]}, "problem.uscc_length"),
    ({"subject_id": uscc(4)[:17] + ("0" if uscc(4)[17] != "0" else "1")},
     "problem.uscc_check"),
    ({"subject_id": "9144010" + "I" * 11}, "problem.uscc_alphabet"),
    ({"subject_type": "expert", "behaviour_code": "EXP-LEAK",
      "subject_id": rid(6)[:17] + ("0" if rid(6)[17] != "0" else "1")}, "problem.rid_check"),
    ({"subject_type": "expert", "behaviour_code": "EXP-LEAK",
      "subject_id": "44011119701340" + "1234"}, "problem.rid_date"),
    ({"subject_type": "expert", "behaviour_code": "EXP-LEAK", "subject_id": "4401" * 4},
     "problem.rid_length"),
]


def test_import_problems_carry_their_catalogue_key_and_read_in_chinese(tmp_path) -> None:
    from creditindex.errors import InputError, Reason
    from creditindex.records import read_records
    from creditindex.rules import load_rules

    rows = [{**GOOD, "record_id": f"R{i}", **change} for i, (change, _) in enumerate(BAD_ROWS)]
    path = tmp_path / "records.csv"
    pl.DataFrame(rows).write_csv(path)
    with pytest.raises(InputError) as refused:
        read_records([path], load_rules(), today=dt.date(2026, 11, 30))
    by_row: dict[int, list[Reason]] = {}
    for p in refused.value.problems:
        assert isinstance(p.reason, Reason), p  # worded from its key, never its words
        by_row.setdefault(p.row or 0, []).append(p.reason)
    for i, (_, key) in enumerate(BAD_ROWS):
        assert key in {r.code for r in by_row[i + 2]}, (key, by_row.get(i + 2))
    for reasons in by_row.values():
        for reason in reasons:
            text = wording.problem_text(reason, "zh")
            left = text
            for value in reason.params.values():  # the values are data, not words
                left = left.replace(value, " ")
            assert CHINESE.search(text) and ENGLISH.findall(left) == [], text
            assert wording.problem_text(reason, "en") != ""
    assert wording.problem_text("a reason without a key", "zh") == "a reason without a key"
