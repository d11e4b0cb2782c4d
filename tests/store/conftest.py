"""Fixtures of the store tests: every test runs on each database server of
:mod:`tests.databases` (SQLite, PostgreSQL, MariaDB), in a database of its own, dropped
after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from creditindex.store.db import dispose_engine
from creditindex.store.migrations import upgrade
from creditindex.store.users import add_user
from tests.databases import BACKENDS, empty_database
from tests.store.storetest import PASSWORD, TODAY, run, write_examples


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn."""
    return str(request.param)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no schema yet), dropped after the test."""
    url, drop = empty_database(backend, tmp_path)
    try:
        yield url
    finally:
        dispose_engine(url)
        drop()


@pytest.fixture
def store_url(empty_url: str) -> str:
    """A store at the current schema, with users ``alice`` (staff), ``rita``
    (regulator) and ``pat`` (public)."""
    upgrade(empty_url)
    add_user(empty_url, "alice", "staff", PASSWORD, by="setup")
    add_user(empty_url, "rita", "regulator", PASSWORD, by="setup")
    add_user(empty_url, "pat", "public", PASSWORD, by="setup")
    return empty_url


@pytest.fixture
def db(store_url: str, tmp_path: Path) -> list[str]:
    """A store with the worked examples, published and imported through the command line:
    the arguments ``--db URL``."""
    files = write_examples(tmp_path / "data")
    run("rules", "publish", str(files["rules"]), "--db", store_url, "--user", "rita",
        "--effective", "2020-01-01")
    run("import", "--db", store_url, "--records", str(files["records"]), "--subjects",
        str(files["subjects"]), "--user", "alice", "--today", TODAY.isoformat(),
        "--no-progress")
    return ["--db", store_url]
