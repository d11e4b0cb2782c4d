"""Answers from the store equal answers from the same files, for the worked examples of
docs/semantics.md, with lifecycle steps in the store standing for the dates the files
carry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from creditindex.evaluate import compute
from creditindex.records import RECORD_SCHEMA
from creditindex.store.importer import import_lists, import_records
from creditindex.store.lifecycle import (
    add_restriction,
    decide_objection,
    file_objection,
    grant_repair,
)
from creditindex.store.load import load_data
from creditindex.store.rulesets import publish_rules
from creditindex.store.snapshots import evaluate, stored_snapshot
from tests.store.storetest import (
    DAYS,
    TODAY,
    E,
    F,
    G,
    H,
    L,
    R,
    S,
    V,
    X,
    assert_same_answers,
    file_data,
    index_of,
    restricted,
    write_examples,
)

SRC = "广州市住建局"
MANUAL = pl.DataFrame({"subject_id": [F], "start": [dt.date(2026, 7, 1)],
                       "until": [dt.date(2026, 7, 31)], "reason": ["manual test"],
                       "document_no": ["M-1"]})


def fill_store(store_url: str, tmp_path: Path) -> dict[str, Path]:
    """The worked examples in the store at ``store_url``, with lifecycle steps standing for
    the dates the files carry; the files written (also used by test_subject_reads)."""
    files = write_examples(tmp_path / "data")
    publish_rules(store_url, files["rules"], "rita", effective_from=dt.date(2020, 1, 1))
    import_records(store_url, [files["records"]], subjects_path=files["subjects"],
                   user="alice", today=TODAY)
    import_lists(store_url, [files["lists"]], user="alice")
    grant_repair(store_url, SRC, "R1", user="alice", on=dt.date(2026, 2, 1))
    file_objection(store_url, SRC, "R2", user="pat", reason="not our bid",
                   on=dt.date(2026, 3, 20))
    decide_objection(store_url, SRC, "R2", user="alice", upheld=True, on=dt.date(2026, 4, 1))
    add_restriction(store_url, F, user="alice", start=dt.date(2026, 7, 1),
                    until=dt.date(2026, 7, 31), reason="manual test", document_no="M-1")
    return files


def _key_sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(list(RECORD_SCHEMA)).sort("source", "record_id")


def test_compute_from_store_equals_compute_from_files(store_url: str, tmp_path: Path) -> None:
    files = fill_store(store_url, tmp_path)
    stored = load_data(store_url)
    from_files = file_data(files, manual=MANUAL)
    assert_frame_equal(_key_sorted(stored.records), _key_sorted(from_files.records))
    assert stored.rules.content_hash == from_files.rules.content_hash
    assert_same_answers(from_files, stored)


def test_worked_examples_from_the_store(store_url: str, tmp_path: Path) -> None:
    fill_store(store_url, tmp_path)
    data = load_data(store_url)

    def on(day: str, known: str | None = None) -> pl.DataFrame:
        return compute(data, dt.date.fromisoformat(day),
                       None if known is None else dt.date.fromisoformat(known))

    assert [index_of(on(d), E) for d in ("2026-01-10", "2026-03-01", "2026-07-09")] == [
        90, 70, 80]
    assert restricted(on("2026-08-27"), E) and not restricted(on("2026-08-28"), E)
    assert index_of(on("2026-06-01"), F) == 40 and restricted(on("2026-06-01"), F)
    assert index_of(on("2027-01-01"), F) == 60
    assert restricted(on("2027-06-01"), G) and not restricted(on("2029-01-31"), G)
    assert index_of(on("2026-02-10", "2026-02-10"), H) == 100
    assert index_of(on("2026-02-10", "2026-02-20"), H) == 80
    assert index_of(on("2026-03-26"), L) == 85  # linear: 25 of 100 days -> 15 deducted
    assert restricted(on("2026-07-15"), F)  # manual restriction
    assert restricted(on("2026-06-01"), X) and not restricted(on("2027-01-01"), X)  # list
    assert restricted(on("2030-01-01"), H) and not restricted(on("2026-04-30"), H)  # by name
    assert index_of(on("2026-06-01"), S) == 100  # registered, no records
    # revoked by its source on 2026-01-15: counted as known before, never as known after
    assert index_of(on("2026-01-10"), V) == 80
    assert index_of(on("2026-01-10", "2026-01-15"), V) == 100
    # R2 revoked on 2026-04-01: known before, it still restricts R
    assert restricted(on("2026-03-31"), R)
    assert not restricted(on("2026-04-01"), R)
    assert restricted(on("2026-04-01", "2026-03-31"), R)


def test_stored_snapshots_equal_compute(store_url: str, tmp_path: Path) -> None:
    files = fill_store(store_url, tmp_path)
    from_files = file_data(files, manual=MANUAL)
    first = evaluate(store_url, dt.date(2026, 3, 28), user="alice")
    assert [r.day for r in first] == [dt.date(2026, 3, 28)]
    caught = evaluate(store_url, dt.date(2026, 4, 2), user="alice")
    assert [r.day for r in caught] == [dt.date(2026, 3, 29) + dt.timedelta(days=i)
                                      for i in range(5)]
    for day in (dt.date(2026, 3, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 1)):
        assert_frame_equal(stored_snapshot(store_url, day), compute(from_files, day, day),
                           check_dtypes=True)
    assert DAYS  # the grid used by the other tests
