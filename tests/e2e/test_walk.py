"""Every page for every role, on a desktop and a phone (390 px wide), in headless
Chromium: signed in once, each page opened by its URL (a reload: the session cookie
signs the user in again), a visitor asked to sign in on staff pages; deep links to a
profile; a click on a ranking row opens its profile; signing out ends the session; a
browser's clear-cache message is refused. Page timings go to ``tests/e2e/out``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from creditindex import evaluate
from creditindex.store.db import dispose_engines
from creditindex.store.load import load_data
from creditindex.ui import nav
from creditindex.ui.i18n import t
from tests.e2e import harness as h

TODAY = dt.date.today()
OUT = Path(__file__).resolve().parent / "out"
ROLES = {"public": None, "staff": ("staff", "staff-demo"),
         "regulator": ("regulator", "regulator-demo")}
WIDTHS = {"desktop": (1400, 1000), "phone": (390, 844)}
TITLES = {"rankings": "rankings.title", "profile": "profile.title",
          "eligibility": "elig.title", "imports": "import.title", "lifecycle": "life.title",
          "audit": "audit.title", "rules": "rules.title", "signin": "signin.title",
          "account": "account.title", "verify": "verify.title"}


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return h.build_sample_db(tmp_path_factory.mktemp("e2e-walk"))


@pytest.fixture(scope="module")
def server(sample_db: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, Path, Path]]:
    folder = tmp_path_factory.mktemp("e2e-walk-server")
    db = h.copy_db(sample_db, folder / "store")
    log = folder / "streamlit.log"
    with h.streamlit_server(db, log) as url:
        yield url, db, log
    dispose_engines()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with h.chromium() as b:
        yield b


def _no_exception(page: Any) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.url


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_page_for_every_role(server: tuple[str, Path, Path], browser: Any,
                                   role: str, width: str) -> None:
    url, _db, _log = server
    w, ht = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": ht})
    page = context.new_page()
    account = ROLES[role]
    if account is not None:
        h.sign_in(page, url, *account)
    timings = {}
    for spec in nav.PAGES:
        if spec.name in ("signin", "account") and (account is None) != (spec.name == "signin"):
            continue
        timings[spec.name] = h.timed_load(page, url, spec.name)  # by URL: a reload
        _no_exception(page)
        protected = spec.name in ("imports", "lifecycle", "audit", "rules")
        barred = protected and spec.name not in {p.name for p in nav.visible(_user(role))}
        title = t(("auth.sign_in_needed" if account is None else "auth.not_allowed")
                  if barred else TITLES[spec.name], "zh")
        page.get_by_role("heading", name=title, exact=True).first.wait_for()
        allowed = account is not None and spec.permission is not None and (
            spec.name in {p.name for p in nav.visible(_user(role))})
        if spec.permission is not None and spec.name in ("imports", "lifecycle", "audit",
                                                          "rules"):
            if account is None:
                page.get_by_text(t("auth.please_sign_in", "zh")).wait_for()
            elif not allowed:
                page.get_by_text(t("auth.refused", "zh", role=t(f"role.{role}", "zh"))
                                 ).wait_for()
        if account is not None:  # still signed in after loading the URL
            assert page.get_by_text(f"已登录：{account[0]}").count() >= 1 or width == "phone"
        if width == "phone":  # nothing wider than the screen but the tables' own scroll
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= w + 1, (spec.name, overflow)
    OUT.mkdir(exist_ok=True)
    (OUT / f"timings-{role}-{width}.json").write_text(json.dumps(timings, indent=1))
    assert all(s < 60 for s in timings.values()), timings
    context.close()


def _user(role: str) -> Any:
    from creditindex.service.auth import ANONYMOUS, User

    return ANONYMOUS if role == "public" else User(role, role)


def test_session_survives_reload_and_ends_on_sign_out(server: tuple[str, Path, Path],
                                                      browser: Any) -> None:
    url, _db, _log = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    h.sign_in(page, url, "staff", "staff-demo")
    cookie = next(c for c in context.cookies() if c["name"] == "creditindex_session")
    assert cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    page.reload()
    h.wait_idle(page)
    page.get_by_text("已登录：staff").wait_for()
    h.load(page, url, "lifecycle")  # a bookmarked staff page
    page.get_by_role("heading", name=t("life.title", "zh")).wait_for()
    h.load(page, url, "account")
    page.get_by_role("button", name=t("account.sign_out", "zh")).click()
    h.wait_idle(page)
    page.reload()
    h.wait_idle(page)
    page.get_by_text(t("auth.browsing_public", "zh")).first.wait_for()
    h.load(page, url, "lifecycle")
    page.get_by_text(t("auth.please_sign_in", "zh")).wait_for()
    context.close()


def test_deep_link_and_clickable_rows(server: tuple[str, Path, Path], browser: Any) -> None:
    url, db, _log = server
    answer = evaluate.compute(load_data(f"sqlite:///{db}"), TODAY)
    bidders = answer.filter(pl.col("subject_type") == "bidder")
    target = bidders.filter(pl.col("restricted")).row(0, named=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    h.load(page, url, f"profile?subject={target['subject_id']}&type=bidder")
    page.get_by_role("heading", name=target["subject_name"]).wait_for()
    _no_exception(page)
    # a click on a ranking row opens that row's profile (the first data row: rank 1)
    h.load(page, url)
    grid = page.locator(h.GRID).first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    first = page.locator(h.RANKING_ROWS).nth(1).inner_text()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)  # the row's selection cell
    page.wait_for_url(re.compile(r".*/profile\?subject=.*"), timeout=60_000)
    h.wait_idle(page)
    sid = re.search(r"subject=([0-9A-Z]+)", page.url)
    assert sid is not None and sid.group(1) in first
    page.close()


def test_first_page_read_alone_has_rows_that_link_to_profiles(
        sample_db: Path, browser: Any, tmp_path: Path) -> None:
    """A published day's first page read alone (as on a large store right after a
    restart): its rows, a light HTML table, are the engine's first page, and a click on
    a row opens that subject's profile, in English when the page was in English."""
    from creditindex.store.snapshots import evaluate as evaluate_day

    db = h.copy_db(sample_db, tmp_path / "store")
    evaluate_day(f"sqlite:///{db}", TODAY)
    dispose_engines()
    bidders = evaluate.compute(load_data(f"sqlite:///{db}"), TODAY).filter(
        pl.col("subject_type") == "bidder")
    dispose_engines()
    # the sample is small: read its first page alone, and keep the whole day from
    # arriving while the test looks at the first page
    env = {"CREDITINDEX_FIRST_PAGE_FROM": "0", "CREDITINDEX_FIRST_PAGE_DRAW": "600"}
    with h.streamlit_server(db, tmp_path / "streamlit.log", env=env) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        h.load(page, url)
        page.get_by_text(t("rankings.loading_rest", "zh")).wait_for()
        assert page.locator(h.GRID).count() == 0  # no grid: the light table
        rows = page.locator(h.RANKING_ROWS)
        assert rows.count() == 51  # a header and the first 50
        for i in range(3):
            expected = bidders.row(i, named=True)
            cells = rows.nth(i + 1).inner_text().split("\t")
            assert cells[0] == expected["subject_name"]
            assert cells[1] == str(expected["rank"])
            assert cells[3] == f"{expected['index']:.2f}"
        links = [rows.nth(i + 1).locator("a").get_attribute("href") for i in range(3)]
        assert links == [f"profile?subject={s}&type=bidder"
                         for s in bidders.get_column("subject_id").head(3)]
        # in English, a click anywhere on a row opens its profile, in English
        page.get_by_text("English", exact=True).click()
        h.wait_idle(page)
        page.get_by_text(t("rankings.loading_rest", "en")).wait_for()
        second = bidders.row(1, named=True)
        cell = rows.nth(2).locator("td").nth(5)  # not on the name
        cell.scroll_into_view_if_needed()
        box = cell.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url(re.compile(rf".*/profile\?subject={second['subject_id']}"
                                     r"&type=bidder&lang=en"), timeout=60_000)
        h.wait_idle(page)
        page.get_by_role("heading", name=second["subject_name"]).wait_for()
        page.get_by_text(t("page.rankings", "en"), exact=True).first.wait_for()
        _no_exception(page)
        page.close()
    dispose_engines()


def test_clear_cache_from_a_browser_is_refused(server: tuple[str, Path, Path]) -> None:
    """Send Streamlit's clear-cache message over the app's websocket, as any client
    could: the server ignores it (and says so in its log)."""
    url, _db, log = server
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from tornado.websocket import websocket_connect

    async def send() -> None:
        ws = await websocket_connect(url.replace("http", "ws") + "/_stcore/stream",
                                     subprotocols=["streamlit"])
        msg = BackMsg()
        msg.clear_cache = True
        await ws.write_message(msg.SerializeToString(), binary=True)
        await asyncio.sleep(2)
        ws.close()

    worker = threading.Thread(target=lambda: asyncio.run(send()))  # Playwright owns this
    worker.start()                                                  # thread's event loop
    worker.join(30)
    assert "refused a clear-cache request" in log.read_text()
