"""Where Chromium's time goes on the app's first rankings page (issue 10).

    .venv/bin/python bench/browser_profile.py [--db var/rankings-page/rankings-1000000.sqlite]
        [--root DIR] [--visits 2] [--cached] [--profile] [--out FILE.json]

Starts ``streamlit run app.py`` of ``--root`` (default: this checkout) on ``--db`` and
opens the app in Debian's headless Chromium (tests/e2e/harness.py), each visit in a new
browser context; with ``--cached`` the visits share one context (a browser that has
visited before: the hashed static files in its cache), after one visit to fill it.
For each visit: the network waterfall (every request: start, end, bytes on the wire,
from cache or not), the page's milestones (first contentful paint, the title, the
first ranking row, the "of N" caption, in ms after navigation start, observed in the
page), the websocket's messages, and with ``--profile`` the renderer's JavaScript CPU
profile (self time by script file) and long tasks.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import harness as h  # noqa: E402

# In the page, from its first script on: when each milestone first appears.
MILESTONES = """
(() => {
  const marks = {};
  window.__marks = marks;
  const tests = {
    title: () => document.querySelector('[data-testid="stMainBlockContainer"] h1'),
    first_row: () => document.querySelector(
      '[data-testid="stDataFrame"] [role="row"]:nth-of-type(2), '
      + '.st-key-rk_table tbody tr, [data-testid="stTable"] tbody tr'),
    caption: () => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .find(e => /，共 | of \\d/.test(e.textContent)),
    grid: () => document.querySelector('[data-testid="stDataFrame"] canvas'),
    sidebar: () => document.querySelector('[data-testid="stSidebar"] a'),
  };
  const look = () => {
    for (const [k, f] of Object.entries(tests)) {
      if (!(k in marks) && f()) marks[k] = performance.now();
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true,
                                                characterData: true});
  try {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) {
        (marks.long_tasks = marks.long_tasks || []).push([e.startTime, e.duration]);
      }
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
})();
"""


def visit(context: Any, url: str, profile: bool) -> dict[str, Any]:
    page = context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    requests: dict[str, dict[str, Any]] = {}
    frames: list[tuple[float, int, str]] = []

    def sent(e: dict[str, Any]) -> None:
        requests[e["requestId"]] = {"url": e["request"]["url"], "start": e["timestamp"],
                                    "type": e.get("type")}

    def response(e: dict[str, Any]) -> None:
        r = requests.get(e["requestId"])
        if r is not None:
            r["status"] = e["response"]["status"]
            r["cache"] = bool(e["response"].get("fromDiskCache")
                              or e["response"].get("fromMemoryCache"))
            r["encoding"] = e["response"].get("headers", {}).get("content-encoding", "")
            r["cache_control"] = e["response"].get("headers", {}).get("cache-control", "")

    def finished(e: dict[str, Any]) -> None:
        r = requests.get(e["requestId"])
        if r is not None:
            r["end"] = e["timestamp"]
            r["bytes"] = e["encodedDataLength"]

    def served_from_cache(e: dict[str, Any]) -> None:
        r = requests.get(e["requestId"])
        if r is not None:
            r["cache"] = True

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.responseReceived", response)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.requestServedFromCache", served_from_cache)
    cdp.on("Network.webSocketFrameReceived",
           lambda e: frames.append((e["timestamp"], len(e["response"]["payloadData"]), "in")))
    cdp.on("Network.webSocketFrameSent",
           lambda e: frames.append((e["timestamp"], len(e["response"]["payloadData"]), "out")))
    page.add_init_script(MILESTONES)
    if profile:
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        cdp.send("Profiler.start")
    started = time.perf_counter()
    page.goto(url)
    page.get_by_text("，共 ").first.wait_for(timeout=600_000)
    page.locator(h.RANKING_ROWS).nth(1).wait_for(state="attached", timeout=120_000)
    wall = time.perf_counter() - started
    out: dict[str, Any] = {"wall": wall}
    if profile:
        prof = cdp.send("Profiler.stop")["profile"]
        out["profile"] = by_script(prof)
    page.wait_for_timeout(1500)
    marks = page.evaluate("window.__marks")
    paints = page.evaluate("Object.fromEntries(performance.getEntriesByType('paint')"
                           ".map(e => [e.name, e.startTime]))")
    nav = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    origin = min((r["start"] for r in requests.values()), default=0.0)
    out["marks"] = {**{k: v for k, v in marks.items() if k != "long_tasks"}, **paints}
    out["long_tasks"] = marks.get("long_tasks", [])
    out["nav"] = {k: nav[k] for k in ("responseEnd", "domContentLoadedEventEnd",
                                      "loadEventEnd")}
    out["requests"] = sorted(
        ({"url": r["url"].replace(url, ""), "start_ms": (r["start"] - origin) * 1000,
          "end_ms": (r.get("end", r["start"]) - origin) * 1000, "bytes": r.get("bytes", 0),
          "cache": r.get("cache", False), "encoding": r.get("encoding", ""),
          "cache_control": r.get("cache_control", ""), "type": r.get("type")}
         for r in requests.values()), key=lambda r: r["start_ms"])
    out["ws"] = [((t - origin) * 1000, n, d) for t, n, d in frames]
    page.close()
    return out


def by_script(profile: dict[str, Any]) -> list[tuple[str, float]]:
    """Self time (ms) of the sampled JavaScript by script file."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = profile["timeDeltas"]
    self_ms: collections.Counter[str] = collections.Counter()
    for sample, delta in zip(profile["samples"], deltas, strict=True):
        frame = nodes[sample]["callFrame"]
        name = frame["url"].rsplit("/", 1)[-1] or f"({frame['functionName'] or 'program'})"
        self_ms[name] += delta / 1000
    return self_ms.most_common(25)


def report(v: dict[str, Any]) -> None:
    print(f"wall {v['wall']:.2f} s")
    print("milestones (ms after navigation):",
          {k: round(x) for k, x in sorted(v["marks"].items(), key=lambda kv: kv[1])})
    print("navigation:", {k: round(x) for k, x in v["nav"].items()})
    total = sum(r["bytes"] for r in v["requests"])
    print(f"{len(v['requests'])} requests, {total / 1e6:.2f} MB on the wire")
    for r in v["requests"]:
        print(f"  {r['start_ms']:7.0f} {r['end_ms']:7.0f} {r['bytes']:9,d} "
              f"{'cache' if r['cache'] else '     '} {r['encoding']:5s} {r['url'][:90]}")
    ws_in = [f for f in v["ws"] if f[2] == "in"]
    if ws_in:
        print(f"websocket: {len(ws_in)} messages in, first {ws_in[0][0]:.0f} ms, "
              f"last {ws_in[-1][0]:.0f} ms, {sum(f[1] for f in ws_in):,d} chars")
    lt = v["long_tasks"]
    print(f"long tasks: {len(lt)}, {sum(d for _, d in lt):.0f} ms:",
          [(round(s), round(d)) for s, d in lt])
    if "profile" in v:
        print("JS self time by script (ms):")
        for name, ms in v["profile"]:
            print(f"  {ms:8.1f} {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path,
                        default=ROOT / "var" / "rankings-page" / "rankings-1000000.sqlite")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--visits", type=int, default=2)
    parser.add_argument("--cached", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    log = ROOT / "var" / "browser-profile.log"
    log.parent.mkdir(exist_ok=True)
    visits = []
    with h.chromium() as browser, h.streamlit_server(args.db.resolve(), log,
                                                      root=args.root.resolve()) as url:
        shared = browser.new_context() if args.cached else None
        if shared is not None:
            print("filling the cache:")
            report(visit(shared, url, False))
        for i in range(args.visits):
            context = shared or browser.new_context()
            print(f"\nvisit {i + 1} (load {os.getloadavg()[0]:.1f}):")
            v = visit(context, url, args.profile)
            report(v)
            visits.append(v)
            if shared is None:
                context.close()
    if args.out:
        args.out.write_text(json.dumps(visits, indent=1))


if __name__ == "__main__":
    main()
