"""Build (once) the 1M-record stores the whole-process store benchmark reads.

    .venv/bin/python bench/store_build.py --dir var/bench-1m [--pg postgresql://...]

Writes ``records.csv`` and ``subjects.csv`` (the generator's, seed fixed) and imports
them into ``DIR/bench.sqlite`` and, with ``--pg``, into the PostgreSQL database at that
URL. A store that already holds the records is left as it is (the build takes minutes
on a shared machine; do it once).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from creditindex.generate import generate_records, generate_subjects
from creditindex.rules import load_rules
from creditindex.store.db import dispose_engines
from creditindex.store.importer import count_rows, import_records
from creditindex.store.migrations import upgrade

IMPORT_DAY = dt.date(2026, 11, 26)


def build(folder: Path, records: int, subjects: int, seed: int, pg: str | None,
          end: dt.date | None = None) -> None:
    """Generate the files (unless present) and import them into every store asked;
    ``end``: the last day of the records (default: the generator's)."""
    folder.mkdir(parents=True, exist_ok=True)
    csv, subjects_csv = folder / "records.csv", folder / "subjects.csv"
    if not csv.exists():
        started = time.perf_counter()
        people = generate_subjects(subjects, seed)
        frame = generate_records(people, records, load_rules(), seed,
                                 **({"end": end} if end else {}))
        frame.write_csv(csv, date_format="%Y-%m-%d", null_value="")
        people.write_csv(subjects_csv)
        print(f"generated {frame.height:,} records in {time.perf_counter() - started:.1f} s")
    urls = [f"sqlite:///{folder.resolve() / 'bench.sqlite'}"] + ([pg] if pg else [])
    for url in urls:
        upgrade(url)
        if count_rows(url, "penalty_record") >= records:
            print(f"{url}: already built")
            continue
        started = time.perf_counter()
        result = import_records(url, [csv], today=max(IMPORT_DAY, end or IMPORT_DAY),
                                progress=False)
        print(f"{url}: {result.added:,} records imported in "
              f"{time.perf_counter() - started:.1f} s")
    dispose_engines()


def main() -> None:
    """Parse the arguments and build."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("var/bench-1m"))
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--pg", help="Also build a PostgreSQL store at this URL.")
    parser.add_argument("--end", type=dt.date.fromisoformat,
                        help="The last day of the records (e.g. 40 days ago, so that 32 "
                             "days can be evaluated after them by today).")
    args = parser.parse_args()
    build(args.dir, args.records, args.subjects, args.seed, args.pg, args.end)


if __name__ == "__main__":
    main()
