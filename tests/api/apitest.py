"""Helpers of the API tests: starting and stopping a real server (``creditindex serve`` in
a subprocess, uvicorn on 127.0.0.1 at a free port), keys made with the command line, the
worked examples as store files with the lender's list."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl
from click.testing import CliRunner

from creditindex.cli import main
from creditindex.lists import LIST_SCHEMA
from tests.store import storetest

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-06-01"
# A lender's debarment list: 丙公司 (H) is on the World Bank's list (by name).
LENDER = "worldbank"


def cli(*args: str) -> str:
    """Run the command line in-process; its standard output."""
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == 0, (done.output, done.stderr, done.exception)
    return done.stdout


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_store_files(folder: Path) -> dict[str, Path]:
    """The worked examples, with the World Bank entry carrying its financier when the
    list schema has one (contract v2)."""
    files = storetest.write_examples(folder)
    if "financier" in LIST_SCHEMA:
        lists = pl.read_csv(files["lists"]).with_columns(
            pl.when(pl.col("list") == LENDER).then(pl.lit(LENDER)).otherwise(None)
            .alias("financier"))
        lists.write_csv(files["lists"])
    return files


def prepare_store(db: str, folder: Path, lists: bool = True) -> dict[str, Path]:
    """The store of the worked examples at ``db`` (empty): the schema, a regulator
    ``rita`` and a staff member ``alice``, the rule set published, the records and
    subjects imported and, with ``lists``, the external lists. The files written (in
    ``folder``)."""
    from creditindex.store.migrations import upgrade
    from creditindex.store.users import add_user

    upgrade(db)
    add_user(db, "rita", "regulator", storetest.PASSWORD, by="setup")
    add_user(db, "alice", "staff", storetest.PASSWORD, by="setup")
    files = write_store_files(folder)
    cli("rules", "publish", str(files["rules"]), "--db", db, "--user", "rita",
        "--effective", "2020-01-01")
    cli("import", "--db", db, "--records", str(files["records"]), "--subjects",
        str(files["subjects"]), "--user", "alice", "--today", storetest.TODAY.isoformat(),
        "--no-progress")
    if lists:
        cli("lists", "import", str(files["lists"]), "--db", db)
    return files


@dataclass
class Server:
    """A running API server and its store."""

    url: str
    db: str
    files: dict[str, Path]
    process: subprocess.Popen[bytes]
    keys: dict[str, str]

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client, with the named key (``check``, ``read``, ``staff``, ...)."""
        headers = {} if key is None else {"Authorization": f"Bearer {self.keys.get(key, key)}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def start_server(db: str, rate_limit: int = 1000, workers: int = 1
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``creditindex serve`` on a free port; wait until it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "creditindex", "serve", "--db", db, "--host", "127.0.0.1",
         "--port", str(port), "--rate-limit", str(rate_limit), "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"the server ended with {process.returncode}: {out}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("the server did not answer within 90 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by :func:`start_server`."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def add_key(db: str, client: str, *scopes: str, rate: int | None = None) -> str:
    """Make an API key with the command line; its secret."""
    args = ["apikeys", "add", "--db", db, "--client", client]
    for scope in scopes:
        args += ["--scope", scope]
    if rate is not None:
        args += ["--rate-limit", str(rate)]
    return cli(*args).strip()


