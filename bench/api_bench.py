"""API benchmark: eligibility of 10 subjects per request, 20 concurrent clients for 60 s,
against a real ``creditindex serve`` over a store of 1,000,000 generated records; then
the certificate PDF's time.

    .venv/bin/python bench/api_bench.py [--records 1000000] [--clients 20] [--seconds 60]
                                        [--db URL] [--keep DIR]

Targets (issue 12): p50 <= 50 ms, p99 <= 150 ms, zero errors; certificate PDF <= 1 s.
The clients are closed loops (each sends its next request when answered), so the mean
latency is about clients / throughput: p50 <= 50 ms with 20 clients needs some 400
checks a second. The server's CPU milliseconds per request (all its processes) is the
figure that does not depend on what else the machine runs.
Every request is a full check: answered, stored with its evidence, numbered and
certified, and logged against its key. Building the store is not timed. Without
``--db`` the store is a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from creditindex.generate import generate
from creditindex.rules import load_rules
from creditindex.store.apikeys import add_key
from creditindex.store.db import dispose_engines
from creditindex.store.importer import import_records

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def build_store(args: argparse.Namespace, folder: Path) -> tuple[str, list[str]]:
    """Generate and import the records; the store's URL and the bidders' codes. With
    ``--built DIR`` (``bench/store_build.py``), that store and its subjects instead."""
    if args.built is not None:
        url = args.db or f"sqlite:///{(args.built / 'bench.sqlite').resolve()}"
        subjects = pl.read_csv(args.built / "subjects.csv", columns=["subject_id",
                                                                     "subject_type"])
        print(f"reusing the store built in {args.built} ({url.split(':', 1)[0]})", flush=True)
        return url, subjects.filter(pl.col("subject_type") == "bidder"
                                    ).get_column("subject_id").to_list()
    url = args.db or f"sqlite:///{folder / 'api-bench.sqlite'}"
    subjects, records = generate(args.subjects, args.records, load_rules(), args.seed)
    csv = folder / "records.csv"
    records.write_csv(csv, date_format="%Y-%m-%d", null_value="")
    started = time.perf_counter()
    import_records(url, [csv], today=dt.date.today())
    print(f"imported {records.height:,} records in {time.perf_counter() - started:.1f} s "
          "(not counted)", flush=True)
    bidders = subjects.filter(subjects["subject_type"] == "bidder")["subject_id"].to_list()
    return url, bidders


def start_server(url: str, port: int, workers: int = 1, root: Path = ROOT
                 ) -> subprocess.Popen[bytes]:
    """``creditindex serve`` of the checkout at ``root`` on ``port`` with no practical
    request limit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "creditindex", "serve", "--db", url, "--port", str(port),
         "--rate-limit", "100000000", *(["--workers", str(workers)] if workers > 1 else [])],
        cwd=root)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def load(base: str, key: str, bidders: list[str], clients: int, seconds: float,
         batch: int) -> tuple[list[float], list[str]]:
    """``clients`` threads asking eligibility of ``batch`` random bidders until time is up."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    today = dt.date.today().isoformat()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        bad: list[str] = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                          timeout=30) as http:
            while time.monotonic() < stop_at:
                body = {"codes": rng.sample(bidders, batch), "on": today,
                        "project": {"no": "BENCH", "name": "基准测试"}}
                t0 = time.perf_counter()
                try:
                    answer = http.post("/v1/eligibility", json=body)
                    ok = answer.status_code == 200
                    why = f"{answer.status_code} {answer.text[:120]}"
                except httpx.HTTPError as exc:
                    ok, why = False, repr(exc)
                mine.append((time.perf_counter() - t0) * 1000)
                if not ok:
                    bad.append(why)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def raw_load(base: str, key: str, bidders: list[str], clients: int, seconds: float,
             batch: int, folder: Path) -> tuple[dict[str, Any], list[str]]:
    """The same load by ``bench/api_load.py`` in a process of its own (raw asyncio HTTP,
    a tenth of httpx's CPU per request): its figures and first errors."""
    codes = folder / "load-codes.txt"
    if not codes.exists():
        codes.write_text("\n".join(bidders) + "\n", encoding="utf-8")
    out = folder / "load.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "api_load.py"), "--url", base,
                    "--key", key, "--codes", str(codes), "--clients", str(clients),
                    "--seconds", str(seconds), "--batch", str(batch), "--out", str(out)],
                   check=False, stdout=subprocess.DEVNULL)
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return figures, list(figures.pop("first_errors"))


def certificate_times(base: str, key: str, bidders: list[str], n: int = 20) -> list[float]:
    """Milliseconds to fetch a certificate PDF of a 10-subject check (rendered each time)."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                      timeout=60) as http:
        made = http.post("/v1/eligibility", json={"codes": bidders[:10]}).json()
        path = made["certificate"]["pdf"]
        http.get(path)  # the first one registers the font in the server process
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            answer = http.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 200
    return times


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--db", help="Use this (empty) store instead of a temporary SQLite.")
    parser.add_argument("--keep", type=Path, help="Keep the files in this folder.")
    parser.add_argument("--built", type=Path, help="Reuse the store bench/store_build.py "
                        "built in this folder (its SQLite file, or --db: its PostgreSQL).")
    parser.add_argument("--workers", type=int, default=1, help="Server processes.")
    parser.add_argument("--server-root", type=Path, default=ROOT,
                        help="Serve the code of this checkout (e.g. /work/main: the same "
                             "load on the code before, side by side).")
    parser.add_argument("--warmup", type=float, default=20,
                        help="Seconds of load before the measured run (not counted).")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="Load generator: bench/api_load.py in its own process (raw "
                        "asyncio HTTP), or httpx threads in this one (~1 ms of CPU per "
                        "request, taken from the server on a small machine).")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "api.json")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="api-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    process = None
    try:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        url, bidders = build_store(args, folder)
        key = add_key(url, "bench", ["check", "read"]).secret
        dispose_engines()
        process = start_server(url, args.port, args.workers, args.server_root)
        base = f"http://127.0.0.1:{args.port}"
        t0 = time.perf_counter()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                          timeout=900) as http:  # the first answer reads the whole store
            first = http.post("/v1/eligibility", json={"codes": bidders[:args.batch]})
            assert first.status_code == 200, first.text
        print(f"first answer (reads {args.records:,} records): "
              f"{time.perf_counter() - t0:.1f} s (not counted)", flush=True)
        if args.warmup > 0:  # the server computes the day's answers in the background
            if args.client == "raw":
                raw_load(base, key, bidders, args.clients, args.warmup, args.batch, folder)
            else:
                load(base, key, bidders, args.clients, args.warmup, args.batch)
            print(f"warm-up: {args.warmup:.0f} s of the same load (not counted)", flush=True)
        cpu_before = server_cpu(process.pid)
        if args.client == "raw":
            figures, errors = raw_load(base, key, bidders, args.clients, args.seconds,
                                       args.batch, folder)
        else:
            latencies, errors = load(base, key, bidders, args.clients, args.seconds,
                                     args.batch)
            figures = {"requests": len(latencies), "errors": len(errors),
                       "throughput_per_s": round(len(latencies) / args.seconds, 1),
                       "p50_ms": round(percentile(latencies, 0.50), 1),
                       "p90_ms": round(percentile(latencies, 0.90), 1),
                       "p95_ms": round(percentile(latencies, 0.95), 1),
                       "p99_ms": round(percentile(latencies, 0.99), 1),
                       "max_ms": round(max(latencies), 1)}
        server_cpu_s = server_cpu(process.pid) - cpu_before
        pdf = certificate_times(base, key, bidders)
        result: dict[str, Any] = {
            "records": args.records, "clients": args.clients, "seconds": args.seconds,
            "warmup_seconds": args.warmup, "workers": args.workers,
            "server_code": str(args.server_root),
            "subjects_per_request": args.batch, "load_client": args.client, **figures,
            "server_cpu_ms_per_request": round(
                server_cpu_s * 1000 / max(1, figures["requests"]), 2),
            "certificate_pdf_median_ms": round(statistics.median(pdf), 1),
            "certificate_pdf_max_ms": round(max(pdf), 1),
            "store": "sqlite" if args.db is None else url.split(":", 1)[0],
            "load_average": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        print(json.dumps(result, indent=1))
        if errors:
            print("first errors:", *errors[:5], sep="\n  ")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        dispose_engines()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
