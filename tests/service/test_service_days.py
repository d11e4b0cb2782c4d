"""A day's rankings and the directory of subjects, as the faces read them."""

from __future__ import annotations

import polars as pl

from creditindex import evaluate
from creditindex.service import days
from creditindex.service.auth import ANONYMOUS, User
from creditindex.service.state import changed, state
from creditindex.store.load import load_data
from creditindex.store.snapshots import evaluate as evaluate_day
from tests.service.servicetest import TODAY

STAFF = User("staff", "staff")


def test_rankings_are_the_engines_answer_computed_or_stored(url: str) -> None:
    data = load_data(url, on=TODAY)
    oracle = evaluate.compute(data, TODAY).sort("subject_type", "rank", "subject_id")
    computed = days.rankings(url, state(url), data, TODAY, TODAY)
    got = pl.concat([computed.of(t) for t in sorted(computed.by_type)])
    assert got.select(evaluate.COMPUTE_COLUMNS).equals(oracle)
    assert computed.of("expert").get_column("public_id").str.contains(r"\*{8}").all()
    evaluate_day(url, TODAY, catch_up=False)  # now the day is stored and current
    changed()
    token = state(url)
    assert days.published_subjects(url, token, data.rules.content_hash, TODAY) == (
        oracle.height)
    stored = days.rankings(url, token, data, TODAY, TODAY)
    kept = [c for c in evaluate.COMPUTE_COLUMNS if c != "restricted_in"]
    assert pl.concat([stored.of(t) for t in sorted(stored.by_type)]).select(kept).equals(
        oracle.select(kept))


def test_experts_are_found_only_by_whole_id_and_never_by_the_public(url: str) -> None:
    directory = days.directory(load_data(url))
    expert = directory.filter(pl.col("subject_type") == "expert").row(0, named=True)
    part = expert["subject_id"][:10]
    assert days.find_subjects(directory, part, user=STAFF).filter(
        pl.col("subject_id") == expert["subject_id"]).height == 0
    whole = days.find_subjects(directory, expert["subject_id"], user=STAFF)
    assert expert["subject_id"] in whole.get_column("subject_id").to_list()
    assert days.find_subjects(directory, expert["subject_id"], user=ANONYMOUS).height == 0
    assert days.subject_name(directory, expert["subject_id"], "expert") == (
        expert["subject_name"] or "")
    assert days.subject_types_of(directory, expert["subject_id"]) == ["expert"]
