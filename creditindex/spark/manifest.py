"""The state folder of incremental Spark runs: per-shard answers and a manifest.

Layout (nothing is ever deleted; every run adds)::

    STATE/manifest.json              the latest run's manifest
    STATE/manifests/RUN.json         every run's manifest
    STATE/answers/RUN/_shard=K/...   the shards a run computed (answers without ranks)

A manifest records the question (day, known-on day, rule-set hash, list entries' hash,
extra options, shard count, output columns, the engine's source hash) and, per shard,
the fingerprint of its input rows and the run whose answer for it is kept. A later run
with the same question reuses every shard whose fingerprint is unchanged and recomputes
the others.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1


def engine_hash() -> str:
    """A hash of the engine's source (the package's top-level modules): answers kept by
    an earlier version of the engine are not reused."""
    import creditindex

    digest = hashlib.sha256()
    for path in sorted(Path(creditindex.__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def question_key(question: dict[str, Any]) -> str:
    """A stable hash of a question (its JSON with sorted keys)."""
    text = json.dumps(question, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ShardEntry:
    """One shard: its input fingerprint and the run that holds its answer."""

    fingerprint: str
    run: str


@dataclass(frozen=True)
class Manifest:
    """What a run answered (``question``) and where each shard's answer is."""

    run: str
    question: dict[str, Any]
    shards: dict[int, ShardEntry] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The question's hash."""
        return question_key(self.question)

    def to_json(self) -> str:
        """The manifest as JSON text."""
        return json.dumps({
            "version": VERSION, "run": self.run, "question": self.question,
            "question_key": self.key,
            "shards": {str(k): {"fingerprint": e.fingerprint, "run": e.run}
                       for k, e in sorted(self.shards.items())},
        }, indent=1, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """A manifest back from :meth:`to_json`."""
        raw = json.loads(text)
        if raw.get("version") != VERSION:
            raise ValueError(f"manifest version {raw.get('version')} is not {VERSION}")
        return cls(run=raw["run"], question=raw["question"],
                   shards={int(k): ShardEntry(v["fingerprint"], v["run"])
                           for k, v in raw["shards"].items()})


def answers_dir(state: str | Path, run: str) -> Path:
    """Where run ``run`` writes the shards it computed."""
    return Path(state) / "answers" / run


def load_manifest(state: str | Path) -> Manifest | None:
    """The latest manifest in ``state`` (None before the first run)."""
    path = Path(state) / "manifest.json"
    if not path.exists():
        return None
    return Manifest.from_json(path.read_text(encoding="utf-8"))


def save_manifest(state: str | Path, manifest: Manifest) -> None:
    """Keep ``manifest`` in the history and make it the latest (atomically)."""
    root = Path(state)
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    text = manifest.to_json()
    (root / "manifests" / f"{manifest.run}.json").write_text(text, encoding="utf-8")
    tmp = root / f".manifest.{manifest.run}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, root / "manifest.json")


def plan(previous: Manifest | None, question: dict[str, Any],
         fingerprints: dict[int, str]) -> tuple[list[int], dict[int, ShardEntry]]:
    """Which shards to compute, and which earlier answers to keep: a shard is kept when
    the question is the same and its fingerprint unchanged."""
    if previous is None or previous.key != question_key(question):
        return sorted(fingerprints), {}
    keep = {k: e for k, e in previous.shards.items() if fingerprints.get(k) == e.fingerprint}
    return sorted(k for k in fingerprints if k not in keep), keep
