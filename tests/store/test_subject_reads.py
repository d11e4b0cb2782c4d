"""Answers about a few subjects read only their rows (semantics §9, "--db"): the records,
events, registrations, manual restrictions and list entries of the asked subjects, and
the list entries that match by name; the answers equal those from the whole store, on
SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from creditindex.evaluate import check, explain, history
from creditindex.store import load
from creditindex.store.load import load_data
from tests.store.storetest import E, F, G, H, R, S, V, X
from tests.store.test_equivalence import fill_store

DAYS = [dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 7, 15), dt.date(2030, 1, 1)]


def test_a_few_subjects_read_only_their_rows_and_answer_alike(store_url: str,
                                                              tmp_path: Path) -> None:
    fill_store(store_url, tmp_path)
    everything = load_data(store_url)
    for subject in (E, F, G, H, R, S, V, X):
        mine = load_data(store_url, subject_ids=[subject.lower()])  # asked as typed
        assert set(mine.records.get_column("subject_id")) <= {subject}
        assert mine.records.height == everything.records.filter(
            pl.col("subject_id") == subject).height
        if mine.manual is not None:
            assert set(mine.manual.get_column("subject_id")) == {subject}
        if mine.lists is not None:  # entries naming this subject, or only a name
            assert set(mine.lists.get_column("subject_id").drop_nulls()) <= {subject}
        for day in DAYS:
            assert_frame_equal(check(mine, day, [subject]).table,
                               check(everything, day, [subject]).table)
            assert_frame_equal(explain(mine, subject, day), explain(everything, subject, day))
        assert_frame_equal(history(mine, subject, DAYS[0], DAYS[1]),
                           history(everything, subject, DAYS[0], DAYS[1]))
    # the subject matched by name is restricted by the name-only entry
    assert not check(load_data(store_url, subject_ids=[H]), DAYS[3], [H]).table.get_column(
        "eligible")[0]


def test_many_subjects_are_read_by_one_scan_alike(store_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``SCAN_ABOVE`` subjects (the daily job's catch-up) the records are read by
    one scan keeping those subjects' rows: the same rows, in the same order, as the
    whole store's records of those subjects."""
    fill_store(store_url, tmp_path)
    everything = load_data(store_url)
    asked = [E, G, R, "NOT-IN-THE-STORE"]
    monkeypatch.setattr(load, "SCAN_ABOVE", 2)
    mine = load_data(store_url, subject_ids=asked)
    theirs = everything.records.filter(pl.col("subject_id").is_in(asked))
    assert theirs.height > 0
    assert_frame_equal(mine.records, theirs)
