"""Restrictions from every cause, consortium, expert pool, and the interval property:
a subject is eligible on D exactly when none of its restriction intervals covers D."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from creditindex import restrict
from creditindex.days import to_day
from creditindex.evaluate import CreditData, check, compute, expert_pool, restrictions
from creditindex.records import records_frame
from creditindex.rules import parse_rules
from tests.helpers import day, example_rules, rid, row, uscc

RULES = example_rules(restricted_d=True)  # the mechanics of every cause
G = uscc(1)
E = rid(7)


def data_of(*rows: dict[str, object], **kw: object) -> CreditData:
    return CreditData(records_frame(rows), RULES, **kw)  # type: ignore[arg-type]


def eligible(data: CreditData, on: str, sid: str) -> bool:
    return bool(check(data, day(on), [sid]).table.row(0, named=True)["eligible"])


def test_behaviour_restriction_holds_everywhere_then_ends() -> None:
    data = data_of(row(G, "bidder", "BID-COLLUSION", "2026-02-01", industry="transport"))
    assert not eligible(data, "2026-02-01", G)
    assert not eligible(data, "2029-01-30", G)
    assert eligible(data, "2029-01-31", G)
    assert eligible(data, "2026-01-31", G)
    grounds = check(data, day("2027-06-01"), [G]).grounds.row(0, named=True)
    assert grounds["cause"] == "behaviour" and grounds["code"] == "BID-COLLUSION"
    assert grounds["until"] == day("2029-01-30")


def test_restriction_holds_in_every_role() -> None:
    data = data_of(row(G, "bidder", "BID-COLLUSION", "2026-02-01"),
                   row(G, "agent", "AGT-PROCEDURE", "2026-01-15"))
    out = compute(data, day("2026-03-01")).filter(pl.col("subject_id") == G)
    assert out.height == 2
    assert out.get_column("restricted").all()
    agent = out.filter(pl.col("subject_type") == "agent").row(0, named=True)
    assert agent["index"] < 100 and "BID-COLLUSION" in agent["reasons"]


def test_grade_restriction_until_index_recovers() -> None:
    rows = [row(G, "bidder", "BID-FRAUD", "2026-01-01"), row(G, "bidder", "BID-FRAUD",
                                                            "2026-06-01")]
    data = data_of(*rows)
    result = check(data, day("2026-06-01"), [G])
    assert not result.table.row(0, named=True)["eligible"]
    g = result.grounds.row(0, named=True)
    assert (g["cause"], g["code"], g["until"]) == ("grade", "D", day("2026-12-31"))
    assert eligible(data, "2027-01-01", G)


def test_expert_suspension_worked_example() -> None:
    data = data_of(row(E, "expert", "LATE", "2026-01-10"), row(E, "expert", "ABSENT",
                                                              "2026-03-01"))
    assert eligible(data, "2026-02-28", E)
    assert not eligible(data, "2026-03-01", E)
    assert not eligible(data, "2026-08-27", E)
    assert eligible(data, "2026-08-28", E)


def test_revoked_records_do_not_suspend_and_repair_does_not_shorten() -> None:
    revoked = data_of(row(E, "expert", "ABSENT", "2026-03-01", revoked_on="2026-04-01"))
    # As known on 03-05 the revocation of 04-01 has not happened: the suspension stands.
    assert not eligible(revoked, "2026-03-05", E)
    later = check(revoked, day("2026-03-05"), [E], known_on=day("2026-04-01"))
    assert later.table.row(0, named=True)["eligible"]
    repaired = data_of(row(E, "expert", "ABSENT", "2026-03-01", repaired_on="2026-03-10"))
    assert not eligible(repaired, "2026-08-27", E)
    assert eligible(repaired, "2026-08-28", E)


def test_revocation_is_dated() -> None:
    data = data_of(row(G, "bidder", "BID-COLLUSION", "2026-02-01", revoked_on="2026-05-01"))
    assert not eligible(data, "2026-03-01", G)  # as known on 03-01
    late = check(data, day("2026-03-01"), [G], known_on=day("2026-05-01"))
    assert late.table.row(0, named=True)["eligible"]


def test_external_list_both_ends_inclusive() -> None:
    lists = pl.DataFrame({
        "list": ["court"], "entry_id": ["c1"], "subject_id": [G], "name": [None],
        "country": [None], "listed_on": [day("2026-03-01")], "until": [day("2026-03-31")],
        "grounds": ["失信被执行人"], "source_row": [2]},
        schema_overrides={"name": pl.String, "country": pl.String})
    data = CreditData(records_frame([]), RULES,
                      subjects=pl.DataFrame({"subject_id": [G], "subject_type": ["bidder"],
                                             "subject_name": ["甲公司"]}), lists=lists)
    assert eligible(data, "2026-02-28", G)
    assert not eligible(data, "2026-03-01", G)
    assert not eligible(data, "2026-03-31", G)
    assert eligible(data, "2026-04-01", G)
    g = check(data, day("2026-03-15"), [G]).grounds.row(0, named=True)
    assert g["cause"] == "list" and g["until"] == day("2026-03-31")


def test_manual_restriction() -> None:
    manual = pl.DataFrame({"subject_id": [G], "start": [day("2026-05-01")],
                           "until": [None], "reason": ["regulator notice 2026-12"],
                           "document_no": ["穗建〔2026〕1号"]},
                          schema_overrides={"until": pl.Date})
    subjects = pl.DataFrame({"subject_id": [G], "subject_type": ["bidder"],
                             "subject_name": ["甲"]})
    data = CreditData(records_frame([]), RULES, manual=manual, subjects=subjects)
    assert eligible(data, "2026-04-30", G)
    result = check(data, day("2030-01-01"), [G])
    answer = result.table.row(0, named=True)
    assert not answer["eligible"]
    assert "regulator notice" in answer["reasons"] and "穗建〔2026〕1号" in answer["reasons"]


def test_consortium_restricted_when_any_member_is_and_takes_lowest_index() -> None:
    a, b = uscc(2), uscc(3)
    data = data_of(row(a, "bidder", "BID-FRAUD", "2026-01-01"),
                   row(b, "bidder", "BID-COLLUSION", "2026-02-01"))
    out = check(data, day("2026-03-01"), [a, b, uscc(4)], consortium=True).table
    assert out.height == 1
    r = out.row(0, named=True)
    assert not r["eligible"] and r["index"] == 70.0 and b in r["reasons"]
    ok = check(data, day("2026-03-01"), [a, uscc(4)], consortium=True).table.row(0, named=True)
    assert ok["eligible"] and ok["index"] == 80.0


def test_expert_pool_leaves_out_suspended_with_reason() -> None:
    other = rid(8)
    data = data_of(row(E, "expert", "ABSENT", "2026-03-01"), row(other, "expert", "LATE",
                                                                "2026-03-01"))
    drawable, left_out = expert_pool(data, day("2026-03-02"), [E, other, rid(9)])
    assert set(drawable.get_column("subject_id")) == {other, rid(9)}
    assert left_out.get_column("subject_id").to_list() == [E]
    assert "suspension" in left_out.row(0, named=True)["reasons"]


# --- property: eligibility == no covering interval == compute's restricted flag ---------

BIDDERS = [uscc(i) for i in range(10, 13)]
EXPERTS = [rid(i) for i in range(20, 22)]
RULES_TEXT = """
[ruleset]
name = "p"
version = "1"
[[grade]]
name = "A"
min = 90
[[grade]]
name = "B"
min = 70
restricted = true
basis = "a provision that allows barring by grade"
[[grade]]
name = "C"
min = 50
[[grade]]
name = "D"
min = 0
restricted = true
basis = "a provision that allows barring by grade"
[[behaviour]]
code = "X"
name = "x"
subject_types = ["bidder", "expert"]
points = {p1}
days = {d1}
decay = "{decay}"
restrict_days = {r1}
basis = "《招标投标法》第五十三条"
[[behaviour]]
code = "Y"
name = "y"
subject_types = ["bidder", "expert"]
points = {p2}
days = {d2}
decay = "linear"
repeat_within_days = 30
repeat_factor = 1.5
[expert_suspension]
basis = "青海省评标专家管理办法"
window_days = 60
single_points = 25
total_points = 40
suspend_days = 45
"""


@st.composite
def scenario(draw: st.DrawFn) -> tuple[CreditData, list[int]]:
    rules = parse_rules(RULES_TEXT.format(
        p1=draw(st.sampled_from([5, 12.5, 30])), d1=draw(st.integers(1, 120)),
        decay=draw(st.sampled_from(["step", "linear"])), r1=draw(st.integers(1, 90)),
        p2=draw(st.sampled_from([7, 15, 22.5, 40])), d2=draw(st.integers(1, 150))))
    start = dt.date(2026, 1, 1)
    rows = []
    for i in range(draw(st.integers(0, 12))):
        sid = draw(st.sampled_from(BIDDERS + EXPERTS))
        stype = "expert" if sid in EXPERTS else "bidder"
        decided = start + dt.timedelta(days=draw(st.integers(0, 120)))
        extra: dict[str, str] = {"record_id": str(i)}
        if draw(st.booleans()):
            extra["recorded_on"] = str(decided + dt.timedelta(days=draw(st.integers(0, 20))))
        if draw(st.integers(0, 5)) == 0:
            extra["revoked_on"] = str(decided + dt.timedelta(days=draw(st.integers(0, 60))))
        if draw(st.integers(0, 5)) == 0:
            extra["repaired_on"] = str(decided + dt.timedelta(days=draw(st.integers(0, 60))))
        rows.append(row(sid, stype, draw(st.sampled_from(["X", "Y"])), str(decided), **extra))
    days = [to_day(start) + draw(st.integers(-5, 300)) for _ in range(4)]
    return CreditData(records_frame(rows), rules), days


@settings(max_examples=60, deadline=None)
@given(scenario())
def test_eligible_exactly_when_no_interval_covers(case: tuple[CreditData, list[int]]) -> None:
    data, days = case
    everyone = BIDDERS + EXPERTS
    for d in days:
        for known in (d, d + 30):
            intervals = restrictions(data, known)
            covered = set(restrict.covering(intervals, d).get_column("subject_id").to_list())
            answer = check(data, d, everyone, known_on=known).table
            ineligible = set(answer.filter(~pl.col("eligible")).get_column("subject_id"))
            assert ineligible == covered
            flagged = compute(data, d, known).filter(pl.col("restricted"))
            assert set(flagged.get_column("subject_id")) == covered
