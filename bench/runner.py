"""The benchmark runner: ``python -m bench [--sizes 100k,1m,10m] [--out FILE]``.

For each size it generates the data (once, cached), then measures every task with every
contender, each in a process of its own (``bench.child``), checks that the contenders'
answers are the same, prints one table and writes the results as JSON (``--out``) and the
table as Markdown (next to it, ``.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from bench import compare, processes
from bench.child import TASKS
from bench.datasets import DEFAULT_DIR, Dataset, parse_size, prepare, size_label
from creditindex.rules import load_rules

ROOT = Path(__file__).resolve().parent
DEFAULT_OUT = ROOT / "results" / "latest.json"
TARGETS = {
    "timeline": "engine <= 0.5 x DuckDB at 10M",
    "snapshot": "engine <= 0.5 x DuckDB at 10M",
    "update": "update < 1% of a full recompute at 10M",
    "eligibility": "10,000 checks < 50 ms",
    "memory": "peak < 3 GB at 10M",
}
TASK_TITLES = {
    "timeline": "full timeline",
    "snapshot": "one day's snapshot",
    "update": "daily update",
    "eligibility": "eligibility of 10,000",
}


def _repeats(n: int, task: str) -> int:
    if task in ("update", "eligibility"):
        return 5 if n <= 1_000_000 else 3
    return 3 if n <= 1_000_000 else 1


def _run_child(task: str, contender: str, data: Dataset, result: Path, repeats: int,
               timeout: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.child", task, contender, str(data.folder),
               str(result), "--known-on", str(data.known_on), "--repeats", str(repeats)]
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent) + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=ROOT.parent, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " / ".join(tail) or f"exit code {done.returncode}"}
    measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    measured["process_seconds"] = time.perf_counter() - started
    return measured


def _normalised(task: str, frame: pl.DataFrame) -> pl.DataFrame:
    return frame  # children write normalised answers already


def _check(task: str, results: dict[str, Path]) -> dict[str, Any]:
    """Compare every contender's answer with the engine's."""
    reference = results.get("engine")
    if reference is None or not reference.exists():
        return {"equal": None, "problems": ["no engine answer"]}
    mine = _normalised(task, pl.read_parquet(reference))
    problems: list[str] = []
    for contender, path in results.items():
        if contender == "engine":
            continue
        if not path.exists():
            problems.append(f"{contender}: no answer")
            continue
        found = compare.differences(mine, _normalised(task, pl.read_parquet(path)))
        problems += [f"{contender}: {p}" for p in found]
    return {"equal": not problems, "problems": problems}


def run(sizes: list[int], tasks: list[str], data_dir: Path, timeout: float
        ) -> dict[str, Any]:
    """Measure every size and task; the results as a JSON-ready dict."""
    rules = load_rules()
    report: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "load_average_before": list(os.getloadavg())},
        "versions": _versions(),
        "targets": TARGETS,
        "sizes": [],
    }
    for n in sizes:
        data = prepare(n, rules, data_dir)
        entry: dict[str, Any] = {"n": n, "label": size_label(n), "data": data.meta,
                                 "tasks": {}}
        with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
            for task in tasks:
                results: dict[str, Path] = {}
                measured: dict[str, Any] = {}
                for contender in TASKS[task]:
                    answer = Path(tmp) / f"{task}-{contender}.parquet"
                    print(f"  {size_label(n):>4} {task:<12} {contender:<8}", end="",
                          flush=True)
                    m = _run_child(task, contender, data, answer, _repeats(n, task),
                                   timeout)
                    results[contender] = answer
                    measured[contender] = m
                    shown = m.get("error") or f"{m['seconds']:.4f} s, peak {m['peak_mb']} MB"
                    print(f" {shown}", flush=True)
                entry["tasks"][task] = {"contenders": measured, **_check(task, results)}
        report["sizes"].append(entry)
    report["machine"]["load_average_after"] = list(os.getloadavg())
    report["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    return report


def _versions() -> dict[str, str]:
    import duckdb
    import numpy
    import pandas

    return {"polars": pl.__version__, "duckdb": duckdb.__version__,
            "pandas": pandas.__version__, "numpy": numpy.__version__}


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------


def _secs(m: dict[str, Any] | None) -> str:
    if not m:
        return "—"
    if "error" in m:
        return "error"
    s = float(m["seconds"])
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    if not a or not b or "error" in a or "error" in b or not b["seconds"]:
        return "—"
    r = float(a["seconds"]) / float(b["seconds"])
    return f"{r:.2f}×" if r >= 0.01 else f"{r:.4f}×"


def _mb(m: dict[str, Any] | None) -> str:
    if not m or "error" in m:
        return "—"
    return str(m["peak_mb"])


def rows(report: dict[str, Any]) -> list[list[str]]:
    """The table: one row per size and task."""
    out = []
    for entry in report["sizes"]:
        for task, result in entry["tasks"].items():
            m = result["contenders"]
            eng = m.get("engine")
            notes = []
            if task == "update":
                scratch = m.get("scratch")
                duck, pand = None, None
                if eng and scratch and "error" not in eng and "error" not in scratch:
                    share = float(eng["seconds"]) / float(scratch["seconds"])
                    notes.append(f"engine from scratch {_secs(scratch)}: update = "
                                 f"{share:.2%} of it; {eng.get('changed_subjects')} "
                                 f"subjects recomputed or moved to their next change "
                                 f"point")
                peaks = f"{_mb(eng)} / {_mb(scratch)} (scratch)"
            else:
                duck, pand = m.get("duckdb"), m.get("pandas")
                peaks = f"{_mb(eng)} / {_mb(duck)} / {_mb(pand)}"
            if task == "eligibility" and eng and "error" not in eng:
                notes.append(f"index build {eng['index_build_seconds']:.2f} s "
                             f"({eng['runs']} runs); evaluate.check "
                             f"{eng['check_seconds']:.2f} s"
                             + ("" if eng.get("check_agrees") else " (DISAGREES)"))
            same = {True: "yes", False: "NO: " + "; ".join(result["problems"]),
                    None: "?"}[result["equal"]]
            out.append([entry["label"], TASK_TITLES[task], _secs(eng), _secs(duck),
                        _secs(pand), _ratio(eng, duck), _ratio(eng, pand), peaks, same,
                        "; ".join(notes)])
    return out


HEADER = ["records", "task", "engine", "DuckDB SQL", "pandas", "engine ÷ DuckDB",
          "engine ÷ pandas", "peak MB (engine / DuckDB / pandas)", "same answers", "notes"]


def markdown(report: dict[str, Any]) -> str:
    """The table in Markdown, with the conditions it was measured in."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(report)]
    machine = report["machine"]
    before = ", ".join(f"{x:.1f}" for x in machine["load_average_before"])
    after = ", ".join(f"{x:.1f}" for x in machine.get("load_average_after", []))
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    lines += ["", f"Measured {report['started']} on {machine['cpus']} CPUs "
              f"({machine['platform']}), load average {before} before and {after} after; "
              f"{versions}. Times are the best of 3 runs (5 for the update and the "
              "eligibility check; at 10M one run of the timeline and the snapshot, 3 of the "
              "others), each contender in a process of its own; peak MB is that process's "
              "peak resident memory while the task ran, its input data included (for the "
              "eligibility check: the prebuilt index, or the interval table). The answers of "
              "all contenders are compared after every run (same answers)."]
    return "\n".join(lines) + "\n"


def text_table(report: dict[str, Any]) -> str:
    """The table as aligned plain text (notes on their own lines)."""
    table = [HEADER[:-1]] + [r[:-1] for r in rows(report)]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    notes = [f"  {r[0]} {r[1]}: {r[-1]}" for r in rows(report) if r[-1]]
    return "\n".join(out + notes) + "\n"


README = ROOT.parent / "README.md"
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")


def update_readme(table: str, readme: Path = README,
                  markers: tuple[str, str] = MARKERS) -> bool:
    """Put ``table`` between the (bench) markers of the README; False without them."""
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    start, end = (text.find(m) for m in markers)
    if start < 0 or end < start:
        return False
    head = text[:start + len(markers[0])]
    readme.write_text(head + "\n" + table + text[end:], encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run, print and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1m",
                        help="record counts, e.g. 100k,1m,10m (default 100k,1m)")
    parser.add_argument("--tasks", default=",".join([*TASKS, processes.TASK]),
                        help=f"subset of {','.join([*TASKS, processes.TASK])} ("
                             f"{processes.TASK}: whole processes, bench/processes.py)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="JSON results file; the Markdown table goes next to it")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR,
                        help="where generated inputs are cached")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds allowed to one measurement")
    parser.add_argument("--readme", action="store_true",
                        help="also put the table in README.md (between its bench markers)")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS and t != processes.TASK]
    if unknown:
        parser.error(f"unknown task(s): {', '.join(unknown)}")
    if processes.TASK in tasks:
        whole = processes.run(sizes, args.data_dir, args.timeout)
        processes.write(whole, args.out.with_name("processes.json"), args.readme)
        tasks = [t for t in tasks if t != processes.TASK]
        if not all(e["equal"] for e in whole["sizes"]):
            print("ANSWERS DIFFER (whole processes)")
            sys.exit(1)
        if not tasks:
            return
    report = run(sizes, tasks, args.data_dir, args.timeout)
    table = text_table(report)
    print()
    print(table, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    args.out.with_suffix(".md").write_text(markdown(report))
    print(f"\nwrote {args.out} and {args.out.with_suffix('.md')}")
    if args.readme and update_readme(markdown(report)):
        print(f"updated the table in {README}")
    failed = [e["label"] + " " + t for e in report["sizes"] for t, r in e["tasks"].items()
              if r["equal"] is False]
    if failed:
        print("ANSWERS DIFFER: " + ", ".join(failed))
        sys.exit(1)
