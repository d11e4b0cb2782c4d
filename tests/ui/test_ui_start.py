"""``streamlit run app.py`` with no set-up builds nothing: the sample store and its demo
accounts exist only when asked for; the banner says what the store really is."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from creditindex.store.db import dispose_engines, get_engine, read_transaction, table
from creditindex.store.importer import import_records
from creditindex.store.sample import SAMPLE_DIR
from creditindex.store.users import add_user
from creditindex.ui import data, startup
from creditindex.ui.i18n import t
from tests.ui.uihelpers import APP, no_exception


def _count(url: str, name: str) -> int:
    with read_transaction(get_engine(url)) as conn:
        return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def test_first_start_builds_no_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITINDEX_DB", raising=False)
    monkeypatch.setenv("CREDITINDEX_HOME", str(tmp_path))  # var/ goes here
    try:
        at = AppTest.from_file(str(APP), default_timeout=120).run()
        no_exception(at)
        url = data.db_url()
        assert at.title[0].value == t("rankings.title", "zh")
        assert _count(url, "penalty_record") == 0 and _count(url, "app_user") == 0
        assert not data.is_sample()
        captions = [c.value for c in at.sidebar.caption]
        assert t("app.store_empty", "zh") in captions
        assert t("app.store_demo", "zh") not in captions
        at.switch_page("creditindex/ui/pages/signin.py").run()
        assert not at.table  # no demo accounts to show
    finally:
        dispose_engines()


def test_demo_store_until_real_data_arrives(db: str, tmp_path: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert t("app.store_demo", "zh") in [c.value for c in at.sidebar.caption]
    at.switch_page("creditindex/ui/pages/signin.py").run()
    assert list(at.table[0].value.iloc[:, 0]) == [u for u, _p, _r in data.DEMO_USERS]
    # a real import: a production store from now on
    lines = (SAMPLE_DIR / "records.csv").read_text(encoding="utf-8").splitlines()[:3]
    real = tmp_path / "real.csv"
    real.write_text("\n".join([lines[0], *(f"REAL-{i}{line[line.index(','):]}"
                                           for i, line in enumerate(lines[1:]))]) + "\n",
                    encoding="utf-8")
    add_user(db, "operator", "staff", "a real password", by="admin")
    import_records(db, [real], user="operator")
    data.changed()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    captions = [c.value for c in at.sidebar.caption]
    assert t("app.store_demo", "zh") not in captions
    assert t("app.store_empty", "zh") not in captions
    at.switch_page("creditindex/ui/pages/signin.py").run()
    assert not at.table
    at.text_input(key="si_user").set_value("staff")
    at.text_input(key="si_password").set_value("staff-demo")
    at.button[0].click().run()
    assert at.error[0].value == t("signin.failed", "zh")
    assert "user" not in at.session_state or not at.session_state["user"].signed_in


def test_the_server_start_loads_the_code_and_opens_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``st.App``'s start does before the first visitor: every page's, service and
    store module loaded, the store opened with its schema (and nothing written)."""
    url = f"sqlite:///{tmp_path / 'start.sqlite'}"
    monkeypatch.setenv("CREDITINDEX_DB", url)
    try:
        assert startup.load_code() > 0
        for name in ("creditindex.store.models", "creditindex.store.day_pages",
                     "creditindex.service.days", "creditindex.ui.pages.rankings", "pandas"):
            assert name in sys.modules, name
        startup.open_store()
        assert _count(url, "penalty_record") == 0 and _count(url, "audit_log") == 0
    finally:
        dispose_engines()
