"""The subject credit report: the index as arithmetic of its counted deductions, every
restriction with its period, publishable records only for the public and every record
(marked) for staff, experts for staff only; the PDF read back."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from creditindex import evaluate
from creditindex.pdf import report_pdf
from creditindex.report import ReportError, arithmetic, report_payload
from tests.store import storetest

DAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> storetest.CreditData:
    files = storetest.write_examples(tmp_path_factory.mktemp("report"))
    return storetest.file_data(files, records="records_lifecycle")


def test_arithmetic_shows_every_term_and_the_floor() -> None:
    assert arithmetic(100, 0, [20, 10], 70) == "100 - 20 - 10 = 70"
    assert arithmetic(100, 0, [], 100) == "100（无扣分）= 100"
    assert arithmetic(100, 10, [60, 50], 10) == "max(10, 100 - 60 - 50) = 10"
    assert arithmetic(100, 0, [12.5], 87.5) == "100 - 12.5 = 87.5"


def test_the_index_is_the_sum_of_the_counted_deductions(data: storetest.CreditData) -> None:
    payload = report_payload(data, storetest.F, DAY)
    role = payload["roles"][0]
    counted = evaluate.explain(data, storetest.F, DAY, subject_type="bidder")
    assert [d["points"] for d in role["deductions"]] == counted.get_column("points").to_list()
    want = evaluate.check(data, DAY, [storetest.F], "bidder").table.row(0, named=True)
    assert role["index"] == want["index"]
    assert role["arithmetic"] == arithmetic(100, 0, [d["points"] for d in role["deductions"]],
                                            want["index"])
    assert payload["eligible"] is want["eligible"]


def test_the_public_sees_publishable_records_and_staff_see_all_marked(
        data: storetest.CreditData) -> None:
    # R's BID-COLLUSION (R2) was revoked on 2026-04-01 and its BID-FRAUD (R1) repaired.
    public = report_payload(data, storetest.R, DAY)
    staff = report_payload(data, storetest.R, DAY, audience="staff")
    assert public["records"] == [r for r in staff["records"] if r["publishable"]]
    hidden = [r for r in staff["records"] if not r["publishable"]]
    assert {r["behaviour_code"] for r in hidden} == {"BID-COLLUSION", "BID-FRAUD"}
    text = "".join("".join(p.extract_text().split())
                   for p in PdfReader(io.BytesIO(report_pdf(staff))).pages)
    assert "内部版" in text and "否（不公示）" in text and "戊建设有限公司" in text
    public_text = "".join("".join(p.extract_text().split())
                          for p in PdfReader(io.BytesIO(report_pdf(public))).pages)
    assert "否（不公示）" not in public_text and "串通投标" not in public_text


def test_restrictions_and_experts(data: storetest.CreditData) -> None:
    g = report_payload(data, storetest.G, DAY)
    grounds = evaluate.check(data, DAY, [storetest.G]).grounds
    assert [(r["code"], r["since"], r["until"]) for r in g["restrictions"]] == [
        (r["code"], r["since"].isoformat(), r["until"].isoformat())
        for r in grounds.iter_rows(named=True)]
    assert ("BID-COLLUSION", "2026-02-01", "2029-01-30") in [
        (r["code"], r["since"], r["until"]) for r in g["restrictions"]]
    text = "".join("".join(p.extract_text().split())
                   for p in PdfReader(io.BytesIO(report_pdf(g))).pages)
    for needed in ("公共资源交易主体信用报告", "乙交通工程有限公司", "100-30=70",
                   "2026-02-01至2029-01-30", "串通投标"):
        assert needed in text, needed
    with pytest.raises(ReportError, match="staff only"):
        report_payload(data, storetest.E, DAY)
    staff = report_payload(data, storetest.E, DAY, audience="staff")
    assert storetest.E not in str(staff) and staff["roles"][0]["role"] == "expert"
    with pytest.raises(ReportError, match="check character"):
        report_payload(data, storetest.G[:-1] + "0", DAY)
