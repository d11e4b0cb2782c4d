"""The app's first rankings page on a 1M-subject store right after a server restart
(issue "One engine for every face": at most 3 s in Chromium).

    .venv/bin/python bench/rankings_page.py [--subjects 1000000] [--records 1500000]

Builds the store once under ``--work`` (generated subjects and records imported through
the store, then ``creditindex evaluate`` of today: the stored day the page reads), starts
``streamlit run app.py`` on it and opens the rankings in Debian's headless Chromium
(tests/e2e/harness.py): the first visit after the start, then, after a restart of the
server, the first visit again, then fresh sessions. Seconds from ``goto`` until the
first page's rows and its "of N" caption are on screen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import harness as h  # noqa: E402


def build(work: Path, n_subjects: int, n_records: int) -> Path:
    """The store (built once): subjects, records and today's stored day."""
    from creditindex.generate import generate_records, generate_subjects
    from creditindex.rules import load_rules
    from creditindex.store.db import dispose_engines
    from creditindex.store.importer import import_records

    db = work / f"rankings-{n_subjects}.sqlite"
    url = f"sqlite:///{db}"
    if not db.exists():
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        rules = load_rules()
        subjects = generate_subjects(n_subjects, 7)
        records = generate_records(subjects, n_records, rules, 7)
        subjects.write_csv(work / "subjects.csv")
        records.write_csv(work / "records.csv", date_format="%Y-%m-%d", null_value="")
        import_records(url, [work / "records.csv"], subjects_path=work / "subjects.csv")
        dispose_engines()
        print(f"imported in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "creditindex", "evaluate", "--db", url,
                    "--on", dt.date.today().isoformat(), "--no-progress"], cwd=ROOT,
                   check=True)
    print(f"today evaluated in {time.perf_counter() - started:.0f} s", flush=True)
    return db


def server_cpu(url: str) -> float:
    """CPU seconds the server behind ``url`` has spent (user + system, all threads)."""
    port = url.rsplit(":", 1)[1]
    for pid in (d for d in os.listdir("/proc") if d.isdigit()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"streamlit" in b" ".join(cmdline) and port.encode() in cmdline:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return float("nan")


def first_page(browser: Any, url: str) -> float:
    """Seconds from opening the app until the first page of the ranking is on screen
    (printed with the server's CPU seconds meanwhile)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    cpu = server_cpu(url)
    start = time.perf_counter()
    page.goto(url)
    page.get_by_text("，共 ").first.wait_for(timeout=600_000)
    page.locator(h.RANKING_ROWS).nth(1).wait_for(state="attached", timeout=120_000)
    took = time.perf_counter() - start
    print(f"  {took:.2f} s, server CPU {server_cpu(url) - cpu:.2f} s", flush=True)
    page.close()
    return took


def main() -> None:
    """Build, start, visit, restart, visit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=1_500_000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "rankings-page")
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()
    db = build(args.work, args.subjects, args.records)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with h.chromium() as browser:
        for start in ("first start", "restart"):
            with h.streamlit_server(db, args.work / "streamlit.log", timeout=120) as url:
                first = first_page(browser, url)
                print(f"{start}: first rankings page {first:.2f} s "
                      f"(load average {os.getloadavg()[0]:.1f})", flush=True)
                if start == "restart":
                    fresh = [first_page(browser, url) for _ in range(3)]
                    print(f"fresh sessions: median {statistics.median(fresh):.2f} s "
                          f"({', '.join(f'{f:.2f}' for f in fresh)})", flush=True)
                    if args.screenshot:
                        page = browser.new_page(viewport={"width": 1400, "height": 1000})
                        page.goto(url)
                        page.locator(h.RANKING_ROWS).nth(1).wait_for(state="attached",
                                                                     timeout=120_000)
                        h.wait_idle(page)
                        page.screenshot(path=str(args.screenshot))


if __name__ == "__main__":
    main()
