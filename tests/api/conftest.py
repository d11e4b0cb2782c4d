"""A real API server over a real store of the worked examples, one per backend: SQLite,
PostgreSQL and MariaDB (an unreachable database server fails the tests, never skips
them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from creditindex.store.db import dispose_engine
from tests.api.apitest import Server, add_key, prepare_store, start_server, stop_server
from tests.databases import BACKENDS, empty_database


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    """A server over the worked examples on each backend, with keys ``check`` (check,
    read), ``read`` (read), ``staff`` (check, read, staff) and ``limited`` (check,
    read; 3 requests a minute)."""
    backend = str(request.param)
    tmp = tmp_path_factory.mktemp(f"api-{backend}")
    db, drop = empty_database(backend, tmp)
    process = None
    try:
        files = prepare_store(db, tmp / "data")
        keys = {"check": add_key(db, "广州公共资源交易平台", "check", "read"),
                "read": add_key(db, "某信用信息平台", "read"),
                "staff": add_key(db, "交易中心内部", "check", "read", "staff"),
                "limited": add_key(db, "测试平台", "check", "read", rate=3)}
        process, url = start_server(db)
        yield Server(url, db, files, process, keys)
    finally:
        if process is not None:
            stop_server(process)
        dispose_engine(db)
        drop()
