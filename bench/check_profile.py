"""Where the API server's CPU goes per eligibility check, in one process, without HTTP:
the server's own path (:class:`creditindex.api.reader.StoreReader` with today's day
answers computed, a check drafted as ``POST /v1/eligibility`` drafts it, stored by the
group-commit writer: ``--group`` checks per transaction), ``--checks`` checks of
``--batch`` random bidders after ``--warm`` not counted, one after another in one
thread; CPU milliseconds per check by step (thread CPU time), optionally a cProfile.

    .venv/bin/python bench/check_profile.py --built /work/var/NAME-1m [--db URL]
                                            [--checks 2000] [--profile out.pstats]

The store is written to (every check is stored): use a copy.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import random
import time
from pathlib import Path

import polars as pl

from creditindex.api.reader import StoreReader
from creditindex.certificate import CheckRequest
from creditindex.store import checks
from creditindex.store.db import get_engine, keep_connections, write_transaction


def main() -> None:
    """Run the profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--built", type=Path, required=True)
    parser.add_argument("--db")
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--warm", type=int, default=200, help="Checks before measuring.")
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--group", type=int, default=10,
                        help="Checks stored per transaction (the server's group commit).")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{(args.built / 'bench.sqlite').resolve()}"
    bidders = pl.read_csv(args.built / "subjects.csv", columns=["subject_id", "subject_type"]
                          ).filter(pl.col("subject_type") == "bidder"
                                   ).get_column("subject_id").to_list()
    keep_connections(url)
    reader = StoreReader(url)
    waiting: list[checks.CheckDraft] = []
    today = dt.date.today()
    t0 = time.perf_counter()
    reader.answered(CheckRequest(subject_ids=(), on=today), start_after=1)
    while not reader.answers_ready(CheckRequest(subject_ids=(bidders[0],), on=today)):
        time.sleep(0.2)
    print(f"store read and day answers computed in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(20261130)
    steps = {"narrow": 0.0, "answer": 0.0, "draft": 0.0, "store": 0.0}
    profiler = cProfile.Profile() if args.profile else None

    def one(i: int) -> None:
        asked = CheckRequest(subject_ids=tuple(rng.sample(bidders, args.batch)), on=today,
                             project_no="BENCH", project_name="基准测试")
        a = time.thread_time()
        rows = getattr(reader, "answered_rows", lambda _r: None)(asked)
        b = c = time.thread_time()
        if rows is not None:  # this branch: each subject's rows kept with the day answers
            parts, day, rules, facts = rows
            draft = checks.draft_from_rows(  # type: ignore[attr-defined, unused-ignore]
                url, asked, parts, rules=rules, on=day.result.on,
                known_on=day.result.known_on, facts=facts, frames=lambda: None,
                operator="bench", channel="api")
        else:  # the code before
            data, facts = reader.narrowed(asked.ids, asked.on)
            b = time.thread_time()
            members = reader.answered(asked)
            c = time.thread_time()
            draft = checks.draft_check(url, data, asked, operator="bench", channel="api",
                                       api_key_id=None, facts=facts, members=members)
        d = time.thread_time()
        waiting.append(draft)
        if len(waiting) >= args.group:  # stored as the writer thread stores a group
            with write_transaction(get_engine(url)) as conn:
                getattr(checks, "store_drafts", lambda c, ds: [checks.store_draft(c, d)
                                                               for d in ds])(conn, waiting)
            waiting.clear()
        e = time.thread_time()
        for k, v in zip(steps, (b - a, c - b, d - c, e - d), strict=True):
            steps[k] += v

    for i in range(args.warm):  # warm-up (not counted): caches, compiled statements
        one(i)
    steps = dict.fromkeys(steps, 0.0)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(args.checks):
        one(i)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = args.checks
    print(f"{n} checks: {cpu * 1000 / n:.2f} ms of process CPU a check "
          f"({wall * 1000 / n:.2f} ms wall); by step in the calling thread:")
    for k, v in steps.items():
        print(f"  {k:7s} {v * 1000 / n:.3f} ms")


if __name__ == "__main__":
    main()
