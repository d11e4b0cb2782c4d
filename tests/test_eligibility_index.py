"""restrict.EligibilityIndex answers exactly what evaluate.check answers (eligible), for
every cause: behaviours, restricted grades, expert suspensions, external lists (by id and
by name) and manual restrictions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from creditindex import restrict
from creditindex.days import to_date, to_day
from creditindex.evaluate import CreditData, check
from creditindex.generate import generate_records, generate_subjects
from creditindex.lists import LIST_SCHEMA
from creditindex.rules import load_rules

END = to_day(dt.date(2026, 11, 25))


@pytest.fixture(scope="module")
def data() -> CreditData:
    rules = load_rules()
    subjects = generate_subjects(2500, seed=9)
    records = generate_records(subjects, 7000, rules, seed=9)
    rng = np.random.default_rng(9)
    listed = subjects.sample(120, seed=9)
    lists = pl.DataFrame({
        "list": ["court"] * 60 + ["tax"] * 60,
        "entry_id": [f"E{i}" for i in range(120)],
        "subject_id": listed.get_column("subject_id").to_list()[:60] + [None] * 60,
        "name": [None] * 60 + listed.get_column("subject_name").to_list()[60:],
        "country": [None] * 120,
        "listed_on": [to_date(END - int(x)) for x in rng.integers(0, 900, 120)],
        "until": [None if i % 3 == 0 else to_date(END - 400 + int(x))
                  for i, x in enumerate(rng.integers(0, 900, 120))],
        "grounds": ["listed"] * 120,
        "scope": [None] * 120,
        "financier": [None] * 120,
        "source_row": list(range(120)),
    }, schema=LIST_SCHEMA)
    manual = pl.DataFrame({
        "subject_id": listed.get_column("subject_id").to_list()[:10],
        "start": [to_date(END - 100)] * 10,
        "until": [to_date(END - 10)] * 10,
        "reason": ["staff"] * 10,
    })
    return CreditData(records, rules, subjects=subjects, lists=lists, manual=manual)


def _asked(data: CreditData) -> list[str]:
    assert data.manual is not None and data.subjects is not None
    ids = data.records.get_column("subject_id").unique().sort().head(600).to_list()
    ids += data.manual.get_column("subject_id").to_list()
    ids += data.subjects.get_column("subject_id").tail(50).to_list()
    return [*ids, "NOT-A-SUBJECT", "  " + ids[0].lower() + " "]


@pytest.mark.parametrize("back", [0, 45, 400])
def test_index_equals_check(data: CreditData, back: int) -> None:
    known_on = END - back
    index = restrict.EligibilityIndex.of(data, known_on)
    ids = _asked(data)
    for day in (known_on, known_on - 1, known_on - 300, known_on + 200):
        table = check(data, day, ids, known_on=known_on).table
        expected = dict(zip(table.get_column("subject_id").to_list(),
                            table.get_column("eligible").to_list(), strict=True))
        got = index.eligible(ids, day)
        assert got.tolist() == [expected[i.strip().upper()] for i in ids], day
    assert not bool(index.eligible(ids, known_on).all())


def test_index_from_restriction_frame_agrees(data: CreditData) -> None:
    from creditindex.evaluate import restrictions

    frame = restrictions(data, END)
    slow = restrict.EligibilityIndex.from_restrictions(frame, END)
    fast = restrict.EligibilityIndex.of(data, END)
    ids = _asked(data)
    for day in (END, END - 200, END + 500):
        assert slow.eligible(ids, day).tolist() == fast.eligible(ids, day).tolist()


def test_restricted_until_is_the_day_eligible_again(data: CreditData) -> None:
    index = restrict.EligibilityIndex.of(data, END)
    ids = _asked(data)
    until = index.restricted_until(ids, END)
    for sid, first_free in zip(ids, until.tolist(), strict=True):
        if first_free in (END, restrict._OPEN):
            continue
        assert not index.eligible([sid], first_free - 1)[0]
        assert index.eligible([sid], first_free)[0]


def test_index_built_in_parts_is_the_same(data: CreditData, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from creditindex.engine import codes

    whole = restrict.EligibilityIndex.of(data, END)
    monkeypatch.setattr(codes, "CHUNK_ROWS", 600)
    parts = restrict.EligibilityIndex.of(data, END)
    assert parts.runs == whole.runs
    assert bool((parts.run_key == whole.run_key).all())
    assert bool((parts.run_end == whole.run_end).all())
