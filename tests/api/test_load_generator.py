"""The API benchmark's load generator (``bench/api_load.py``) run briefly, in a process of
its own, against a real server over a SQLite store of the worked examples: every request
it counts is a check the server stored, and failed requests are counted as errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creditindex.store.db import dispose_engine, get_engine, table
from tests.api.apitest import (
    ROOT,
    Server,
    add_key,
    prepare_store,
    start_server,
    stop_server,
    storetest,
)

CODES = [storetest.F, storetest.G, storetest.V, storetest.X, storetest.uscc(901),
         storetest.uscc(902)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over the worked examples in SQLite, with a ``check`` key."""
    tmp = tmp_path_factory.mktemp("api-load")
    db = f"sqlite:///{tmp / 'store.sqlite'}"
    files = prepare_store(db, tmp / "data", lists=False)
    keys = {"check": add_key(db, "压测平台", "check", "read")}
    process, url = start_server(db)
    try:
        yield Server(url, db, files, process, keys)
    finally:
        stop_server(process)
        dispose_engine(db)


def load(server: Server, key: str, folder: Path, seconds: float = 1.5
         ) -> tuple[int, dict[str, object]]:
    """Run the generator (2 clients, 3 codes a request); its exit status and figures."""
    codes = folder / "codes.txt"
    codes.write_text("\n".join(CODES) + "\n", encoding="utf-8")
    out = folder / "load.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "api_load.py"), "--url", server.url,
         "--key", key, "--codes", str(codes), "--clients", "2", "--seconds", str(seconds),
         "--batch", "3", "--out", str(out)], capture_output=True, text=True, timeout=120)
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(done.stdout) == figures
    return done.returncode, figures


def stored_checks(server: Server) -> int:
    with get_engine(server.db).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(
            table("eligibility_check"))).scalar_one())


def test_each_counted_request_is_a_stored_check(server: Server, tmp_path: Path) -> None:
    before = stored_checks(server)
    status, figures = load(server, server.keys["check"], tmp_path)
    assert status == 0 and figures["errors"] == 0 and figures["first_errors"] == [], figures
    requests = figures["requests"]
    assert isinstance(requests, int) and requests > 0
    stored = stored_checks(server) - before
    assert stored == requests, f"{stored} checks stored for {requests} requests: {figures}"
    p50, p99, top = figures["p50_ms"], figures["p99_ms"], figures["max_ms"]
    assert isinstance(p50, float) and isinstance(p99, float) and isinstance(top, float)
    assert 0 < p50 <= p99 <= top
    assert figures["throughput_per_s"] == round(requests / 1.5, 1)


def test_refused_requests_are_errors(server: Server, tmp_path: Path) -> None:
    before = stored_checks(server)
    status, figures = load(server, "ci_nosuchkey_wrongsecret", tmp_path, seconds=0.5)
    assert status == 1
    assert figures["errors"] == figures["requests"] and figures["requests"] > 0
    first = figures["first_errors"]
    assert isinstance(first, list) and first and all(e.startswith("401 ") for e in first)
    assert stored_checks(server) == before
