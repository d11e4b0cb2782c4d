"""The state folder of incremental Spark runs: per-shard answers and a manifest.

Layout (nothing is ever deleted; every run adds)::

    STATE/manifest.json              the latest run's manifest
    STATE/manifests/RUN.json         every run's manifest
    STATE/answers/RUN/_shard=K/...   the shards a run computed (answers without ranks)

A manifest records the question (rule-set hash, list entries' hash, extra options,
shard count, output columns, the engine's source hash; the day only when a known-on day
is asked, since then answers are of that day alone) and, per shard, the fingerprint of
its input rows, the run whose answer for it is kept, the day that answer is of and the
last day it stands while the shard's inputs do not change (``valid_until``: the day
before the first change point of any of its subjects, or that day itself when a
linear decay moves an index daily).

A later run of the same question on a day ``D`` (never before a shard's day):

- reuses a shard whose fingerprint is unchanged and ``D <= valid_until`` (nothing read);
- *refreshes* one whose fingerprint is unchanged but that reached a change point: its
  inputs and earlier state rows go to a worker, which computes only the subjects at a
  change point (:mod:`.shard_engine`);
- *recomputes* one whose inputs changed, again with its earlier state, so that only
  subjects whose inputs changed (or at a change point) are computed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 2
NO_END = "9999-12-31"
# Packages whose code does not change an answer (faces, the store, the command line).
_NOT_ENGINE = {"ui", "api", "cli", "store"}


def engine_hash() -> str:
    """A hash of the engine's source (every module of the package but the faces and the
    store, subpackages such as ``engine/`` included): answers kept by an earlier version
    of the engine are not reused."""
    import creditindex

    root = Path(creditindex.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        part = path.relative_to(root)
        if part.parts[0] in _NOT_ENGINE:
            continue
        digest.update(str(part).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def question_key(question: dict[str, Any]) -> str:
    """A stable hash of a question (its JSON with sorted keys)."""
    text = json.dumps(question, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ShardEntry:
    """One shard: its input fingerprint, the run that holds its answer, the day that
    answer is of and the last day it stands unless the inputs change (ISO dates)."""

    fingerprint: str
    run: str
    day: str = ""
    valid_until: str = ""


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
            "shards": {str(k): {"fingerprint": e.fingerprint, "run": e.run, "day": e.day,
                                "valid_until": e.valid_until}
                       for k, e in sorted(self.shards.items())},
        }, indent=1, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """A manifest back from :meth:`to_json`."""
        raw = json.loads(text)
        if raw.get("version") != VERSION:
            raise ValueError(f"manifest version {raw.get('version')} is not {VERSION}")
        return cls(run=raw["run"], question=raw["question"],
                   shards={int(k): ShardEntry(v["fingerprint"], v["run"], v["day"],
                                              v["valid_until"])
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


@dataclass(frozen=True)
class Plan:
    """What a run does per shard: ``keep`` (earlier answers that stand), ``refresh``
    (inputs unchanged, some subjects at a change point) and ``recompute`` (inputs
    changed, or no usable earlier answer); ``previous``: the earlier entries of the shards
    to run whose state rows go with them."""

    keep: dict[int, ShardEntry] = field(default_factory=dict)
    refresh: list[int] = field(default_factory=list)
    recompute: list[int] = field(default_factory=list)
    previous: dict[int, ShardEntry] = field(default_factory=dict)

    @property
    def todo(self) -> list[int]:
        """The shards a worker evaluates (refreshed and recomputed)."""
        return sorted(self.refresh + self.recompute)


def plan(previous: Manifest | None, question: dict[str, Any], fingerprints: dict[int, str],
         day: str) -> Plan:
    """Which shards to keep, refresh or recompute on ``day`` (ISO) given the latest
    manifest: only a manifest of the same question counts, and only its shards whose
    answer is of ``day`` or an earlier day."""
    result = Plan()
    same = previous is not None and previous.key == question_key(question)
    for shard in sorted(fingerprints):
        entry = previous.shards.get(shard) if same and previous is not None else None
        if entry is None or entry.day > day:
            result.recompute.append(shard)
        elif entry.fingerprint != fingerprints[shard]:
            result.recompute.append(shard)
            result.previous[shard] = entry
        elif day <= entry.valid_until:
            result.keep[shard] = entry
        else:
            result.refresh.append(shard)
            result.previous[shard] = entry
    return result
