"""A small mutation run: one-line changes a developer could plausibly make to the engine,
the restrictions, the readers, records, dates and identifiers; each must make the tests
that guard it fail ("killed"). Not part of CI (it runs the tests once per mutation).

    .venv/bin/python scripts/mutation.py            # all mutations, kill rate at the end
    .venv/bin/python scripts/mutation.py 3 8        # only mutations 3 and 8

The mutations are applied to a copy of the working tree in a temporary folder, never to
the checkout itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_SERVERS = "not sqlite and not postgresql and not mariadb"

IDS = ["tests/test_records.py", "tests/adversarial/test_bad_input.py",
       "tests/adversarial/test_outputs.py"]
DATES = ["tests/adversarial/test_dates.py", "tests/test_records.py", "tests/test_lists.py"]
ENGINE = ["tests/adversarial/test_engine_edges.py", "tests/test_restrict.py",
          "tests/test_eligibility_index.py", "tests/test_worked_examples.py"]
RECORDS = ["tests/test_records.py", "tests/adversarial/test_bad_input.py"]
OUTPUTS = ["tests/adversarial/test_outputs.py", "tests/test_evidence.py"]


@dataclass(frozen=True)
class Mutation:
    """Replace ``before`` (found exactly once in ``path``) by ``after``."""

    path: str
    before: str
    after: str
    tests: list[str]
    what: str


MUTATIONS = [
    Mutation("creditindex/identifiers.py", "        .when(birth.is_null())\n",
             "        .when(birth.is_null() & pl.lit(False))\n", IDS,
             "resident ID: no birth-date check (vectorised)"),
    Mutation("creditindex/identifiers.py",
             "dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))", "dt.date(2000, 1, 1)",
             IDS, "resident ID: no birth-date check (scalar)"),
    Mutation("creditindex/identifiers.py", "USCC_ALPHABET[(31 - total % 31) % 31]",
             "USCC_ALPHABET[(30 - total % 31) % 31]", IDS, "USCC: wrong check character"),
    Mutation("creditindex/identifiers.py", "return RID_CHECK[total % 11]",
             "return RID_CHECK[total % 10]", IDS, "resident ID: wrong check modulus"),
    Mutation("creditindex/identifiers.py", "return number[:6] + MASK + number[14:]",
             "return number[:8] + MASK[2:] + number[14:]", OUTPUTS,
             "masking shows the birth year"),
    Mutation("creditindex/dates.py",
             '    return iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False)',
             '    return pl.coalesce(iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False), '
             'iso.str.strptime(pl.Date, "%Y-%d-%m", strict=False))', DATES,
             "dates: also read YYYY-DD-MM"),
    Mutation("creditindex/dates.py", r'r"|(\d{4})(\d{2})(\d{2})"',
             r'r"|(\d{4})(\d{1,2})(\d{1,2})"', DATES, "dates: YYYYMMDD reads 5-7 digits"),
    Mutation("creditindex/dates.py", "(parsed >= lo) & (parsed <= hi)", "(parsed <= hi)",
             DATES, "dates: no lower bound"),
    Mutation("creditindex/engine.py", 'day_key - rule.window_days, side="right"',
             'day_key - rule.window_days - 1, side="right"', ENGINE,
             "fast core: expert-suspension window one day longer"),
    Mutation("creditindex/engine.py", "(day_max >= rule.single_points - _EPS)",
             "(day_max > rule.single_points + _EPS)", ENGINE,
             "fast core: single-points threshold exclusive"),
    Mutation("creditindex/restrict.py",
             'first = np.searchsorted(key, key - rule.window_days, side="right")',
             'first = np.searchsorted(key, key - rule.window_days, side="left")', ENGINE,
             "frame path: expert-suspension window one day longer"),
    Mutation("creditindex/restrict.py", "        if keep.size == 0:", "        if False:",
             ENGINE, "grade runs: no guard for a chunk without restricted grades"),
    Mutation("creditindex/records.py", "dec > pl.lit(today)",
             "dec > pl.lit(today) + pl.duration(days=1)",
             RECORDS, "records: decided_on one day after the import day accepted"),
    Mutation("creditindex/records.py", 'pl.col(f"_{c}") < dec', 'pl.col(f"_{c}") < dec - 1',
             RECORDS, "records: recorded/revoked/repaired a day before decided_on accepted"),
    Mutation("creditindex/records.py", 'pl.coalesce("_recorded_on", "_decided_on")',
             'pl.coalesce("_decided_on", "_recorded_on")', RECORDS,
             "records: recorded_on ignored"),
    Mutation("creditindex/records.py", r'str.contains(r"^\d{6}$")',
             r'str.contains(r"^\d{4,6}$")', RECORDS, "records: 4-digit region accepted"),
    Mutation("creditindex/records.py", "ind.is_not_null() & ~ind.is_in(INDUSTRIES)",
             "ind.is_null() & ~ind.is_in(INDUSTRIES)", RECORDS,
             "records: unknown industry accepted"),
    Mutation("creditindex/readers.py", "if cols > limits.max_columns:",
             "if cols > limits.max_columns * 100:", [*RECORDS, "tests/adversarial/test_fuzz.py"],
             "readers: sheet column limit 100x looser"),
    Mutation("creditindex/readers.py", 'if b"\\x00" in data:', 'if b"\\x00\\x00\\x00" in data:',
             RECORDS, "readers: binary files read as text"),
    Mutation("creditindex/output.py", r'str.contains(r"^[ ]*[=+\-@\t\r]")',
             r'str.contains(r"^[=+\-@]")', OUTPUTS,
             "outputs: formulas after spaces, tab, CR not neutralised"),
    Mutation("creditindex/evidence.py", '.replace("<", "\\\\u003c")', "", OUTPUTS,
             "evidence: '<' not escaped in embedded JSON"),
    Mutation("creditindex/evaluate.py", 'engine.round_half_away(pl.col("points")))',
             'pl.col("points").round(2))', ENGINE, "reasons: round half to even"),
]


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for name in files:
        src = ROOT / name
        if src.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def _run(copy: Path, m: Mutation) -> tuple[str, float]:
    path = copy / m.path
    original = path.read_text(encoding="utf-8")
    if original.count(m.before) != 1:
        return "stale (the line to mutate is not found exactly once)", 0.0
    path.write_text(original.replace(m.before, m.after), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy), "CREDITINDEX_FUZZ_EXAMPLES": "15"}
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "-q",
             "-k", NO_SERVERS, *m.tests], cwd=copy, env=env, capture_output=True,
            text=True, timeout=1800, check=False)
    finally:
        path.write_text(original, encoding="utf-8")
    took = time.monotonic() - started
    return ("killed" if proc.returncode != 0 else "SURVIVED"), took


def main(selected: list[int]) -> int:
    """Run the mutations (all, or the numbers given); print each outcome and the rate."""
    chosen = [(i, m) for i, m in enumerate(MUTATIONS, start=1) if not selected or i in selected]
    killed = 0
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        copy = Path(tmp)
        _copy_tree(copy)
        for i, m in chosen:
            outcome, took = _run(copy, m)
            killed += outcome == "killed"
            print(f"{i:2d}. {outcome:8s} {took:6.1f}s  {m.path}: {m.what}", flush=True)
    print(f"killed {killed} of {len(chosen)} mutations ({100 * killed / len(chosen):.0f}%)")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]]))
