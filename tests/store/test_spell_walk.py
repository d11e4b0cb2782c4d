"""The catch-up's one-pass plan of the subjects that only take stored spells
(:mod:`creditindex.store.spell_walk`) gives, day by day, what the day-by-day plan
(``day_plan._step_due``) gives for them: Hypothesis draws state rows and chains of
spells (answers the same or not, decays that go on, stop or start, grounds that move,
roles without a spell, spells that move no day on) and both plans must agree on every
day's state rows, rows to store and spells copied, and on the rows after the last day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from creditindex.evaluate import CreditData
from creditindex.rules import load_rules
from creditindex.store import day_plan
from creditindex.store.daily_state import KEY, LEDGER_COLUMNS, STATE_SCHEMA
from creditindex.store.keyed import KeyedRows
from creditindex.store.rulesets import PublishedRules
from creditindex.store.spell_walk import anchor_of, walk
from creditindex.store.spells import SPELL_LEDGER_SCHEMA, SPELL_SCHEMA

FIRST = dt.date(2026, 3, 1)
RULES = load_rules()
PUBLISHED = PublishedRules(1, "h", "default", "1", FIRST, "test",
                           dt.datetime(2026, 1, 1), RULES)
REASONS = [None, "D1 -5", "D2 -5", "D1 -5; restricted: G1", "D2 -5; restricted: G1",
           "D1 -5; restricted: G2"]


def _day(n: int) -> dt.date:
    return FIRST + dt.timedelta(days=n)


@st.composite
def _answer(draw: Any, before: dict[str, Any] | None = None) -> dict[str, Any]:
    """An answer: drawn anew, or ``before``'s with its decay drawn anew, or with one
    more field drawn anew too."""
    drawn = _drawn(draw)
    how = draw(st.integers(0, 2)) if before is not None else 0
    if how == 0 or before is None:
        return drawn
    field = draw(st.sampled_from(["decays_until", *(list(drawn) if how == 2 else [])]))
    return {**before, "decays_until": drawn["decays_until"], field: drawn[field]}


def _drawn(draw: Any) -> dict[str, Any]:
    restricted = draw(st.booleans())
    return {"subject_name": draw(st.sampled_from(["甲", "乙"])),
            "credit_index": draw(st.sampled_from([100.0, 90.0])),
            "grade": draw(st.sampled_from(["A", "B"])),
            "watch": draw(st.sampled_from([None, "关注"])),
            "deducted": draw(st.sampled_from([0.0, 10.0])), "restricted": restricted,
            "restricted_in": draw(st.sampled_from([None, "all"])) if restricted else None,
            "reasons": draw(st.sampled_from(REASONS)),
            "decays_until": draw(st.sampled_from([None, None, _day(40)]))}


@st.composite
def _catch_up(draw: Any) -> tuple[pl.DataFrame, pl.DataFrame, list[dt.date], set[str]]:
    """State rows, spells, the days caught up and the subject_ids due in them whose
    chain of spells was drawn whole (each role's spell on each of its days, each moving
    it on)."""
    n_days = draw(st.integers(1, 6))
    rows: list[dict[str, Any]] = []
    spells: list[dict[str, Any]] = []
    whole: set[str] = set()
    for n in range(draw(st.integers(1, 4))):
        subject_id = f"S{n}"
        roles = draw(st.sampled_from([["bidder"], ["agent"], ["bidder", "agent"]]))
        at = draw(st.integers(-1, n_days))  # first due (before the first day: due on it)
        broken = False
        nexts = [draw(st.integers(at, at + 3)) for _ in roles]
        nexts[0] = at
        answers: dict[str, dict[str, Any]] = {}
        for role, due in zip(roles, nexts, strict=True):
            answers[role] = draw(_answer())
            rows.append({"subject_id": subject_id, "subject_type": role, **answers[role],
                         "next_change": _day(due), "decay_run_id": draw(st.sampled_from(
                             [None, 5])), "answer_run_id": 7})
        day = max(at, 0)
        while day < n_days:
            after = day + draw(st.integers(1, 3))
            if draw(st.integers(0, 9)) == 0:  # one that moves no day on
                after, broken = day, True
            for i, role in enumerate(roles):
                if len(roles) > 1 and i == 1 and draw(st.integers(0, 9)) == 0:
                    broken = True  # a role without a spell that day
                    continue
                nxt = after if i == 0 else draw(st.integers(after, after + 2))
                last = after >= n_days and draw(st.booleans())
                answers[role] = draw(_answer(answers[role]))
                spells.append({"subject_id": subject_id, "subject_type": role,
                               "from_day": _day(day), **answers[role],
                               "next_change": None if last else _day(nxt)})
            if after <= day:
                break
            day = after
        if not broken and at < n_days:  # (one first due after the days is not walked)
            whole.add(subject_id)
    days = [_day(i) for i in range(n_days)]
    return (pl.DataFrame(rows, schema=STATE_SCHEMA),
            pl.DataFrame(spells, schema=SPELL_SCHEMA), days, whole)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def _day_by_day(rows: pl.DataFrame, spells: pl.DataFrame, days: list[dt.date]
                ) -> tuple[list[day_plan.Day], pl.DataFrame]:
    def recomputed(subject_ids: list[str]) -> CreditData:
        raise AssertionError(f"{subject_ids} recomputed: the walk took them")

    carry = day_plan.Carry(
        PUBLISHED, CreditData(records=pl.DataFrame(), rules=RULES), rows, [],
        KeyedRows.of(pl.DataFrame(schema=SPELL_LEDGER_SCHEMA).select(list(LEDGER_COLUMNS))),
        spells=spells, loaded=set(), loader=recomputed)
    return [day_plan._step_due(carry, day) for day in days], carry.rows


@settings(max_examples=300, deadline=None)
@given(_catch_up())
def test_the_walk_plans_each_day_as_the_day_by_day_plan(
        drawn: tuple[pl.DataFrame, pl.DataFrame, list[dt.date], set[str]]) -> None:
    rows, spells, days, whole = drawn
    walked = walk(rows, spells, days, exclude=[])
    assert whole <= walked.subject_ids  # every chain drawn whole is walked
    mine = rows.filter(pl.col("subject_id").is_in(list(walked.subject_ids)))
    planned, after = _day_by_day(mine, spells, days)
    for done in planned:
        found = walked.days.get(done.day)
        for name in ("fresh", "changed", "spelled", "spell_decay"):
            expected = getattr(done, name)
            got = getattr(found, name) if found is not None else expected.clear()
            assert_frame_equal(_sorted(got), _sorted(expected), check_dtypes=True)
    assert_frame_equal(_sorted(walked.rows), _sorted(after.join(
        walked.rows.select(KEY), on=KEY, how="semi")))
    assert walked.until == days[-1]


def test_a_decay_goes_on_and_a_changed_answer_is_stored() -> None:
    """One role: a decay named by run 5 whose spell on day 1 leaves what stands as it
    is (it goes on: the row keeps its answer and runs, nothing stored), then a spell on
    day 3 with another restriction (stored, naming day 3's run)."""
    base = {"subject_id": "S", "subject_type": "bidder", "subject_name": "甲",
            "grade": "B", "watch": None, "deducted": 10.0, "restricted": True,
            "restricted_in": "all"}
    rows = pl.DataFrame([{**base, "credit_index": 90.0, "reasons": "D1 -10; restricted: G1",
                          "next_change": _day(1), "decays_until": _day(40),
                          "decay_run_id": 5, "answer_run_id": 5}], schema=STATE_SCHEMA)
    spells = pl.DataFrame([
        {**base, "from_day": _day(1), "credit_index": 91.0,
         "reasons": "D1 -9; restricted: G1", "next_change": _day(3),
         "decays_until": _day(40)},
        {**base, "from_day": _day(3), "credit_index": 91.0, "reasons": "D1 -9; restricted: G2",
         "next_change": None, "decays_until": None}], schema=SPELL_SCHEMA)
    walked = walk(rows, spells, [_day(i) for i in range(5)], exclude=[])
    assert walked.subject_ids == {"S"} and set(walked.days) == {_day(1), _day(3)}
    going_on = walked.days[_day(1)]
    assert going_on.changed.height == 0 and going_on.spelled.height == 0
    assert going_on.fresh.select("credit_index", "decay_run_id", "answer_run_id",
                                 "next_change").row(0) == (90.0, 5, 5, _day(3))
    moved = walked.days[_day(3)]
    assert moved.changed.select("reasons", "answer_run_id").row(0) == (
        "D1 -9; restricted: G2", anchor_of(_day(3)))
    assert moved.fresh.get_column("decay_run_id").to_list() == [None]
    assert walked.rows.get_column("reasons").to_list() == ["D1 -9; restricted: G2"]


def test_subjects_with_new_facts_or_a_missing_spell_are_left_to_the_day_by_day_plan(
        ) -> None:
    state = pl.DataFrame([
        {"subject_id": i, "subject_type": "bidder", "subject_name": "甲",
         "credit_index": 100.0, "grade": "A", "watch": None, "deducted": 0.0,
         "restricted": False, "restricted_in": None, "reasons": None,
         "next_change": _day(0), "decays_until": None, "decay_run_id": None,
         "answer_run_id": 7} for i in ("NEW", "NONE", "OK")], schema=STATE_SCHEMA)
    spells = state.filter(pl.col("subject_id") != "NONE").with_columns(
        pl.lit(_day(0)).alias("from_day"), pl.lit(None, pl.Date).alias("next_change")
    ).select(list(SPELL_SCHEMA))
    walked = walk(state, spells, [_day(0)], exclude=["NEW"])
    assert walked.subject_ids == {"OK"}
