"""Imports: idempotent, all or nothing, every problem listed, fill-ins as dated events,
conflicts refused, lists and subjects kept up to date with audited changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from creditindex.errors import InputError
from creditindex.store.audit import audit_trail
from creditindex.store.importer import count_rows, import_lists, import_records
from creditindex.store.lifecycle import record_events
from creditindex.store.load import load_data
from creditindex.store.rulesets import publish_rules
from tests.store.storetest import TODAY, E, F, R, example_rows, write_csv, write_examples

TABLES = ("penalty_record", "record_event", "import_batch", "subject", "list_entry",
          "audit_log")
SRC = "广州市住建局"


def counts(url: str) -> dict[str, int]:
    """Rows per table."""
    return {t: count_rows(url, t) for t in TABLES}


@pytest.fixture
def files(store_url: str, tmp_path: Path) -> dict[str, Path]:
    made = write_examples(tmp_path / "data")
    publish_rules(store_url, made["rules"], "rita", effective_from=dt.date(2020, 1, 1))
    return made


def test_importing_the_same_files_twice_adds_nothing(store_url: str,
                                                     files: dict[str, Path]) -> None:
    first = import_records(store_url, [files["records"]], subjects_path=files["subjects"],
                           user="alice", today=TODAY)
    assert first.import_id is not None
    assert (first.added, first.subjects_added, first.events) == (11, 3, 0)
    before = counts(store_url)
    again = import_records(store_url, [files["records"]], subjects_path=files["subjects"],
                           user="alice", today=TODAY)
    assert again.import_id is None and again.added == 0
    assert counts(store_url) == before
    # a file overlapping the store adds only what is new
    rows = [*example_rows()[:3],
            {**example_rows()[0], "record_id": "E9", "decided_on": "2026-09-01"}]
    more = import_records(store_url, [write_csv(files["records"].parent / "more.csv", rows)],
                          today=TODAY)
    assert (more.added, more.unchanged) == (1, 3)
    assert count_rows(store_url, "penalty_record") == 12


def test_a_file_with_any_bad_row_imports_nothing_and_lists_every_problem(
        store_url: str, files: dict[str, Path]) -> None:
    good = files["records"]
    rows = example_rows()
    rows[1] = {**rows[1], "subject_id": "91440106MA0000000X"}  # bad check character
    rows[3] = {**rows[3], "behaviour_code": "NO-SUCH"}
    rows[5] = {**rows[5], "decided_on": "2027-01-01"}  # after the import day
    rows[6] = {**rows[6], "subject_name": "名" * 300}  # longer than the store holds
    bad = write_csv(good.parent / "bad.csv", rows)
    before = counts(store_url)
    with pytest.raises(InputError) as caught:
        import_records(store_url, [good, bad], user="alice", today=TODAY)
    found = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert {(str(bad), 3, "subject_id"), (str(bad), 5, "behaviour_code"),
            (str(bad), 7, "decided_on")} <= found
    assert counts(store_url) == before  # not even the good file
    with pytest.raises(InputError) as long_name:
        import_records(store_url, [write_csv(good.parent / "long.csv", [rows[6]])],
                       today=TODAY)
    assert [(p.row, p.column) for p in long_name.value.problems] == [(2, "subject_name")]
    assert counts(store_url) == before


def test_a_later_copy_filling_in_dates_becomes_dated_events(store_url: str,
                                                           files: dict[str, Path]) -> None:
    import_records(store_url, [files["records"]], user="alice", today=TODAY)
    filled = import_records(store_url, [files["records_lifecycle"]], user="alice",
                            today=TODAY)
    assert (filled.added, filled.events) == (0, 2)
    records = load_data(store_url).records
    dates = {r["record_id"]: (r["revoked_on"], r["repaired_on"])
             for r in records.iter_rows(named=True)}
    assert dates["R1"] == (None, dt.date(2026, 2, 1))
    assert dates["R2"] == (dt.date(2026, 4, 1), None)
    events = record_events(store_url, SRC, "R2")
    assert events.select("kind", "effective_on", "origin", "by").rows() == [
        ("revoked", dt.date(2026, 4, 1), "import", "alice")]
    assert count_rows(store_url, "penalty_record") == 11  # the records never change
    again = import_records(store_url, [files["records_lifecycle"]], today=TODAY)
    assert again.import_id is None


def test_a_copy_that_differs_from_the_stored_record_is_a_conflict(
        store_url: str, files: dict[str, Path]) -> None:
    import_records(store_url, [files["records_lifecycle"]], user="alice", today=TODAY)
    before = counts(store_url)
    rows = example_rows(with_lifecycle=True)
    rows[0] = {**rows[0], "subject_name": "另一个名字"}
    rows[9] = {**rows[9], "revoked_on": "2026-05-01"}  # R2 was revoked on 2026-04-01
    changed = write_csv(files["records"].parent / "changed.csv", rows)
    with pytest.raises(InputError) as caught:
        import_records(store_url, [changed], user="alice", today=TODAY)
    problems = {(p.file, p.row, p.column): p.reason for p in caught.value.problems}
    assert set(problems) == {(str(changed), 2, "subject_name"),
                             (str(changed), 11, "revoked_on")}
    assert "另一个名字 != 专家甲" in problems[(str(changed), 2, "subject_name")]
    assert counts(store_url) == before


def test_lists_import_is_idempotent_and_audits_updates(store_url: str,
                                                      files: dict[str, Path]) -> None:
    first = import_lists(store_url, [files["lists"]], user="alice")
    assert (first.added, first.changed) == (2, 0)
    assert import_lists(store_url, [files["lists"]], user="alice").import_id is None
    updated = pl.read_csv(files["lists"]).with_columns(
        pl.when(pl.col("entry_id") == "C-1").then(pl.lit("2027-06-30"))
        .otherwise(pl.col("until")).alias("until"))
    path = files["lists"].parent / "court_v2.csv"
    updated.write_csv(path)
    second = import_lists(store_url, [path], user="alice")
    assert (second.added, second.changed) == (0, 1)
    lists = load_data(store_url).lists
    assert lists is not None
    assert lists.filter(pl.col("entry_id") == "C-1").get_column("until").to_list() == [
        dt.date(2027, 6, 30)]
    change = audit_trail(store_url, "list_entry", "court-defaulters/C-1")
    assert change.height == 1 and change.get_column("actor").to_list() == ["alice"]
    assert json.loads(change.get_column("before")[0])["until"] == "2026-12-31"
    assert json.loads(change.get_column("after")[0])["until"] == "2027-06-30"


def test_subjects_are_registered_and_changes_audited(store_url: str,
                                                    files: dict[str, Path]) -> None:
    import_records(store_url, [], subjects_path=files["subjects"], user="alice", today=TODAY)
    subjects = load_data(store_url).subjects
    assert subjects is not None and subjects.height == 3
    renamed = pl.read_csv(files["subjects"]).with_columns(
        pl.when(pl.col("subject_id") == F).then(pl.lit("广州甲建设集团有限公司"))
        .otherwise(pl.col("subject_name")).alias("subject_name"))
    path = files["subjects"].parent / "subjects_v2.csv"
    renamed.write_csv(path)
    result = import_records(store_url, [], subjects_path=path, user="alice", today=TODAY)
    assert (result.subjects_added, result.changed) == (0, 1)
    change = audit_trail(store_url, "subject", f"{F}/bidder")
    assert json.loads(change.get_column("after")[0])["subject_name"] == "广州甲建设集团有限公司"
    dup = path.parent / "dup.csv"
    pl.DataFrame({"subject_id": [E, E], "subject_type": ["expert", "expert"],
                  "subject_name": ["a", "b"]}).write_csv(dup)
    with pytest.raises(InputError) as caught:
        import_records(store_url, [], subjects_path=dup, today=TODAY)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "subject_id")]


def test_import_needs_a_staff_user_when_one_is_named(store_url: str,
                                                     files: dict[str, Path]) -> None:
    from creditindex.store.db import StoreError

    with pytest.raises(StoreError, match="pat"):
        import_records(store_url, [files["records"]], user="pat", today=TODAY)
    assert count_rows(store_url, "penalty_record") == 0
    assert R  # keep the shared names imported


def test_the_store_columns_follow_the_one_declaration_of_text_lengths() -> None:
    from creditindex.store.db import table
    from creditindex.text_limits import LIST_TEXT, RECORD_TEXT, SUBJECT_TEXT

    for name, limits, renamed in (("penalty_record", RECORD_TEXT, {}),
                                  ("subject", SUBJECT_TEXT, {}),
                                  ("list_entry", LIST_TEXT, {"list": "list_name"})):
        columns = table(name).c
        assert {c: columns[renamed.get(c, c)].type.length for c in limits} == limits


@pytest.mark.parametrize("column", ["document_no", "authority", "source"])
def test_a_value_longer_than_its_declared_length_is_refused_before_the_store(
        store_url: str, files: dict[str, Path], column: str) -> None:
    from creditindex.text_limits import RECORD_TEXT

    row = {**example_rows()[0], column: "文" * (RECORD_TEXT[column] + 1)}
    before = counts(store_url)
    with pytest.raises(InputError) as caught:
        import_records(store_url, [write_csv(files["records"].parent / "long.csv", [row])],
                       today=TODAY)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, column)]
    assert f"at most {RECORD_TEXT[column]}" in caught.value.problems[0].reason
    assert counts(store_url) == before
