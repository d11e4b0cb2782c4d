"""The day's answer on the array core (creditindex/engine/snapshot.py) and the views over
it: names, deductions and grounds read the same as the ledger frame says."""

from __future__ import annotations

import datetime as dt
import importlib

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


def test_the_days_deductions_read_the_same_worded_in_parts() -> None:
    """Worded in parts of whole subjects (a few entries each here), the entries of any
    order (day_facts gives them in code order) read as worded at once."""
    import numpy as np
    import pytest

    from creditindex import evaluate
    from creditindex.engine.ledger import BehaviourTable
    from creditindex.engine.restrictions import Entries

    table = BehaviourTable.of(load_rules())
    rng = np.random.default_rng(11)
    n = 600
    counted = Entries(
        code=rng.integers(0, 90, n).astype(np.int32), row=np.arange(n, dtype=np.int64),
        beh=rng.integers(0, len(table.codes), n).astype(np.int64),
        decided=rng.integers(20_000, 20_004, n).astype(np.int32),
        value=rng.choice([0.0, -0.0, 0.5, 2.5, 2.505, 12.0], n),
        scope=np.zeros(n, dtype=np.int64))
    whole = evaluate._counted_reasons(counted, table)
    for ordered in (counted, counted.take(np.argsort(counted.code, kind="stable"))):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(evaluate, "_REASON_ROWS", 16)
            assert len(evaluate._counted_reason_parts(ordered, table)) > 10
            parts = evaluate._counted_reasons(ordered, table)
        assert parts.sort("_code").equals(whole.sort("_code"))
    assert evaluate._counted_reasons(counted.take(np.zeros(0, dtype=np.int64)),
                                     table).height == 0


def test_compute_reads_the_same_worded_in_parts_on_any_number_of_threads() -> None:
    """The reasons worded in many parts (deductions by code, grounds by subject_id),
    made side by side with the categories and the order or one after another: the same
    answer as in one part each."""
    import pytest

    from creditindex import evaluate
    from creditindex.engine import arrays

    rules = load_rules()
    subjects = generate_subjects(300, seed=13)
    data = CreditData(generate_records(subjects, 3_000, rules, seed=13), rules)
    on = dt.date(2026, 10, 1)
    whole = compute(data, on)
    assert whole.get_column("restricted").sum() > 20
    for workers in (1, 2):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(evaluate, "_REASON_ROWS", 64)
            patch.setattr(arrays, "WORKERS", workers)
            assert compute(data, on).equals(whole)


def test_grounds_read_in_the_order_of_every_key() -> None:
    """A subject's grounds read in the order of a sort on every key of the grounds'
    order (subject_id, cause, start, code, source, record_id, document_no, end, detail;
    empty last), many rows tying on the first three, in one part or in many."""
    import numpy as np
    import pytest

    from creditindex import evaluate
    from creditindex.restrict import RESTRICTION_SCHEMA, grounds_text

    rng = np.random.default_rng(5)
    n = 2_000

    def pick(values: list[str | None]) -> list[str | None]:
        return [values[i] for i in rng.integers(0, len(values), n)]

    frame = pl.DataFrame({
        "subject_id": pick([f"S{i}" for i in range(40)]),
        "cause": pick(["behaviour", "suspension", "grade"]),
        "code": pick(["B1", "B2", None]), "subject_type": "bidder",
        "record_id": pick(["r1", "r2", None]), "source": pick(["s1", "s2"]),
        "document_no": pick(["d1", "d2", None]),
        "detail": [f"detail {i}" for i in rng.permutation(n)], "basis": None,
        "scope": rng.integers(1, 32, n), "financier": pick([None, "worldbank"]),
        "start": rng.integers(20_000, 20_004, n), "end": pick(["20100", "20200", None]),
    }).cast(RESTRICTION_SCHEMA)  # type: ignore[arg-type]
    want = dict(evaluate.joined_per(
        frame.sort(["subject_id", *evaluate._GROUNDS_ORDER], nulls_last=True).select(
            "subject_id", grounds_text().alias("_restr_reasons")),
        "subject_id", "_restr_reasons").iter_rows())
    assert dict(evaluate._restriction_reasons(frame).iter_rows()) == want
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluate, "_REASON_ROWS", 400)
        assert len(evaluate._restriction_reason_parts(frame)) > 1
        assert dict(evaluate._restriction_reasons(frame).iter_rows()) == want


def test_the_days_facts_carry_the_restrictions_of_the_same_ledger() -> None:
    """Asked for, the day's facts carry every restriction the records cause, the same
    arrays as :func:`record_restrictions` finds on its own, in parts of whole subjects as
    at once; and a check compiles each part's ledger once, not once for the day and again
    for its restrictions."""
    import numpy as np
    import pytest

    from creditindex.engine import codes as engine_codes
    from creditindex.engine import restrictions as engine_restrictions
    from creditindex.engine.restrictions import record_restrictions

    # (the package exports a function named like the module)
    snapshot = importlib.import_module("creditindex.engine.snapshot")

    generated = load_rules()
    subjects = generate_subjects(100, seed=21)
    graded = [row(uscc(i), "bidder", "X", f"2026-09-{d:02d}", record_id=f"g{i}{d}")
              for i in range(1, 4) for d in (1, 10)]
    on = to_day(dt.date(2026, 10, 1))
    for rules, records, bars, grades in (
            (generated, generate_records(subjects, 4_000, generated, seed=21), True, False),
            (TWO_ROLES, records_frame(graded), False, True)):
        alone = record_restrictions(records, rules, on)
        assert (alone.bars.code.size > 0) == bars and (alone.grades[0].size > 0) == grades
        for rows in (engine_codes.CHUNK_ROWS, 3):  # one part; many parts
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(engine_codes, "CHUNK_ROWS", rows)
                facts = day_facts(records, rules, on, with_restrictions=True)
                assert (len(engine_codes.code_chunks(facts.codes)) > 1) == (rows == 3)
                found = facts.restrictions
            assert found is not None
            for a, b in ((alone.bars, found.bars), (alone.suspensions, found.suspensions)):
                for name in a.__dataclass_fields__:
                    assert np.array_equal(getattr(a, name), getattr(b, name)), name
            for a, b in zip(alone.grades, found.grades, strict=True):
                assert np.array_equal(a, b)
    rules, records = generated, generate_records(subjects, 4_000, generated, seed=21)
    assert day_facts(records, rules, on).restrictions is None

    compiled: list[int] = []
    real = snapshot.compile_ledger

    def counting(*args: object, **kwargs: object) -> object:
        compiled.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    data = CreditData(records, rules)
    ids = records.get_column("subject_id").unique().sort().head(5).to_list()
    before = check(data, dt.date(2026, 10, 1), ids)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snapshot, "compile_ledger", counting)
        patch.setattr(engine_restrictions, "compile_ledger", counting)
        after = check(data, dt.date(2026, 10, 1), ids)
    assert after.table.equals(before.table) and after.grounds.equals(before.grounds)
    assert len(compiled) == 1  # five subjects: one part
