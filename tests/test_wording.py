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


@pytest.mark.parametrize("message", [
    "region must be a 6-digit administrative code, not '4401'",
    "unknown industry 'mining' (use one of housing, water)",
    "behaviour 'LATE' does not apply to subject type 'bidder'",
    "decided_on 2099-01-01 is after the import day 2026-11-30",
    "recorded on 2020-01-01 is before decided_on 2021-01-01",
    "revoked on 2020-01-01 is before decided_on 2021-01-01",
    "repaired on 2020-01-01 is before decided_on 2021-01-01",
    "publish_until 2020-01-01 is before decided_on 2021-01-01",
    "too long: 300 characters (at most 200)",
    "too long (at most 200 characters)",
    "the date is empty",
    "not a date: '2026-13-01' is not a real calendar day between 1949-10-01 and 2100-12-31",
    "USCC must have 18 characters, not 17",
])
def test_import_problems_read_in_chinese(message: str) -> None:
    text = wording.problem_text(message, "zh")
    left = re.sub(r"'[^']*'|「[^」]*」|：.*$", " ", text)  # quoted values and lists are data
    assert CHINESE.search(text) and ENGLISH.findall(left) == [], text
