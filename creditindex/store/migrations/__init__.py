"""Schema migrations (Alembic), run from code: :func:`upgrade` brings a database from
empty (or any earlier revision) to the current schema. :func:`ensure_schema` creates the
schema of an empty database on first use and refuses one that needs an upgrade."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from creditindex.store.db import StoreError, get_engine

if TYPE_CHECKING:  # Alembic is imported only to migrate (a store that is current
    from alembic.config import Config  # opens without it: fast answers)
    from sqlalchemy import Connection, Engine

HERE = Path(__file__).resolve().parent
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(?:"([^"]*)"|None)', re.M)
_ready: set[str] = set()
_PG_LOCK = 7_202_611  # pg_advisory_xact_lock key of creditindex migrations


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for this package's migrations and the store at ``url``."""
    from alembic.config import Config

    engine = get_engine(url)
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url",
                           engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision this release knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config_for_scripts()).get_current_head()
    assert head is not None
    return head


def alembic_config_for_scripts() -> Config:
    """A configuration that only locates the revision scripts (no database)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at (``None``: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction that only one process at a time holds for migrating this store."""
    with engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.info["begin_immediate"] = True
        if dialect == "mysql":  # DDL commits as it goes there: a session-level lock
            conn.exec_driver_sql("SELECT GET_LOCK('creditindex_migrations', 600)")
            conn.commit()
        try:
            with conn.begin():
                if dialect == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
                yield conn
        finally:
            if dialect == "mysql":
                conn.exec_driver_sql("SELECT RELEASE_LOCK('creditindex_migrations')")
                conn.commit()


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Upgrade the store at ``url`` to ``revision`` (default: the newest); returns the
    revision it is at afterwards. Refuses a database holding other tables."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    engine = get_engine(url)
    with _migration_lock(engine) as conn:
        at = MigrationContext.configure(conn).get_current_revision()
        if at is None and set(inspect(conn).get_table_names()) - {"alembic_version"}:
            raise StoreError(f"{engine.url!r} has tables but no creditindex schema "
                             "revision; use an empty database for the store")
        config = alembic_config(url)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    _ready.discard(str(engine.url))
    return current_revision(engine)


def ensure_schema(engine: Engine) -> None:
    """Make sure ``engine``'s database has the current schema: an empty database gets it
    created; one at an older revision is refused with the command that upgrades it."""
    key = str(engine.url)
    if key in _ready:
        return
    at = _stored_revision(engine)
    head = head_of_files() or head_revision()
    if at is None:
        upgrade(engine.url.render_as_string(hide_password=False))
    elif at != head:
        # Another process may be migrating right now (MySQL/MariaDB commit each DDL step,
        # so its intermediate revisions are visible): wait for it, then look again.
        with _migration_lock(engine):
            pass
        at = current_revision(engine)
    if at is not None and at != head:
        raise StoreError(f"the store's schema is at revision {at}, this release needs {head}: "
                         "run `creditindex db upgrade --db URL` first")
    _ready.add(key)


def head_of_files() -> str | None:
    """The newest revision, read from the revision scripts' ``revision`` and
    ``down_revision`` lines without importing Alembic (``None`` if they do not name
    exactly one head; Alembic decides then)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (HERE / "versions").glob("[0-9]*.py"):
        for kind, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stored_revision(engine: Engine) -> str | None:
    """The revision in the store's ``alembic_version`` table (``None``: no such table)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as conn:
        try:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:
            return None
    return str(found[0]) if len(found) == 1 else current_revision(engine)
