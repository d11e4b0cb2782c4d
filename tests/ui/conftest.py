"""AppTest fixtures: each test runs the real app on its own copy of the sample store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from creditindex.service import state as service_state
from creditindex.service.auth import User
from creditindex.store.db import dispose_engines
from creditindex.ui import data
from tests.ui.uihelpers import APP, PAGES, TODAY, AppFactory


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample built once into a SQLite store (with the demo accounts), as of
    :data:`TODAY`."""
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service_state, "today", lambda: TODAY)
        data.build_sample(f"sqlite:///{path}")
    dispose_engines()
    return path


@pytest.fixture(autouse=True)
def held_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's clock (:func:`creditindex.service.state.today`) held at :data:`TODAY`."""
    monkeypatch.setattr(service_state, "today", lambda: TODAY)


@pytest.fixture()
def db(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private copy of the sample store, used by the app through ``CREDITINDEX_DB``."""
    target = tmp_path / "store.sqlite"
    shutil.copy2(sample_db, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("CREDITINDEX_DB", url)
    yield url
    dispose_engines()



@pytest.fixture()
def app(db: str) -> AppFactory:
    """Run the app as ``user`` (``None``: a visitor who has not signed in), on ``page``."""

    def make(user: User | None = None, page: str | None = None, lang: str | None = None
             ) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        if user is not None:
            at.session_state["user"] = user
        if lang is not None:
            at.session_state["lang"] = lang
        at.run()
        if page is not None:
            at.switch_page(f"{PAGES}/{page}.py").run()
        return at

    return make
