"""The day's answer on the array core (creditindex/engine/snapshot.py) and the views over
it: names, deductions and grounds read the same as the ledger frame says."""

from __future__ import annotations

import datetime as dt

import polars as pl

from creditindex import engine
from creditindex.days import to_day
from creditindex.engine.snapshot import day_facts
from creditindex.evaluate import CreditData, check, compute, restrictions
from creditindex.generate import generate_records, generate_subjects
from creditindex.records import records_frame
from creditindex.rules import load_rules, parse_rules
from tests.helpers import day, row, uscc

G = uscc(3)
TWO_ROLES = parse_rules("""
[ruleset]
name = "two roles"
version = "1"
base = 100
floor = 0

[[grade]]
name = "A"
min = 60

[[grade]]
name = "D"
min = 0
restricted = true
basis = "a provision"

[[behaviour]]
code = "X"
name = "x"
subject_types = ["bidder", "agent"]
points = 50
days = 30
""")


def test_name_is_of_the_latest_record_and_of_equals_the_later_row() -> None:
    rows = [row(G, "bidder", "BID-FRAUD", "2026-03-01", subject_name="late",
                recorded_on="2026-03-02", record_id="a"),
            row(G, "bidder", "BID-FRAUD", "2026-01-01", subject_name="early", record_id="b"),
            row(G, "agent", "AGT-PROCEDURE", "2026-02-01", subject_name="first",
                record_id="c"),
            row(G, "agent", "AGT-PROCEDURE", "2026-02-01", subject_name="second",
                record_id="d")]
    out = compute(CreditData(records_frame(rows), load_rules()), day("2026-04-01"))
    names = dict(zip(out.get_column("subject_type"), out.get_column("subject_name"),
                     strict=True))
    assert names == {"bidder": "late", "agent": "second"}


def test_grade_grounds_of_several_roles_read_in_one_order() -> None:
    rows = [row(G, "bidder", "X", "2026-01-01", record_id="b"),
            row(G, "agent", "X", "2026-01-01", record_id="a")]
    data = CreditData(records_frame(rows), TWO_ROLES)
    for _ in range(3):  # the same text every time, whatever the hashing order
        out = compute(data, day("2026-01-10"))
        assert out.height == 2
        for reasons in out.get_column("reasons").to_list():
            assert reasons.endswith("grade: grade D as agent until indefinite; "
                                    "grade: grade D as bidder until indefinite")


def test_day_facts_are_the_ledger_frames_deductions() -> None:
    rules = load_rules()
    subjects = generate_subjects(300, seed=5)
    records = generate_records(subjects, 3_000, rules, seed=5)
    on = to_day(dt.date(2026, 6, 1))
    facts = day_facts(records, rules, on)
    ledger = engine.ledger(records, rules, on)
    slow = engine.deductions_on(ledger, on)
    got = records.select(pl.col("source", "record_id").gather(pl.Series(facts.counted.row))
                         ).with_columns(pl.Series("points", facts.counted.value))
    assert got.sort("source", "record_id").equals(
        slow.select("source", "record_id", "points").sort("source", "record_id"))
    keys = facts.codes.keys(records).with_columns(pl.Series("deducted", facts.deducted))
    sums = slow.group_by(engine.SUBJECT_KEY).agg(pl.col("points").sum())
    both = keys.join(sums, on=engine.SUBJECT_KEY, how="left").with_columns(
        pl.col("points").fill_null(0.0))
    assert ((both.get_column("deducted") - both.get_column("points")).abs() < 1e-9).all()


def test_compute_and_check_give_the_same_grounds() -> None:
    rules = load_rules()
    subjects = generate_subjects(200, seed=9)
    records = generate_records(subjects, 2_000, rules, seed=9)
    data = CreditData(records, rules)
    on = dt.date(2026, 10, 1)
    every = restrictions(data, on)
    out = compute(data, on).filter(pl.col("restricted"))
    assert out.height > 0
    ids = out.get_column("subject_id").unique().to_list()[:20]
    answer = check(data, on, ids)
    assert not answer.table.get_column("eligible").any()
    for r in answer.grounds.iter_rows(named=True):
        assert r["subject_id"] in ids
        # every ground of check is an interval of the restrictions in force that day
        assert every.filter((pl.col("subject_id") == r["subject_id"])
                            & (pl.col("cause") == r["cause"])
                            & (pl.col("start") == to_day(r["since"]))).height >= 1


def test_the_days_deductions_read_in_the_order_of_deduction_reasons() -> None:
    """The reasons worded on the arrays (one sort of packed keys, texts joined per
    subject) read as :func:`deduction_reasons` words a frame of the same entries: largest
    points first, then behaviour code, then decision day; equal points, codes and days
    of different rows alike."""
    import numpy as np

    from creditindex.engine.ledger import BehaviourTable
    from creditindex.engine.restrictions import Entries
    from creditindex.evaluate import _counted_reasons, deduction_reasons

    table = BehaviourTable.of(load_rules())
    rng = np.random.default_rng(7)
    n = 400
    counted = Entries(
        code=rng.integers(0, 40, n).astype(np.int32),
        row=np.arange(n, dtype=np.int64),
        beh=rng.integers(0, len(table.codes), n).astype(np.int64),
        decided=rng.integers(20_000, 20_005, n).astype(np.int32),
        value=rng.choice([0.125, 1.0, 2.5, 2.505, 3.0, 12.0], n),
        scope=np.zeros(n, dtype=np.int64))
    frame = pl.DataFrame({
        "subject_id": counted.code.astype(str), "subject_type": "bidder",
        "behaviour_code": [table.codes[b] for b in counted.beh], "points": counted.value,
        "decided": counted.decided, "source": "S", "record_id": counted.row.astype(str)})
    expected = dict(deduction_reasons(frame).select(
        pl.col("subject_id").cast(pl.Int32), "_ded_reasons").iter_rows())
    assert dict(_counted_reasons(counted, table).iter_rows()) == expected
