"""Engine edges an adversarial pass found: an index of subjects none of whom ever enters
a restricted grade, and one rounding for every number a user reads."""

from __future__ import annotations

import datetime as dt

import polars as pl

from creditindex import restrict
from creditindex.days import to_day
from creditindex.evaluate import CreditData, check, compute, explain
from creditindex.records import records_frame
from creditindex.rules import load_rules, parse_rules
from tests.helpers import rid, row, uscc

ON = dt.date(2026, 3, 1)


def test_eligibility_index_of_subjects_never_in_a_restricted_grade() -> None:
    rules = load_rules()
    records = records_frame([row(rid(i), "expert", "LATE", f"2026-01-0{i}") for i in (1, 2, 3)])
    data = CreditData(records, rules)
    index = restrict.EligibilityIndex.of(data, to_day(ON))
    ids = records.get_column("subject_id").to_list()
    answer = check(data, ON, ids).table
    assert answer.get_column("eligible").to_list() == [True, True, True]
    got = index.eligible(pl.Series(ids), to_day(ON))
    assert list(got) == [True, True, True]


HALF_CENT_RULES = """
[ruleset]
name = "half-cent"
version = "1"
[[grade]]
name = "A"
min = 90
[[grade]]
name = "B"
min = 0
[[behaviour]]
code = "X"
name = "x"
subject_types = ["bidder"]
points = 17
days = 8
decay = "linear"
"""


def test_reasons_round_like_the_index_and_explain() -> None:
    """17 points decaying linearly over 8 days deduct exactly 2.125 on day 7: every
    number shown rounds half away from zero (2.13), the reasons text too."""
    rules = parse_rules(HALF_CENT_RULES)
    firm = uscc(1)
    data = CreditData(records_frame([row(firm, "bidder", "X", "2026-01-01")]), rules)
    on = dt.date(2026, 1, 8)
    answer = compute(data, on).row(0, named=True)
    points = explain(data, firm, on).get_column("points").to_list()
    assert points == [2.13]
    assert answer["deducted"] == 2.13 and answer["index"] == 97.88
    assert answer["reasons"] == "X -2.13"
