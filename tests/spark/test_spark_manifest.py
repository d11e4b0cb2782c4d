"""The state folder's plan: which shards a run keeps, refreshes or recomputes."""

from __future__ import annotations

from pathlib import Path

from creditindex.spark.manifest import (
    Manifest,
    Plan,
    ShardEntry,
    load_manifest,
    plan,
    save_manifest,
)

QUESTION = {"rules": "abc", "shards": 3}
DAY = "2026-06-01"


def _entry(fingerprint: str, run: str, until: str = "2026-06-10") -> ShardEntry:
    return ShardEntry(fingerprint, run, DAY, until)


def test_first_run_computes_every_shard() -> None:
    assert plan(None, QUESTION, {0: "a", 1: "b", 2: "c"}, DAY) == Plan(recompute=[0, 1, 2])


def test_same_day_keeps_unchanged_shards_and_recomputes_the_others(tmp_path: Path) -> None:
    before = Manifest(run="r1", question=QUESTION,
                      shards={0: _entry("a", "r1"), 1: _entry("b", "r0")})
    save_manifest(tmp_path, before)
    loaded = load_manifest(tmp_path)
    assert loaded == before
    todo = plan(loaded, QUESTION, {0: "a", 1: "B", 2: "c"}, DAY)
    assert todo.keep == {0: _entry("a", "r1")}
    assert todo.recompute == [1, 2] and todo.refresh == []
    assert todo.previous == {1: _entry("b", "r0")}  # its earlier state goes along
    assert (tmp_path / "manifests" / "r1.json").exists()


def test_a_later_day_keeps_only_answers_that_still_stand() -> None:
    before = Manifest(run="r1", question=QUESTION, shards={
        0: _entry("a", "r1", until="2026-06-30"), 1: _entry("b", "r1", until="2026-06-05"),
        2: _entry("c", "r1", until="2026-06-30")})
    todo = plan(before, QUESTION, {0: "a", 1: "b", 2: "C"}, "2026-06-07")
    assert list(todo.keep) == [0]  # no change point up to the day
    assert todo.refresh == [1]  # a change point passed: its subjects there recomputed
    assert todo.recompute == [2]  # new records
    assert sorted(todo.previous) == [1, 2] and todo.todo == [1, 2]


def test_an_earlier_day_or_another_question_recomputes_from_nothing() -> None:
    before = Manifest(run="r1", question=QUESTION, shards={0: _entry("a", "r1")})
    assert plan(before, QUESTION, {0: "a"}, "2026-05-31") == Plan(recompute=[0])
    other = {**QUESTION, "rules": "def"}
    assert plan(before, other, {0: "a"}, DAY) == Plan(recompute=[0])
