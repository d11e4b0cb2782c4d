"""Engine reasons, grounds and bad-input messages in words; region names from GB/T 2260;
Beijing time; working-day deadlines."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from creditindex.errors import InputError
from creditindex.identifiers import uscc_problem
from creditindex.regions import region_name
from creditindex.rules import DEFAULT_RULES, parse_rules
from creditindex.ui import queues, reasons
from creditindex.ui.i18n import t
from creditindex.ui.timefmt import local_time


def test_grounds_and_reasons_in_chinese_and_english() -> None:
    ground = {"subject_id": "91440101MA59XXXX0X", "cause": "behaviour",
              "code": "BID-COLLUSION", "detail": "BID-COLLUSION decided 2026-01-05",
              "document_no": "穗建罚〔2026〕1号", "since": dt.date(2026, 1, 5),
              "until": dt.date(2027, 1, 4), "scope": "engineering", "financier": None}
    names = {"BID-COLLUSION": "串通投标"}
    zh = reasons.ground_text(ground, names, "zh")
    assert zh == "，".join([t("reason.behaviour", "zh", name="串通投标", code="BID-COLLUSION",
                                since="2026-01-05"),
                             t("reason.document", "zh", doc="穗建罚〔2026〕1号"),
                             t("reason.until", "zh", day="2027-01-04"),
                             t("reason.scope", "zh", scope="工程建设")])
    en = reasons.ground_text(ground, {"BID-COLLUSION": "collusion"}, "en")
    assert "decided" in en and "construction projects" in en
    rows = pl.DataFrame({"subject_id": ["91440101MA59XXXX0X"],
                         "reasons": ["BID-COLLUSION -30.0 | restricted: behaviour: ..."]})
    text = reasons.reasons_column(rows, pl.DataFrame([ground]), names, "zh")[0]
    assert text.startswith(t("reason.deduction", "zh", name="串通投标", points="30.0"))
    assert "behaviour:" not in text and "restricted" not in text


def test_bad_input_messages_in_words() -> None:
    why = uscc_problem("91440101MA59XXXX01")
    assert why is not None
    shown = reasons.problem_text(why, "zh")
    assert shown.startswith("统一社会信用代码校验位应为") and "check" not in shown
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace("points = 30", "points = -5", 1)
    with pytest.raises(InputError) as refused:
        parse_rules(text)
    why = refused.value.problems[0].reason
    assert why == "Input should be greater than 0 (got -5)"  # the command line's words
    assert reasons.problem_text(why, "zh") == (
        t("problem.greater_than", "zh", n="0") + t("problem.got", "zh", got="-5"))
    assert reasons.problem_text("something new", "zh") == "something new"


def test_region_names_and_beijing_time() -> None:
    assert region_name("440106") == "广州市天河区"
    assert region_name("440300") == "深圳市"
    assert region_name("441900") == "东莞市"
    assert region_name("999999") == ""
    assert local_time(dt.datetime(2026, 11, 30, 16, 30)) == "2026-12-01 00:30"


def test_deadlines_count_working_days() -> None:
    friday = dt.date(2026, 11, 27)
    assert queues.add_working_days(friday, 1) == dt.date(2026, 11, 30)  # Monday
    assert queues.add_working_days(friday, 5) == dt.date(2026, 12, 4)
    steps = pl.DataFrame({"event_id": [1, 2], "kind": ["objection_filed", "repair_applied"],
                          "filed_on": [friday, friday]})
    out = queues.with_deadlines(steps, dt.date(2026, 12, 1))
    assert out.get_column("event_id").to_list() == [2, 1]  # repairs are due sooner
    assert out.get_column("days_left").to_list() == [3, 10]
