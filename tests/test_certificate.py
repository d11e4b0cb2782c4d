"""The check certificate: every fact the issue asks for, Chinese, codes masked for
natural persons by the one rule, consortium members then the consortium; the PDF's
text read back (Chinese included)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from creditindex.certificate import (
    CheckRequest,
    RequestError,
    certificate_payload,
    render_html,
    request_problems,
    run_check,
)
from creditindex.i18n import t
from creditindex.identifiers import mask_rid
from creditindex.pdf import certificate_pdf
from tests.store import storetest

DAY = dt.date(2026, 6, 1)
ISSUED = dt.datetime(2026, 6, 1, 1, 30, 5)  # UTC: 09:30:05 in Shanghai


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> storetest.CreditData:
    files = storetest.write_examples(tmp_path_factory.mktemp("cert"))
    return storetest.file_data(files, records="records")


def payload_for(data: storetest.CreditData, request: CheckRequest) -> dict[str, object]:
    members = run_check(data, request, consortium=False)
    together = run_check(data, request, consortium=True) if request.consortium else None
    return certificate_payload(data, request, members, together, check_no="HC202600000042",
                               verify_code="ABCD-EFGH-JKMN-PQRS", issued_at=ISSUED,
                               operator="张三", channel="api")


def pdf_text(payload: dict[str, object]) -> str:
    reader = PdfReader(io.BytesIO(certificate_pdf(payload)))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def test_every_fact_is_on_the_certificate(data: storetest.CreditData) -> None:
    request = CheckRequest((storetest.V, storetest.G, storetest.E), DAY,
                           project_no="GZ2026-0815", project_name="道路改造工程", lot_no="2",
                           lot_name="第二标段", category="engineering", financier="worldbank")
    payload = payload_for(data, request)
    assert payload["issued_at"] == "2026-06-01T09:30:05+08:00"
    text = pdf_text(payload)
    html = render_html(payload)
    rules = data.rules
    for needed in ("公共资源交易信用资格核查证明", "HC202600000042", "2026-06-0109:30:05",
                   "张三", "GZ2026-0815道路改造工程", "2第二标段", t("category.engineering"),
                   "worldbank", rules.ruleset.name, rules.content_hash, "ABCD-EFGH-JKMN-PQRS",
                   "己公司", "乙交通工程有限公司", "专家甲", "符合", "不符合", "串通投标",
                   "广州市住建局", "2026-02-01至2029-01-30", mask_rid(storetest.E)):
        assert needed in text, needed
        assert needed in "".join(html.split()), needed
    assert storetest.E not in text and storetest.E not in html  # a person's ID is masked
    ground = next(g for g in payload["grounds"] if g["subject_id"] == storetest.G)
    assert (ground["behaviour"], ground["authority"], ground["since"], ground["until"]) == (
        "串通投标", "广州市住建局", "2026-02-01", "2029-01-30")


def test_a_consortium_lists_its_members_then_itself(data: storetest.CreditData) -> None:
    request = CheckRequest((storetest.V, storetest.G), DAY, consortium=True)
    payload = payload_for(data, request)
    members = [s["subject_id"] for s in payload["subjects"]]
    assert members == [storetest.V, storetest.G]
    group = payload["consortium"]
    assert group["subject_id"] == f"{storetest.V}+{storetest.G}"
    assert group["eligible"] is False and payload["eligible"] is False
    text = pdf_text(payload)
    assert text.index("己公司") < text.index("乙交通工程有限公司") < text.index("联合体（")


def test_codes_failing_their_check_are_refused_with_field_and_reason(
        data: storetest.CreditData) -> None:
    bad = storetest.V[:-1] + ("0" if storetest.V[-1] != "0" else "1")
    request = CheckRequest((storetest.V, bad, " "), DAY, category="fishing")
    problems = {p.field: p for p in request_problems(request)}
    assert set(problems) == {"codes[1]", "codes[2]", "category"}
    assert "USCC check character should be" in problems["codes[1]"].reason
    with pytest.raises(RequestError, match=r"codes\[1\]"):
        run_check(data, request)
