"""The API server's day answers (creditindex/api/answers.py) give the very frames the
engine gives for the subjects asked alone, on their data as the server narrows it
(records, registrations and manual restrictions of theirs, list entries that may concern
them): worked examples (lists by code and by name, a lender's list) and the sample data
set, several questions, codes unknown to the store. A check put together from each
subject's rows kept with the day answers states what a check drafted from those frames
states (certificate, evidence payload, stored answer)."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from creditindex.api.answers import ABSENT, answerable, day_answers
from creditindex.api.reader import lists_concerning
from creditindex.certificate import CheckRequest, run_check
from creditindex.evaluate import CreditData
from creditindex.evidence import data_facts
from creditindex.records import read_records, read_subjects
from creditindex.rules import load_rules
from creditindex.store import checks
from tests.api.apitest import LENDER, write_store_files
from tests.store.storetest import file_data, uscc

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [{}, {"subject_type": "bidder"}, {"category": "procurement"},
             {"financier": LENDER}, {"known_on": dt.date(2026, 2, 10)}]


def _sample() -> CreditData:
    rules = load_rules()
    return CreditData(records=read_records([ROOT / "data" / "sample" / "records.csv"], rules,
                                           today=dt.date(2026, 11, 26)),
                      rules=rules,
                      subjects=read_subjects(ROOT / "data" / "sample" / "subjects.csv"))


def _same_as_engine(data: CreditData, on: dt.date, question: dict[str, object],
                    asks: list[list[str]]) -> int:
    """Check each of ``asks`` both ways; how many the day answers answered."""
    day = day_answers(data, CheckRequest(subject_ids=(), on=on, **question))  # type: ignore[arg-type]
    answered = 0
    for ids in asks:
        request = CheckRequest(subject_ids=tuple(ids), on=on, **question)  # type: ignore[arg-type]
        fast = day.answer(request.ids)
        if fast is None:
            continue
        answered += 1
        mine = data.for_subjects(request.ids)
        alone = run_check(CreditData(records=mine.records, rules=mine.rules,
                                     subjects=mine.subjects, manual=mine.manual,
                                     lists=lists_concerning(data.lists, request.ids)),
                          request, consortium=False)
        assert_frame_equal(fast.table, alone.table)
        assert_frame_equal(fast.grounds, alone.grounds)
        assert (fast.on, fast.known_on) == (alone.on, alone.known_on)
    return answered


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: ",".join(q) or "plain")
def test_worked_examples(tmp_path: Path, question: dict[str, object]) -> None:
    data = file_data(write_store_files(tmp_path))
    known = data.subject_keys().get_column("subject_id").unique().sort().to_list()
    unknown = [uscc(90 + i) for i in range(3)]
    asks = [[s] for s in known + unknown] + [known + unknown, list(reversed(known))]
    for on in (dt.date(2026, 3, 1), dt.date(2026, 6, 1)):
        assert _same_as_engine(data, on, question, asks) >= len(asks) - 2


@pytest.mark.parametrize("question", QUESTIONS[:4], ids=lambda q: ",".join(q) or "plain")
def test_sample_data(question: dict[str, object]) -> None:
    data = _sample()
    day = day_answers(data, CheckRequest(subject_ids=(), on=dt.date(2026, 11, 30)))
    exact = sorted(day.exact - {ABSENT})
    assert len(exact) > 0.9 * (len(day.rows) - 1)  # few subjects need the engine
    rng = random.Random(20261130)
    unknown = [uscc(200 + i) for i in range(20)]
    asks = [rng.sample(exact, 8) + rng.sample(unknown, 2) for _ in range(40)]
    assert _same_as_engine(data, dt.date(2026, 11, 30), question, asks) == len(asks)


def test_inexact_subjects_go_to_the_engine() -> None:
    data = _sample()
    day = day_answers(data, CheckRequest(subject_ids=(), on=dt.date(2026, 11, 30)))
    unsure = sorted(set(day.rows) - day.exact)
    names = data.names().group_by("subject_id").agg(pl.col("subject_name").n_unique())
    several = names.filter(pl.col("subject_name") > 1).get_column("subject_id").to_list()
    assert set(several) <= set(unsure)
    if unsure:
        assert day.answer([unsure[0], *sorted(day.exact - {ABSENT})[:3]]) is None


def test_what_is_answerable() -> None:
    on = dt.date(2026, 6, 1)
    assert answerable(CheckRequest(subject_ids=("A",), on=on))
    assert not answerable(CheckRequest(subject_ids=("A", "B"), on=on, consortium=True))
    assert not answerable(CheckRequest(subject_ids=("A",), on=on, names={"A": "某公司"}))


def test_grounds_sharing_cause_and_start_are_answered_by_look_up_exactly() -> None:
    # Such grounds are ordered by subject type, source and record id (GROUND_ORDER), so
    # their order no longer depends on the other subjects asked.
    data = _sample()
    on = dt.date(2026, 11, 30)
    day = day_answers(data, CheckRequest(subject_ids=(), on=on))
    grounds = day.result.grounds
    shared = grounds.group_by("subject_id", "cause", "since").len().filter(
        pl.col("len") > 1).get_column("subject_id").unique().sort().to_list()
    assert shared, "the sample has subjects with two grounds of one cause and start"
    assert set(shared) <= day.exact
    rng = random.Random(7)
    others = sorted(day.exact - {ABSENT} - set(shared))
    asks = [rng.sample(shared, min(3, len(shared))) + rng.sample(others, 5) for _ in range(20)]
    assert _same_as_engine(data, on, {}, asks) == len(asks)


def _without_times(draft: checks.CheckDraft) -> tuple[object, ...]:
    cert = {k: v for k, v in draft.certificate.items() if k not in ("issued_at", "verify_code")}
    evidence = {**draft.evidence, "check": {**draft.evidence["check"], "made_at": None}}
    return (cert, evidence, draft.answer.payload, draft.answer.subject_ids,
            draft.answer.eligible, draft.inputs, draft.rules_hash, draft.who)


def _same_drafts(data: CreditData, on: dt.date, question: dict[str, object],
                 asks: list[list[str]]) -> int:
    """Each of ``asks`` drafted from each subject's rows and from the engine's frames
    (on the data narrowed to its subjects, as the server did): the same payloads. How
    many were drafted from rows."""
    day = day_answers(data, CheckRequest(subject_ids=(), on=on, **question))  # type: ignore[arg-type]
    facts = data_facts(data)
    made = 0
    for ids in asks:
        request = CheckRequest(subject_ids=tuple(ids), on=on, project_no="P",  # type: ignore[arg-type]
                               **question)
        parts = day.subject_rows(request.ids)
        if parts is None:
            continue
        made += 1
        fast = checks.draft_from_rows(None, request, parts, rules=data.rules,
                                      on=day.result.on, known_on=day.result.known_on,
                                      facts=facts, frames=lambda: None, channel="api")
        mine = data.for_subjects(request.ids)
        narrowed = CreditData(records=mine.records, rules=mine.rules, subjects=mine.subjects,
                              manual=mine.manual,
                              lists=lists_concerning(data.lists, request.ids))
        slow = checks.draft_check(None, narrowed, request, channel="api", facts=facts,
                                  members=day.answer(request.ids))
        assert _without_times(fast) == _without_times(slow)
        assert json.dumps(fast.certificate["subjects"]) == json.dumps(
            slow.certificate["subjects"])  # the same order and types
    return made


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: ",".join(q) or "plain")
def test_checks_put_together_from_subject_rows_state_what_the_engine_frames_state(
        tmp_path: Path, question: dict[str, object]) -> None:
    data = file_data(write_store_files(tmp_path))
    known = data.subject_keys().get_column("subject_id").unique().sort().to_list()
    unknown = [uscc(90 + i) for i in range(3)]
    asks = [[s] for s in known + unknown] + [known + unknown, list(reversed(known)),
                                             unknown + known[:2]]
    for on in (dt.date(2026, 3, 1), dt.date(2026, 6, 1)):
        assert _same_drafts(data, on, question, asks) >= len(asks) - 2


@pytest.mark.parametrize("question", QUESTIONS[:4], ids=lambda q: ",".join(q) or "plain")
def test_sample_checks_put_together_from_subject_rows(question: dict[str, object]) -> None:
    data = _sample()
    day = day_answers(data, CheckRequest(subject_ids=(), on=dt.date(2026, 11, 30)))
    exact = sorted(day.exact - {ABSENT})
    grounded = sorted(set(day.result.grounds.get_column("subject_id")) & set(exact))
    rng = random.Random(20261201)
    unknown = [uscc(200 + i) for i in range(20)]
    asks = [rng.sample(grounded, 4) + rng.sample(exact, 4) + rng.sample(unknown, 2)
            for _ in range(40)]
    assert _same_drafts(data, dt.date(2026, 11, 30), question, asks) == len(asks)


def test_rows_made_ahead_are_the_rows_made_when_asked() -> None:
    """:meth:`DayAnswers.prepare` (the server makes every subject's rows once the day's
    answers are computed) makes the very rows the first check naming a subject makes."""
    data = _sample()
    request = CheckRequest(subject_ids=(), on=dt.date(2026, 11, 30))
    ahead, asked = day_answers(data, request), day_answers(data, request)
    assert ahead.prepare(chunk=50, pause=0) == len(ahead.exact)
    subjects = sorted(ahead.exact - {ABSENT})
    assert ahead.subject_rows(subjects) == asked.subject_rows(subjects)
    assert ahead.prepare() == 0  # made once
    ahead.forget_rows()
    assert ahead.subject_rows(subjects[:3]) == asked.subject_rows(subjects[:3])
