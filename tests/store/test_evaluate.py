"""The daily evaluation job: re-running is harmless, missed days are caught up, a day
re-evaluated on new data keeps the earlier answer as a revision, snapshots name their
rule set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from creditindex.evaluate import compute
from creditindex.store.audit import audit_trail
from creditindex.store.db import StoreError
from creditindex.store.importer import count_rows, import_lists, import_records
from creditindex.store.rulesets import list_versions, publish_rules
from creditindex.store.snapshots import days_to_evaluate, evaluate, list_runs, stored_snapshot
from creditindex.store.users import add_user
from tests.store.storetest import (
    TODAY,
    G,
    example_rows,
    file_data,
    index_of,
    write_csv,
    write_examples,
)

D = dt.date.fromisoformat


@pytest.fixture
def files(store_url: str, tmp_path: Path) -> dict[str, Path]:
    made = write_examples(tmp_path / "data")
    publish_rules(store_url, made["rules"], "rita", effective_from=D("2020-01-01"))
    import_records(store_url, [made["records_lifecycle"]], subjects_path=made["subjects"],
                   user="alice", today=TODAY)
    import_lists(store_url, [made["lists"]], user="alice")
    return made


def test_re_running_is_harmless_and_missed_days_are_caught_up(
        store_url: str, files: dict[str, Path]) -> None:
    first = evaluate(store_url, D("2026-06-01"), user="alice")
    assert [(r.day, r.status, r.revision) for r in first] == [(D("2026-06-01"), "stored", 1)]
    rows = count_rows(store_url, "snapshot_row")
    again = evaluate(store_url, D("2026-06-01"), user="alice")
    assert [r.status for r in again] == ["current"]
    assert count_rows(store_url, "snapshot_row") == rows
    assert count_rows(store_url, "evaluation_run") == 1
    caught = evaluate(store_url, D("2026-06-05"))
    assert [(r.day, r.status) for r in caught] == [
        (D("2026-06-02") + dt.timedelta(days=i), "stored") for i in range(4)]
    expected = file_data(files)
    for day in (D("2026-06-01"), D("2026-06-03"), D("2026-06-05")):
        assert_frame_equal(stored_snapshot(store_url, day), compute(expected, day, day))
    assert list_runs(store_url).height == 5
    assert evaluate(store_url, D("2026-06-05"), catch_up=True)[0].status == "current"


def test_a_day_re_evaluated_on_new_data_is_a_new_revision(store_url: str,
                                                         files: dict[str, Path]) -> None:
    evaluate(store_url, D("2026-06-01"), user="alice")
    published = stored_snapshot(store_url, D("2026-06-01"))
    add_user(store_url, "bob", "staff", "yet another password")  # not a data change
    assert evaluate(store_url, D("2026-06-01"))[0].status == "current"
    after = {**example_rows()[5], "record_id": "G-after", "decided_on": "2026-06-03",
             "recorded_on": "2026-06-03", "behaviour_code": "BID-FRAUD"}
    import_records(store_url, [write_csv(files["records"].parent / "after.csv", [after])],
                   today=TODAY)  # new data, unknown on 2026-06-01: the same answer
    assert evaluate(store_url, D("2026-06-01"))[0].status == "unchanged"
    late = {**example_rows()[5], "record_id": "G-late", "decided_on": "2026-05-20",
            "recorded_on": "2026-06-01", "behaviour_code": "BID-FRAUD"}
    import_records(store_url, [write_csv(files["records"].parent / "late.csv", [late])],
                   today=TODAY)
    redone = evaluate(store_url, D("2026-06-01"))
    assert [(r.status, r.revision) for r in redone] == [("stored", 2)]
    assert index_of(stored_snapshot(store_url, D("2026-06-01")), G) == 50
    assert_frame_equal(stored_snapshot(store_url, D("2026-06-01"), revision=1), published)
    assert index_of(published, G) == 70


def test_snapshots_name_the_rule_set_in_force_that_day(store_url: str,
                                                       files: dict[str, Path]) -> None:
    stricter = files["rules"].read_text(encoding="utf-8").replace(
        'version = "1"', 'version = "2"').replace("points = 30", "points = 35")
    path = files["rules"].parent / "rules_v2.toml"
    path.write_text(stricter, encoding="utf-8")
    v2 = publish_rules(store_url, path, "rita", effective_from=D("2026-06-02"))
    with pytest.raises(StoreError, match="regulator"):
        publish_rules(store_url, path, "alice", effective_from=D("2026-06-02"))
    assert not publish_rules(store_url, path, "rita").new  # immutable: same text, same one
    results = {r.day: r for r in evaluate(store_url, D("2026-06-01"))
               + evaluate(store_url, D("2026-06-02"))}
    assert results[D("2026-06-02")].rules_hash == v2.content_hash
    assert results[D("2026-06-01")].rules_hash != v2.content_hash
    assert index_of(stored_snapshot(store_url, D("2026-06-02")), G) == 65
    assert index_of(stored_snapshot(store_url, D("2026-06-01")), G) == 70
    versions = list_versions(store_url, today=D("2026-06-02"))
    assert versions.get_column("in_force").to_list() == [False, True]


def test_a_store_without_rules_gets_the_default_published(empty_url: str) -> None:
    result = evaluate(empty_url, D("2026-06-01"))
    assert [r.status for r in result] == ["stored"] and result[0].n_subjects == 0
    assert list_versions(empty_url).get_column("name").to_list() == ["default"]
    assert audit_trail(empty_url).get_column("action").to_list() == ["rules.publish",
                                                                      "evaluate"]
    with pytest.raises(StoreError, match="not been evaluated"):
        stored_snapshot(empty_url, D("2026-05-01"))


def test_days_to_evaluate() -> None:
    assert days_to_evaluate(None, D("2026-06-01")) == [D("2026-06-01")]
    assert days_to_evaluate(D("2026-06-03"), D("2026-06-01")) == [D("2026-06-01")]
    assert days_to_evaluate(D("2026-05-30"), D("2026-06-01")) == [D("2026-05-31"),
                                                                 D("2026-06-01")]
    assert len(days_to_evaluate(D("2020-01-01"), D("2026-06-01"), max_days=10)) == 10
