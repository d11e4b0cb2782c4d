"""Driving the real app in a real browser: a copy of the sample database, ``streamlit run
app.py`` as a subprocess on a free port, and Debian's Chromium through Playwright (never a
downloaded browser). Used by the end-to-end test and by ``take_screenshots.py``."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CREDITINDEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STREAMLIT = Path(sys.executable).with_name("streamlit")
GRID = '[data-testid="stDataFrame"]'
# The rows of the rankings: the grid's (Glide's accessible rows) or, on a first page read
# alone, the light table's (widgets.link_table); the first is the header.
RANKING_ROWS = ('[data-testid="stDataFrame"] [role="row"], '
                '.st-key-rk_table tr')


def build_sample_db(folder: Path) -> Path:
    """A SQLite store holding the bundled sample and the demo accounts."""
    from creditindex.store.db import dispose_engines
    from creditindex.ui.data import build_sample

    path = folder / "sample.sqlite"
    build_sample(f"sqlite:///{path}")
    dispose_engines()
    return path


def copy_db(source: Path, folder: Path) -> Path:
    """A private copy of a SQLite store (with its WAL files, if any)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    for suffix in ("", "-wal", "-shm"):
        extra = Path(str(source) + suffix)
        if extra.exists():
            shutil.copy2(extra, Path(str(target) + suffix))
    return target


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(db: Path, log: Path, timeout: float = 90, root: Path = ROOT,
                     port: int | None = None, env: dict[str, str] | None = None
                     ) -> Iterator[str]:
    """``streamlit run app.py`` of the checkout ``root`` (default: this one) on the store
    ``db`` (on ``port``, default a free one; ``env``: more environment); yields the app's
    URL."""
    port = port or free_port()
    env = {**os.environ, "CREDITINDEX_DB": f"sqlite:///{db}", "PYTHONUNBUFFERED": "1",
           **(env or {})}
    cmd = [str(STREAMLIT), "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "viewer"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited: {log.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; fails (never skips) when it is missing."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium is not installed at {CHROMIUM} "
                           "(apt-get install -y chromium fonts-noto-cjk)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --------------------------------------------------------------------------------------
# Steps in the app (Streamlit's test ids are the stable hooks)
# --------------------------------------------------------------------------------------


_IDLE = """() => !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
              && !document.querySelector('[data-testid="stStatusWidgetRunningManIcon"]')
              && !document.querySelector('[data-stale="true"]')
              && !document.querySelector('[data-testid="stSkeleton"]')
              && !document.querySelector('[data-testid="stSpinner"]')"""


def wait_idle(page: Any, timeout: float = 90_000) -> None:
    """Wait until the app has finished running its script (and settled)."""
    page.wait_for_timeout(400)  # let a run that was just triggered begin
    page.wait_for_function(_IDLE, timeout=timeout)
    page.wait_for_timeout(400)
    page.wait_for_function(_IDLE, timeout=timeout)


def load(page: Any, url: str, path: str = "") -> None:
    """Load the app afresh (a new session: nobody signed in) at a URL path."""
    page.goto(f"{url}/{path}")
    try:
        page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=90_000)
    except Exception:
        page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "e2e-failed.png"))
        raise
    wait_idle(page)


def open_page(page: Any, path: str) -> None:
    """Open one of the app's pages through the sidebar's link (who is signed in stays:
    the session cookie signs the user in again in the new page's session)."""
    link = page.locator(f'[data-testid="stSidebar"] a[href$="/{path}"]').first
    if link.count():
        link.click()
    else:  # the sidebar is folded away (narrow screens): open the URL itself
        base = re.match(r"https?://[^/]+", page.url)
        assert base is not None
        page.goto(f"{base.group(0)}/{path}")
    page.wait_for_url(lambda u: u.split("?")[0].rstrip("/").endswith(path), timeout=30_000)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=90_000)
    wait_idle(page)


def pick_option(page: Any, label: str, option_text: str) -> None:
    """Choose an option of the selectbox labelled ``label``."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option").filter(has_text=option_text).first.click()
    wait_idle(page)


def sign_in(page: Any, url: str, name: str, password: str) -> None:
    """Sign in through the sign-in page."""
    load(page, url, "signin")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda u: "signin" not in u, timeout=60_000)  # to the rankings
    page.wait_for_selector(GRID, timeout=90_000)
    wait_idle(page)
    page.get_by_text(f"已登录：{name}").wait_for()


def timed_load(page: Any, url: str, path: str = "") -> float:
    """Open a URL (a new Streamlit session; the session cookie signs the user in again)
    and return the seconds until the page has settled."""
    start = time.monotonic()
    load(page, url, path)
    return time.monotonic() - start
