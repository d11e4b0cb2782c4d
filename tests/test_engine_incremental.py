"""The daily update (engine.start_state / engine.update) equals computing from scratch,
and the fast paths (engine.snapshot, engine.timeline_of) equal the frame functions."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from creditindex import engine
from creditindex.days import to_day
from creditindex.engine import codes
from creditindex.evaluate import CreditData, compute
from creditindex.generate import generate_records, generate_subjects
from creditindex.rules import RuleSet, load_rules

END = dt.date(2026, 11, 25)
KEY = ["subject_id", "subject_type", "start"]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def subjects() -> pl.DataFrame:
    return generate_subjects(3000, seed=5)


@pytest.fixture(scope="module")
def records(subjects: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    return generate_records(subjects, 8000, rules, seed=5)


def _day(d: dt.date) -> int:
    return to_day(d)


def _batch(subjects: pl.DataFrame, rules: RuleSet, day: int, seed: int, n: int
           ) -> pl.DataFrame:
    """``n`` new records reaching the system on ``day``, decided up to 20 days before."""
    fresh = generate_records(subjects, n, rules, seed=seed)
    return fresh.with_columns(
        pl.concat_str(pl.lit(f"N{day}-"), pl.col("record_id")).alias("record_id"),
        (pl.lit(day).cast(pl.Date) - pl.duration(days=pl.int_range(pl.len()) % 21))
        .alias("decided_on"),
        pl.lit(day).cast(pl.Date).alias("recorded_on"),
        pl.lit(None, pl.Date).alias("revoked_on"),
        pl.lit(None, pl.Date).alias("repaired_on"),
    )


def _assert_equals_scratch(state: engine.DailyState, rules: RuleSet) -> None:
    records = state.all_records()
    mine = state.timeline().frame(rules).sort(KEY)
    scratch = engine.timeline(engine.ledger(records, rules, state.known_on), rules).sort(KEY)
    _assert_timelines_close(mine, scratch)
    scores = state.scores().sort("subject_id", "subject_type")
    expected = compute(CreditData(records, rules), state.known_on).sort(
        "subject_id", "subject_type")
    _assert_same_scores(scores, expected, ["subject_id", "subject_type", "deducted", "grade"])


def _assert_same_scores(mine: pl.DataFrame, other: pl.DataFrame, exact: list[str]) -> None:
    """Equal frames; ``index`` to 1e-9 (polars divides by 100 differently in different
    positions of a column, so the last bit of a rounded index is not reproducible)."""
    assert mine.select(exact).equals(other.select(exact))
    diff = (mine.get_column("index") - other.get_column("index")).abs().max()
    assert diff is None or float(diff) < 1e-9  # type: ignore[arg-type]


def test_update_day_by_day_equals_scratch(records: pl.DataFrame, subjects: pl.DataFrame,
                                          rules: RuleSet) -> None:
    day = _day(END)
    state = engine.start_state(records, rules, day)
    _assert_equals_scratch(state, rules)
    for i in range(1, 4):
        day += 1
        batch = _batch(subjects, rules, day, seed=100 + i, n=150)
        revoke = records.sample(5, seed=i).with_columns(
            pl.lit(day).cast(pl.Date).alias("revoked_on"))
        repair = records.sample(5, seed=50 + i).with_columns(
            pl.lit(day).cast(pl.Date).alias("repaired_on"))
        state = engine.update(state, pl.concat([batch, revoke, repair]), day)
        assert state.known_on == day
        _assert_equals_scratch(state, rules)
    # an empty day: only expiries and decays
    state = engine.update(state, records.clear(), day + 30)
    _assert_equals_scratch(state, rules)
    compacted = state.compact()
    assert compacted.delta.size == 0
    _assert_equals_scratch(compacted, rules)


def test_records_become_known_on_their_days(records: pl.DataFrame, rules: RuleSet) -> None:
    # Built 90 days back from all records: later recordings, revocations and repairs are
    # in the frame already and must take effect on their own days.
    day = _day(END) - 90
    state = engine.start_state(records, rules, day)
    assert state.pending_day.size > 0
    _assert_equals_scratch(state, rules)
    for step in (1, 2, 30, 57):
        day += step
        state = engine.update(state, records.clear(), day)
        _assert_equals_scratch(state, rules)
    assert bool((state.pending_day > day).all())


def test_update_rejects_going_back(records: pl.DataFrame, rules: RuleSet) -> None:
    state = engine.start_state(records, rules, _day(END))
    with pytest.raises(ValueError):
        engine.update(state, records.clear(), _day(END) - 1)


def test_snapshot_equals_compute(records: pl.DataFrame, rules: RuleSet) -> None:
    for back in (0, 200, 700):
        day = _day(END) - back
        fast = engine.snapshot(records, rules, day).sort("subject_id", "subject_type")
        slow = compute(CreditData(records, rules), day).select(engine.SNAPSHOT_COLUMNS).sort(
            "subject_id", "subject_type")
        _assert_same_scores(fast, slow, [c for c in engine.SNAPSHOT_COLUMNS if c != "index"])


def test_timeline_of_equals_timeline(records: pl.DataFrame, rules: RuleSet) -> None:
    day = _day(END) - 100
    fast = engine.timeline_of(records, rules, day).frame(rules).sort(KEY)
    slow = engine.timeline(engine.ledger(records, rules, day), rules).sort(KEY)
    _assert_timelines_close(fast, slow)


def test_subject_codes_group_and_order(records: pl.DataFrame) -> None:
    codes = engine.subject_codes(records, lexical=True)
    keys = codes.keys(records)
    assert keys.equals(keys.sort(engine.SUBJECT_KEY))
    assert keys.height == records.select(engine.SUBJECT_KEY).unique().height
    grouped = records[pl.Series(codes.order)].select(engine.SUBJECT_KEY)
    expected = keys[pl.Series(codes.sorted_codes())]
    assert grouped.equals(expected)


def test_work_split_by_subject_gives_the_same(records: pl.DataFrame, rules: RuleSet,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    day = _day(END) - 10
    whole_timeline = engine.timeline_of(records, rules, day).frame(rules)
    whole_snapshot = engine.snapshot(records, rules, day)
    whole_state = engine.start_state(records, rules, day)
    monkeypatch.setattr(codes, "CHUNK_ROWS", 700)
    assert len(engine.code_chunks(engine.subject_codes(records))) > 5
    _assert_timelines_close(engine.timeline_of(records, rules, day).frame(rules),
                            whole_timeline)
    snap = engine.snapshot(records, rules, day)
    _assert_same_scores(snap, whole_snapshot,
                        [c for c in engine.SNAPSHOT_COLUMNS if c != "index"])
    state = engine.start_state(records, rules, day)
    _assert_timelines_close(state.timeline().frame(rules), whole_state.timeline().frame(rules))
    assert float(abs(state.deducted() - whole_state.deducted()).max()) < 1e-9


def _assert_timelines_close(a: pl.DataFrame, b: pl.DataFrame) -> None:
    """The same change points; deductions to 1e-9 (sums taken in another order)."""
    exact = ["subject_id", "subject_type", "start", "stop", "grade_at_start"]
    assert a.select(exact).equals(b.select(exact))
    for column in ("step", "lin0", "slope", "index_at_start"):
        diff = (a.get_column(column) - b.get_column(column)).abs().max()
        assert diff is None or float(diff) < 1e-9  # type: ignore[arg-type]


def test_large_subject_codes_do_not_overflow(records: pl.DataFrame, rules: RuleSet) -> None:
    # Ten million records give about 1.5 million subject codes: products of codes and day
    # spans must be taken in 64 bits.
    import dataclasses

    import numpy as np

    day = _day(END)
    codes = engine.subject_codes(records)
    la = engine.compile_ledger(records, rules, day, codes)
    shift = 3_000_000
    big = dataclasses.replace(la, code=(la.code + shift).astype(np.int32))
    expert = (codes.keys(records).get_column("subject_type") == "expert").to_numpy()
    wide = np.zeros(codes.size + shift, dtype=bool)
    wide[shift:] = expert
    code, first, _ = engine.suspension_starts(la, expert, rules)
    big_code, big_first, _ = engine.suspension_starts(big, wide, rules)
    assert code.size > 0
    assert (big_code - shift).tolist() == code.tolist()
    assert big_first.tolist() == first.tolist()
    seg = engine.segments_of(la.code, la.decided, la.end, la.amount, la.linear, la.days)
    big_seg = engine.segments_of(big.code, big.decided, big.end, big.amount, big.linear,
                                 big.days)
    assert (big_seg.code - shift).tolist() == seg.code.tolist()
    assert big_seg.start.tolist() == seg.start.tolist()
