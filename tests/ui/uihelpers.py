"""Helpers of the AppTest tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from creditindex.service.auth import User

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
PAGES = "creditindex/ui/pages"
TODAY = dt.date.today()
"""The day every UI test runs on: the app's clock is held at it (``conftest``), so that a
run across midnight answers as it began (the oracle's day and the app's are one)."""

AppFactory = Callable[..., AppTest]
"""The ``app`` fixture: runs the real app as a user, on a page, in a language."""

STAFF = User("staff", "staff")
REGULATOR = User("regulator", "regulator")
PUBLIC = User("public", "public")


def page_alone(page: str, user: User | None = None) -> AppTest:
    """A page script run on its own, as if its URL were opened without the navigation
    (the page must still refuse a user without the permission)."""
    at = AppTest.from_file(str(ROOT / PAGES / f"{page}.py"), default_timeout=120)
    if user is not None:
        at.session_state["user"] = user
    return at.run()


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_table(body: str) -> tuple[list[list[str]], list[str]]:
    """The cells (header row first, as text) and the links of an HTML table."""
    parser = _Table()
    parser.feed(body)
    return parser.rows, parser.links


def no_exception(at: AppTest) -> None:
    """The run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]


def table(at: AppTest, key: str) -> pd.DataFrame:
    """The table the app shows under ``key``: a grid (``widgets.show_table``) or a
    light HTML table (``widgets.link_table``, read back as text)."""
    box = at.get_by_key(key)
    if box.dataframe:
        frame = box.dataframe[0].value
        assert isinstance(frame, pd.DataFrame)
        return frame
    if box.html:  # widgets.link_table
        rows, _links = html_table(box.html[0].proto.body)
        return pd.DataFrame(rows[1:], columns=rows[0])
    return pd.DataFrame()  # nothing to show: a caption says so
