"""The state folder's plan: which shards a rerun recomputes."""

from __future__ import annotations

from pathlib import Path

from creditindex.spark.manifest import Manifest, ShardEntry, load_manifest, plan, save_manifest

QUESTION = {"on": "2026-06-01", "rules": "abc", "shards": 3}


def test_first_run_computes_every_shard() -> None:
    assert plan(None, QUESTION, {0: "a", 1: "b", 2: "c"}) == ([0, 1, 2], {})


def test_same_question_recomputes_changed_and_new_shards(tmp_path: Path) -> None:
    before = Manifest(run="r1", question=QUESTION,
                      shards={0: ShardEntry("a", "r1"), 1: ShardEntry("b", "r0")})
    save_manifest(tmp_path, before)
    loaded = load_manifest(tmp_path)
    assert loaded == before
    todo, keep = plan(loaded, QUESTION, {0: "a", 1: "B", 2: "c"})
    assert todo == [1, 2]
    assert keep == {0: ShardEntry("a", "r1")}
    assert (tmp_path / "manifests" / "r1.json").exists()


def test_another_question_recomputes_everything() -> None:
    before = Manifest(run="r1", question=QUESTION, shards={0: ShardEntry("a", "r1")})
    other = {**QUESTION, "on": "2026-06-02"}
    assert plan(before, other, {0: "a"}) == ([0], {})
