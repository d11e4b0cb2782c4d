"""End to end, in headless Chromium: a tenderer's day with the app. Sign in, open the
rankings, open a subject, check candidates' eligibility and keep the evidence.

Needs Debian's Chromium (``apt-get install -y chromium fonts-noto-cjk``); without it
the test fails rather than skips.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from creditindex import evaluate
from creditindex.store.db import dispose_engines
from creditindex.store.load import load_data
from creditindex.ui.tables import public_id
from tests.e2e import harness as h

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return h.build_sample_db(tmp_path_factory.mktemp("e2e-sample"))


@pytest.fixture()
def server(sample_db: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = h.copy_db(sample_db, tmp_path / "store")
    with h.streamlit_server(db, tmp_path / "streamlit.log") as url:
        yield url, db
    dispose_engines()


@pytest.fixture()
def browser() -> Iterator[Any]:
    with h.chromium() as b:
        yield b


def test_sign_in_rankings_subject_eligibility_evidence(server: tuple[str, Path],
                                                       browser: Any, tmp_path: Path) -> None:
    url, db = server
    answer = evaluate.compute(load_data(f"sqlite:///{db}"), TODAY)
    bidders = answer.filter(pl.col("subject_type") == "bidder")
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)

    h.sign_in(page, url, "staff", "staff-demo")
    page.get_by_text("已登录：staff").wait_for()
    page.get_by_text(f"共 {bidders.height} 条").wait_for()
    first = bidders.row(0, named=True)
    assert first["subject_id"] in page.locator(h.RANKING_ROWS).nth(1).inner_text()

    page.get_by_text("最低分在前").click()
    h.wait_idle(page)
    worst = bidders.sort("index", "rank", "subject_id",
                         descending=[False, True, True]).row(0, named=True)
    page.get_by_role("button", name="打开档案").click()
    page.wait_for_url(re.compile(r".*/profile\?subject=.*"), timeout=60_000)
    h.wait_idle(page)
    page.get_by_role("heading", name=worst["subject_name"]).wait_for()
    page.get_by_text(f"代码 {worst['subject_id']}").wait_for()
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 1

    restricted = bidders.filter(pl.col("restricted")).row(0, named=True)["subject_id"]
    clean = bidders.filter(~pl.col("restricted")).row(0, named=True)["subject_id"]
    expert = answer.filter(pl.col("subject_type") == "expert").row(0, named=True)[
        "subject_id"]
    h.open_page(page, "eligibility")
    box = page.get_by_label("候选人代码（每行一个，或以逗号分隔）")
    box.fill(f"{restricted}\n{clean}\n{expert}")
    box.press("Control+Enter")
    h.wait_idle(page)
    page.get_by_role("button", name="开始核查").click()
    h.wait_idle(page)
    page.get_by_text("3 个中有 1 个不符合资格。").wait_for()

    with page.expect_download() as download:
        page.get_by_role("button", name="下载核查证据（HTML）").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"eligibility_evidence_{TODAY}.html"
    html = saved.read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/json" id="evidence">(.*?)</script>',
                         html, re.S)
    assert embedded is not None
    payload = json.loads(embedded.group(1).replace("<\\/", "</"))
    assert payload["check"]["on"] == TODAY.isoformat()
    assert payload["inputs"]["checked_by"] == "staff"
    eligible = {a["subject_id"]: a["eligible"] for a in payload["answers"]}
    assert eligible == {restricted: False, clean: True, public_id(expert, "expert"): True}
    assert {g["subject_id"] for g in payload["grounds"]} == {restricted}
    assert expert not in html  # the expert's resident ID number is masked
    oracle = evaluate.check(load_data(f"sqlite:///{db}"), TODAY, [restricted, clean, expert])
    assert payload["data"]["records_sha256"] and payload["rule_set"]["sha256"]
    assert [a["index"] for a in payload["answers"]] == oracle.table.get_column(
        "index").to_list()


def test_the_app_asks_no_outside_server(server: tuple[str, Path], browser: Any) -> None:
    """A centre's network may reach nothing outside: every request the pages make (the
    tab's icon, fonts, scripts) goes to the app's own server."""
    url, _db = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    h.sign_in(page, url, "staff", "staff-demo")
    page.get_by_text("已登录：staff").wait_for()
    h.open_page(page, "profile")
    page.wait_for_timeout(1500)  # the tab's icon and late fonts
    outside = [u for u in asked
               if not u.startswith((url, "data:", "blob:", url.replace("127.0.0.1",
                                                                       "localhost")))]
    assert asked and not outside, outside
