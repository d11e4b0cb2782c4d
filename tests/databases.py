"""The database servers the tests run on, over real connections: SQLite, PostgreSQL and
MariaDB, each test in a database (or PostgreSQL schema) of its own. An unreachable
server makes the tests fail, never skip.

Servers (override with the environment variables):
- CREDITINDEX_TEST_PG: ``postgresql://postgres@127.0.0.1:5432/test`` (trust auth)
- CREDITINDEX_TEST_MARIADB: ``mysql://root@127.0.0.1:3306/test`` (root, no password)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from creditindex.store.db import normalise_url

PG = os.environ.get("CREDITINDEX_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
MARIADB = os.environ.get("CREDITINDEX_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test")
BACKENDS = ["sqlite", "postgresql", "mariadb"]


def _admin(url: str) -> Engine:
    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")


def _name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    return f"ci_{worker}_{uuid.uuid4().hex[:10]}"


def empty_database(backend: str, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """A new empty database of ``backend``: its URL and a function that drops it."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}", lambda: None
    name = _name()
    if backend == "postgresql":
        admin = _admin(PG)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
        url = make_url(normalise_url(PG)).update_query_dict(
            {"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
            admin.dispose()
    else:
        admin = _admin(MARIADB)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 "
                                 "COLLATE utf8mb4_bin")
        url = make_url(normalise_url(MARIADB)).set(database=name).render_as_string(
            hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE {name}")
            admin.dispose()
    return url, drop
