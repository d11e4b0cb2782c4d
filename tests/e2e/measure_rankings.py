"""Measure (not a test) how long the rankings page takes to show its first page in a real
browser, for a store of any size:

    .venv/bin/python tests/e2e/measure_rankings.py --subjects 1000000 --records 1500000

builds the store once under ``--work`` (generated subjects and records, imported through
the store), starts ``streamlit run app.py`` on it and opens the rankings in headless
Chromium: first the cold visit (load and compute, the server's first), then fresh
visits (new sessions) once the day is computed, then a search and a page turn.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h

TABLE_ROW = h.RANKING_ROWS


def build(work: Path, n_subjects: int, n_records: int) -> Path:
    from creditindex.generate import generate_records, generate_subjects
    from creditindex.rules import load_rules
    from creditindex.store.db import dispose_engines, get_engine, write_transaction
    from creditindex.store.importer import import_records
    from creditindex.store.migrations import ensure_schema
    from creditindex.store.rulesets import ensure_published

    db = work / f"rankings-{n_subjects}.sqlite"
    if db.exists():
        return db
    work.mkdir(parents=True, exist_ok=True)
    rules = load_rules()
    subjects = generate_subjects(n_subjects, 7)
    records = generate_records(subjects, n_records, rules, 7)
    subjects.write_csv(work / "subjects.csv")
    records.write_csv(work / "records.csv", date_format="%Y-%m-%d", null_value="")
    url = f"sqlite:///{db}"
    engine = get_engine(url)
    ensure_schema(engine)
    with write_transaction(engine) as conn:
        ensure_published(conn, dt.date.today(), "measure")
    import_records(url, [work / "records.csv"], subjects_path=work / "subjects.csv")
    dispose_engines()
    return db


def first_page(browser: Any, url: str, total: str) -> float:
    """Seconds from opening the app until the first page of the ranking is on screen."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.perf_counter()
    page.goto(url)
    page.get_by_text(f"，共 {total} 条").wait_for(timeout=600_000)
    # the grid's rows live in its (visually hidden) accessible table: present, not visible
    page.locator(TABLE_ROW).nth(1).wait_for(state="attached", timeout=60_000)
    took = time.perf_counter() - start
    page.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=1_500_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/creditindex-measure"))
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--settle", type=float, default=30.0,
                        help="seconds to let the server finish warming up after the cold visit")
    args = parser.parse_args()
    t0 = time.perf_counter()
    db = build(args.work, args.subjects, args.records)
    print(f"store ready in {time.perf_counter() - t0:.1f} s: {db}")
    import polars as pl

    from creditindex.store.load import load_data

    bidders = load_data(f"sqlite:///{db}").subject_keys().filter(
        pl.col("subject_type") == "bidder").height
    with h.streamlit_server(db, args.work / "streamlit.log", timeout=120) as url, \
            h.chromium() as browser:
        cold = first_page(browser, url, str(bidders))
        print(f"cold first page (load + compute, first visit): {cold:.2f} s")
        time.sleep(args.settle)  # the server's warm-up (subject directory) finishes
        warm = [first_page(browser, url, str(bidders)) for _ in range(5)]
        print(f"first page, fresh sessions once computed: median {statistics.median(warm):.2f}"
              f" s, max {max(warm):.2f} s ({', '.join(f'{w:.2f}' for w in warm)})")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text(f"，共 {bidders} 条").wait_for(timeout=120_000)
        h.wait_idle(page)
        if args.screenshot:
            page.screenshot(path=str(args.screenshot))
        start = time.perf_counter()
        page.get_by_label("Page 2", exact=True).click()
        page.get_by_text("第 2/").wait_for()
        print(f"next page: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        page.get_by_label("按名称或代码搜索").fill("建筑")
        page.get_by_label("按名称或代码搜索").press("Enter")
        page.get_by_text("第 1/").wait_for()
        page.get_by_text(f"，共 {bidders} 条").wait_for(state="detached")
        print(f"search by name over {bidders} bidders: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
