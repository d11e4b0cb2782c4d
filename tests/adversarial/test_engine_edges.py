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


def test_expert_suspension_window_ends_exactly_window_days_back() -> None:
    """Decisions exactly ``window_days`` apart are not in one window: the eligibility
    index, check and the reference oracle agree on the days around the edge."""
    from tests import reference

    rules = load_rules()
    rule = rules.expert_suspension
    assert rule is not None and rule.total_points == 25 and rule.single_points == 15
    expert = rid(9)
    first = dt.date(2025, 1, 10)
    edge = first + dt.timedelta(days=rule.window_days)
    rows = [row(expert, "expert", "LATE", first.isoformat()),                       # 10
            row(expert, "expert", "EXP-PHONE", "2025-05-01"),                       # 10
            row(expert, "expert", "EXP-SCORE-ERROR", edge.isoformat())]             # 5
    data = CreditData(records_frame(rows), rules)
    assert not reference.ref_suspended(rows, rules, expert, edge)  # 10 + 5 < 25
    index = restrict.EligibilityIndex.of(data, to_day(edge + dt.timedelta(days=3)))
    for offset in range(-1, 3):
        on = edge + dt.timedelta(days=offset)
        want = not reference.ref_restricted(rows, rules, expert, on)
        assert list(index.eligible([expert], to_day(on))) == [want], on
        answer = check(data, on, [expert])
        assert answer.table.get_column("eligible").to_list() == [want], on
        assert "suspension" not in " ".join(answer.grounds.get_column("cause").to_list())
    # one day earlier, the three are in one window: suspended from that day
    early = [*rows[:2], row(expert, "expert", "EXP-SCORE-ERROR",
                            (edge - dt.timedelta(days=1)).isoformat())]
    on = edge - dt.timedelta(days=1)
    assert reference.ref_suspended(early, rules, expert, on)
    data = CreditData(records_frame(early), rules)
    assert list(restrict.EligibilityIndex.of(data, to_day(on)).eligible(
        [expert], to_day(on))) == [False]
