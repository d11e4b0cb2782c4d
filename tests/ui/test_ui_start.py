"""``streamlit run app.py`` with no set-up: the bundled sample database is built on first
start, with demo accounts shown on the sign-in page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from uihelpers import APP, no_exception

from creditindex.store.db import dispose_engines
from creditindex.ui import data
from creditindex.ui.i18n import t


def test_first_start_builds_the_sample_database(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITINDEX_DB", raising=False)
    monkeypatch.setenv("CREDITINDEX_HOME", str(tmp_path))  # var/ goes here
    try:
        at = AppTest.from_file(str(APP), default_timeout=120).run()
        no_exception(at)
        assert (tmp_path / "var" / "creditindex.sqlite").exists()
        assert at.title[0].value == t("rankings.title", "zh")
        assert data.is_sample()
        assert t("app.sample_notice", "zh") in [c.value for c in at.sidebar.caption]
        at.switch_page("creditindex/ui/pages/signin.py").run()
        shown = at.table[0].value
        assert list(shown.iloc[:, 0]) == [u for u, _p, _r in data.DEMO_USERS]
        again = AppTest.from_file(str(APP), default_timeout=120).run()  # built once only
        no_exception(again)
        assert data.rule_versions().height == 1
    finally:
        dispose_engines()
