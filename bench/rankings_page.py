"""The app's first rankings page on a 1M-subject store right after a server restart
(issue "One engine for every face": at most 3 s in Chromium).

    .venv/bin/python bench/rankings_page.py [--subjects 1000000] [--records 1500000]
        [--runs 3] [--fresh 3] [--compare before=DIR] [--interactions]

Builds the store once under ``--work`` (generated subjects and records imported through
the store, then ``creditindex evaluate`` of today: the stored day the page reads), then,
``--runs`` times, starts ``streamlit run app.py`` on it and opens the rankings in Debian's
headless Chromium (tests/e2e/harness.py): the first visit after the start, then
``--fresh`` fresh sessions (new pages, while the whole day loads in the background).
A visit is timed from ``goto`` until the first page's rows and its "of N" caption are
on screen, with the server's CPU seconds meanwhile.

``--compare NAME=DIR`` serves another checkout's app (``git archive main | tar -x -C
DIR``) on the same store, each run alternating between the checkouts, so that both see
the same machine load; the first page of every checkout must show the same rows.
``--interactions`` then times, once the whole day is loaded, a page turn and a search
by name. ``--cached``: a browser that has visited before (the centre's staff reopening
the page after the server restarted overnight): each checkout is served on one port
throughout and visited in one browser context, filled by two untimed visits first, so
the hashed static files (``Cache-Control: immutable``) come from its cache (and, where
Chromium keeps it, their compiled code from its code cache); without it every visit is
a new context (nothing cached). The summary is a markdown table (medians, with the load average).

The first page's rows are the grid's or, on a first page read alone, the light table's
(``tests/e2e/harness.RANKING_ROWS``); the checkouts must show the same rows: the same
subjects' codes and indices in the same order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
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


def chromium_cpu() -> float:
    """CPU seconds Chromium's processes (browser, renderers, GPU, utilities) have spent."""
    total = 0.0
    for pid in (d for d in os.listdir("/proc") if d.isdigit()):
        try:
            if b"chromium" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


@dataclass
class Visit:
    """One visit: seconds until the first page is on screen, the server's and
    Chromium's CPU seconds meanwhile, the load average then, and the rows the page
    shows."""

    wall: float
    cpu: float
    browser_cpu: float
    load: float
    shown: list[str] = field(default_factory=list)


# A row's cells' text, tab-separated (the grid's accessible rows are not displayed:
# their inner text is empty).
CELLS = "r => [...r.children].map(c => c.textContent).join('\\t')"


def row_key(text: str) -> str:
    """What a row of the first page says, whichever table draws it: the subject's code
    and the numbers (rank, index, deducted, to two decimals), in order."""
    key = []
    for cell in (c.strip() for c in text.split("\t")):
        if re.fullmatch(r"[0-9A-Z*]{18}", cell):
            key.append(cell)
        elif re.fullmatch(r"-?\d+(\.\d+)?", cell):
            key.append(f"{float(cell):.2f}")
    return " ".join(key)


VIEWPORT = {"width": 1400, "height": 1000}


def new_page(browser: Any) -> Any:
    """A page in a new browser context (``browser`` a browser) or in the context
    ``browser`` (a browser that has visited before)."""
    if hasattr(browser, "new_context"):
        return browser.new_page(viewport=VIEWPORT)
    return browser.new_page()


def first_page(browser: Any, url: str, screenshot: Path | None = None) -> Visit:
    """Open the app in a new page (a new browser context, or a page of the context
    ``browser`` when it is one) and wait for the first page of the ranking."""
    page = new_page(browser)
    cpu, browser = server_cpu(url), chromium_cpu()
    start = time.perf_counter()
    page.goto(url)
    page.get_by_text("，共 ").first.wait_for(timeout=600_000)
    page.locator(h.RANKING_ROWS).nth(1).wait_for(state="attached", timeout=120_000)
    took = time.perf_counter() - start
    visit = Visit(took, server_cpu(url) - cpu, chromium_cpu() - browser, os.getloadavg()[0])
    if screenshot is not None:  # the page as first shown (the rows' table settled)
        page.wait_for_timeout(500)
        page.screenshot(path=str(screenshot))
    rows = page.locator(h.RANKING_ROWS)
    visit.shown = [row_key(rows.nth(i).evaluate(CELLS))
                   for i in range(1, min(rows.count(), 6))]
    print(f"  {took:.2f} s, server CPU {visit.cpu:.2f} s, Chromium CPU "
          f"{visit.browser_cpu:.2f} s, load {visit.load:.1f}", flush=True)
    page.close()
    return visit


def interactions(browser: Any, url: str) -> tuple[float, float]:
    """Once the whole day is loaded: seconds for a page turn and for a search by name."""
    page = new_page(browser)
    page.goto(url)
    page.get_by_label("按名称或代码搜索").wait_for(timeout=600_000)  # the whole day
    h.wait_idle(page)
    start = time.perf_counter()
    page.get_by_label("Page 2", exact=True).click()
    page.get_by_text("第 2/").wait_for()
    turn = time.perf_counter() - start
    start = time.perf_counter()
    page.get_by_label("按名称或代码搜索").fill("建筑")
    page.get_by_label("按名称或代码搜索").press("Enter")
    page.get_by_text("第 1/").wait_for()
    h.wait_idle(page)
    search = time.perf_counter() - start
    print(f"  page turn {turn:.2f} s, search by name {search:.2f} s", flush=True)
    page.close()
    return turn, search


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def _span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def main() -> None:
    """Build, then start, visit and stop each checkout's server ``--runs`` times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=1_500_000)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "rankings-page")
    parser.add_argument("--runs", type=int, default=3, help="server starts per checkout")
    parser.add_argument("--fresh", type=int, default=3,
                        help="fresh sessions after each first visit")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=DIR",
                        help="another checkout to serve side by side (repeatable)")
    parser.add_argument("--interactions", action="store_true",
                        help="time a page turn and a search once the whole day is loaded")
    parser.add_argument("--cached", action="store_true",
                        help="a browser that has visited before (static files cached)")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="the page once the whole day is loaded (this checkout)")
    parser.add_argument("--screenshot-first", type=Path, default=None,
                        help="the first visit's page as first shown (this checkout)")
    args = parser.parse_args()
    checkouts = {"this": ROOT, **{c.split("=", 1)[0]: Path(c.split("=", 1)[1]).resolve()
                                  for c in args.compare}}
    db = build(args.work.resolve(), args.subjects, args.records)  # for every checkout's cwd
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    first: dict[str, list[Visit]] = {name: [] for name in checkouts}
    fresh: dict[str, list[Visit]] = {name: [] for name in checkouts}
    moves: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
    starts: dict[str, list[float]] = {name: [] for name in checkouts}
    start_cpu: dict[str, list[float]] = {name: [] for name in checkouts}
    ports = {name: h.free_port() if args.cached else None for name in checkouts}
    with h.chromium() as chromium:
        visitor: dict[str, Any] = {name: chromium for name in checkouts}
        if args.cached:
            for name, root in checkouts.items():
                visitor[name] = chromium.new_context(viewport=VIEWPORT)
                with h.streamlit_server(db, args.work / f"streamlit-{name}.log",
                                        timeout=120, root=root, port=ports[name]) as url:
                    print(f"{name}: filling the browser's cache", flush=True)
                    for _ in range(2):
                        first_page(visitor[name], url)
        for run in range(args.runs):
            for name, root in checkouts.items():
                log = args.work / f"streamlit-{name}.log"
                browser = visitor[name]
                started = time.perf_counter()
                with h.streamlit_server(db, log, timeout=120, root=root,
                                        port=ports[name]) as url:
                    starts[name].append(time.perf_counter() - started)
                    start_cpu[name].append(server_cpu(url))
                    print(f"{name}, start {run + 1} (healthy after {starts[name][-1]:.1f} s, "
                          f"CPU {start_cpu[name][-1]:.2f} s): first visit", flush=True)
                    shot = args.screenshot_first if run == 0 and name == "this" else None
                    first[name].append(first_page(browser, url, shot))
                    fresh[name] += [first_page(browser, url) for _ in range(args.fresh)]
                    if args.interactions:
                        moves[name].append(interactions(browser, url))
                    if args.screenshot and run == 0 and name == "this":
                        page = new_page(browser)
                        page.goto(url)
                        page.locator(h.RANKING_ROWS).nth(1).wait_for(state="attached",
                                                                     timeout=120_000)
                        h.wait_idle(page)
                        page.screenshot(path=str(args.screenshot))
                        page.close()
    shown = {name: visits[0].shown for name, visits in first.items()}
    same = all(s == shown["this"] for s in shown.values())
    print(f"\nfirst page's rows the same in every checkout: {same}")
    print("\nbrowser: " + ("visited before (static files cached)" if args.cached
                            else "nothing cached (a new context per visit)"))
    print("\n| checkout | visit | runs | wall s (median) | wall s (range) | server CPU s "
          "(median) | Chromium CPU s (median) | load average |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in checkouts:
        for what, visits in (("first visit after a start", first[name]),
                             ("fresh sessions", fresh[name])):
            print(f"| {name} | {what} | {len(visits)} | {_median([v.wall for v in visits])}"
                  f" | {_span([v.wall for v in visits])} | "
                  f"{_median([v.cpu for v in visits])} | "
                  f"{_median([v.browser_cpu for v in visits])} | "
                  f"{_span([v.load for v in visits])} |")
        print(f"| {name} | server start until healthy | {len(starts[name])} | "
              f"{_median(starts[name])} | {_span(starts[name])} | "
              f"{_median(start_cpu[name])} | | |")
        if moves[name]:
            print(f"| {name} | page turn / search (whole day loaded) | {len(moves[name])} | "
                  f"{_median([m[0] for m in moves[name]])} / "
                  f"{_median([m[1] for m in moves[name]])} | | | | |")
    if not same:
        for name, rows in shown.items():
            print(name, rows)
        sys.exit("the checkouts' first pages differ")


if __name__ == "__main__":
    main()
