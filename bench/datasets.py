"""Benchmark inputs, generated once per size with the project's generator and cached.

For ``n`` records: ``n / 2`` subjects (most of them clean), the records, the next day's
batch (1,000 new records and 50 corrections: revocations and repairs of earlier records),
10,000 subject ids to check (offenders, clean subjects and unknown ids) and 100,000
external list entries (by id and by name, of known and unknown subjects).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from creditindex import engine
from creditindex.days import to_date, to_day
from creditindex.generate import generate_records, generate_subjects
from creditindex.lists import LIST_SCHEMA
from creditindex.rules import RuleSet

SEED = 20261125
NEW_RECORDS = 1_000
REVOCATIONS = 20
REPAIRS = 30
ASKED = 10_000
LIST_ENTRIES = 100_000
DEFAULT_DIR = Path(tempfile.gettempdir()) / "creditindex-bench"


def parse_size(label: str) -> int:
    """``100k`` -> 100000, ``1m`` -> 1000000, ``2500`` -> 2500."""
    text = label.strip().lower().replace("_", "")
    for suffix, factor in (("k", 1_000), ("m", 1_000_000)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def size_label(n: int) -> str:
    """1000000 -> ``1M``."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


@dataclass(frozen=True)
class Dataset:
    """Where one size's inputs are, and what they are."""

    n: int
    folder: Path
    meta: dict[str, object]

    def path(self, name: str) -> Path:
        """The parquet file ``name``."""
        return self.folder / f"{name}.parquet"

    @property
    def known_on(self) -> int:
        """Yesterday: the last day records reached the system."""
        return int(str(self.meta["known_on"]))

    @property
    def today(self) -> int:
        """The day of the daily update."""
        return self.known_on + 1


def _fingerprint(rules: RuleSet) -> str:
    generator = Path(__file__).resolve().parent.parent / "creditindex" / "generate.py"
    text = generator.read_bytes() + rules.content_hash.encode()
    return hashlib.sha256(text).hexdigest()[:12]


def prepare(n: int, rules: RuleSet, base: Path = DEFAULT_DIR, log: bool = True) -> Dataset:
    """The inputs for ``n`` records, generated unless already cached."""
    folder = base / f"{n}-{SEED}-{_fingerprint(rules)}"
    meta_file = folder / "meta.json"
    if meta_file.exists():
        return Dataset(n, folder, json.loads(meta_file.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subjects = generate_subjects(max(n // 2, 1), seed=SEED)
    records = generate_records(subjects, n, rules, seed=SEED)
    generated = time.perf_counter() - started
    known_on = to_day(records.get_column("recorded_on").max())  # type: ignore[arg-type]
    records.write_parquet(folder / "records.parquet")
    subjects.write_parquet(folder / "subjects.parquet")
    _batch(records, subjects, rules, known_on + 1).write_parquet(folder / "batch.parquet")
    _asked(records, subjects).write_parquet(folder / "asked.parquet")
    _lists(subjects, known_on).write_parquet(folder / "lists.parquet")
    meta = {
        "records": records.height, "subjects": subjects.height,
        "subjects_with_records": records.select(engine.SUBJECT_KEY).unique().height,
        "known_on": known_on, "known_on_date": str(to_date(known_on)),
        "generate_seconds": round(generated, 2), "seed": SEED,
    }
    meta_file.write_text(json.dumps(meta, indent=1))
    if log:
        print(f"generated {size_label(n)} records in {generated:.1f} s -> {folder}",
              flush=True)
    return Dataset(n, folder, meta)


def _batch(records: pl.DataFrame, subjects: pl.DataFrame, rules: RuleSet, today: int
           ) -> pl.DataFrame:
    """The next day's arrivals: new records decided up to 30 days before, recorded today,
    and corrections (same source and record_id) revoking or repairing earlier records."""
    day = pl.lit(today).cast(pl.Date)
    fresh = generate_records(subjects, NEW_RECORDS, rules, seed=SEED + 1).with_columns(
        pl.concat_str(pl.lit(f"D{today}-"), pl.col("record_id")).alias("record_id"),
        (day - pl.duration(days=pl.int_range(pl.len()) % 31)).alias("decided_on"),
        day.alias("recorded_on"),
        pl.lit(None, pl.Date).alias("revoked_on"),
        pl.lit(None, pl.Date).alias("repaired_on"),
    )
    open_ = records.filter(pl.col("revoked_on").is_null() & pl.col("repaired_on").is_null())
    picked = open_.sample(REVOCATIONS + REPAIRS, seed=SEED)
    revoke = picked.head(REVOCATIONS).with_columns(day.alias("revoked_on"))
    repair = picked.tail(REPAIRS).with_columns(day.alias("repaired_on"))
    return pl.concat([fresh, revoke, repair]).select(records.columns)


def _asked(records: pl.DataFrame, subjects: pl.DataFrame) -> pl.DataFrame:
    """10,000 subject ids to check: 60% with records, 30% any subject, 10% unknown."""
    offenders = records.get_column("subject_id").unique().sort()
    rng = np.random.default_rng(SEED)
    a = offenders.gather(rng.choice(offenders.len(), min(6_000, offenders.len()),
                                    replace=False))
    b = subjects.get_column("subject_id").gather(
        rng.choice(subjects.height, min(3_000, subjects.height), replace=False))
    unknown = pl.Series([f"91440000UNKNOWN{i:03d}" for i in range(ASKED - a.len() - b.len())])
    return pl.DataFrame({"subject_id": pl.concat([a, b, unknown])})


def _lists(subjects: pl.DataFrame, known_on: int) -> pl.DataFrame:
    """100,000 external list entries: 20% name a known subject by id, 10% by name; the
    rest name subjects the data does not have."""
    rng = np.random.default_rng(SEED + 2)
    n = LIST_ENTRIES
    by_id = min(n // 5, subjects.height)
    by_name = min(n // 10, subjects.height)
    ids = subjects.get_column("subject_id").gather(
        rng.choice(subjects.height, by_id, replace=False)).to_list()
    names = subjects.get_column("subject_name").gather(
        rng.choice(subjects.height, by_name, replace=False)).to_list()
    others = n - by_id - by_name
    foreign = others // 2
    subject_id = ids + [None] * by_name + [f"91440000LISTED{i:04d}"[:18]
                                            for i in range(others - foreign)] + [None] * foreign
    name = [None] * by_id + names + [None] * (others - foreign) + [
        f"Overseas Trading {i} Co., Ltd." for i in range(foreign)]
    listed = known_on - rng.integers(0, 1800, n)
    until = listed + rng.integers(365, 1826, n)
    lists = ["court-defaulters", "tax-violators", "procurement-violators", "world-bank"]
    return pl.DataFrame({
        "list": [lists[i % 4] for i in range(n)],
        "entry_id": [f"L{i:06d}" for i in range(n)],
        "subject_id": subject_id,
        "name": name,
        "country": [None] * (n - foreign) + ["us"] * foreign,
        "listed_on": pl.Series(listed).cast(pl.Int32).cast(pl.Date),
        "until": pl.Series(np.where(np.arange(n) % 3 == 0, -1, until)).cast(pl.Int32)
        .cast(pl.Date),
        "grounds": ["listed"] * n,
        "scope": [None] * n,
        "financier": [None] * n,
        "source_row": np.arange(n) + 2,
    }).with_columns(
        pl.when(pl.col("until") > pl.col("listed_on")).then(pl.col("until")).alias("until")
    ).select(list(LIST_SCHEMA)).cast(LIST_SCHEMA)  # type: ignore[arg-type]
