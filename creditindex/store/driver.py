"""The store through the database's own driver (``sqlite3``, ``psycopg``), without
SQLAlchemy: the raw-driver helpers every reader uses (packed rows, columns, parameter
markers), and the direct path of a short command (``creditindex check --db``), which
reads its subjects' rows and stores the check without importing SQLAlchemy (a process
that starts, answers one check and ends: ``import sqlalchemy`` alone costs about as much
CPU as the rest of the check's work).

The direct path speaks the same SQL as the engine path: the store's reads are the
functions of :mod:`creditindex.store.load` (they take either connection), its inserts
:func:`creditindex.store.db.insert_row` (which hands a :class:`Driver` to
:func:`insert_row`). Values are stored as SQLAlchemy's Date, DateTime and JSON types store
them on each database (tests compare the stored bytes of both paths). Connections are set
up as :func:`creditindex.store.db.get_engine`'s are (:func:`sqlite_setup`), and
transactions are taken as :func:`~creditindex.store.db.read_transaction` and
:func:`~creditindex.store.db.write_transaction` take them. SQLite files and PostgreSQL
take this path; MySQL/MariaDB (and any URL this module does not read the same way as
SQLAlchemy, e.g. SQLite with query options) keep the engine path: :func:`connect`
answers ``None`` for them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass
class Driver:
    """A connection of the database's own driver: ``dialect`` is ``sqlite`` or
    ``postgresql`` (as SQLAlchemy names them), ``dbapi`` the driver's connection (in
    autocommit mode: transactions are begun and ended by SQL, as on the engine path)."""

    dialect: str
    dbapi: Any
    url: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor (closed by the caller or garbage)."""
        cursor = self.dbapi.cursor()
        cursor.execute(sql, tuple(params))
        return cursor


if TYPE_CHECKING:
    Conn: TypeAlias = Connection | Driver  # an engine connection or a direct one


def dialect_name(conn: Conn) -> str:
    """The dialect of an engine connection or a :class:`Driver` (``sqlite``,
    ``postgresql``, ``mysql``)."""
    if isinstance(conn, Driver):
        return conn.dialect
    return str(conn.dialect.name)


def dbapi_connection(conn: Conn) -> Any:
    """The driver's own connection under an engine connection or a :class:`Driver`."""
    if isinstance(conn, Driver):
        return conn.dbapi
    return conn.connection.dbapi_connection


def placeholder(conn: Conn) -> str:
    """The driver's positional parameter marker."""
    if isinstance(conn, Driver):
        return "?" if conn.dialect == "sqlite" else "%s"
    return "?" if conn.dialect.paramstyle in ("qmark", "numeric") else "%s"


def fetch_columns(conn: Conn, sql: str, params: tuple[Any, ...] = ()
                  ) -> list[tuple[Any, ...]]:
    """Run a query through the raw driver cursor and return its columns (tuples of
    values), which is several times faster than rows of objects for large results."""
    cursor = dbapi_connection(conn).cursor()
    try:
        cursor.execute(sql, params)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return [() for _ in names]
    return list(zip(*rows, strict=True))


# Separates the fields of a packed row (see :func:`packed_select`); the importer refuses
# text containing it.
FIELD_SEPARATOR = "\x1f"


def packed_select(conn: Conn, columns: Sequence[str], rest: str) -> str:
    """``SELECT <one text value per row> <rest>``: the columns as text (NULL as empty),
    joined by :data:`FIELD_SEPARATOR`. A million rows come back as a million strings
    instead of millions of objects, and are split by polars in one go."""
    dialect = dialect_name(conn)
    names = ", ".join(columns)
    if dialect == "mysql":
        parts = [f"coalesce(cast({c} as char), '')" for c in columns]
        return f"SELECT concat({', char(31 using utf8mb4), '.join(parts)}) {rest}"
    # printf/format render NULL as empty text; one call per row is the fastest on SQLite.
    if dialect == "postgresql":  # psycopg reads %s as a parameter: %%s is a literal %s
        return f"SELECT format('{chr(31).join(['%%s'] * len(columns))}', {names}) {rest}"
    return f"SELECT printf('{chr(31).join(['%s'] * len(columns))}', {names}) {rest}"


def fetch_packed(conn: Conn, columns: Sequence[str], rest: str,
                 params: tuple[Any, ...] = ()) -> list[str]:
    """The packed rows of :func:`packed_select` as a list of strings (``params`` is always
    passed to the driver, so a literal % in ``rest`` is written %%, as drivers want)."""
    cursor = dbapi_connection(conn).cursor()
    try:
        cursor.execute(packed_select(conn, columns, rest), params)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


# --------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------

# Set on every SQLite connection, by the engine (its "connect" event) and by connect().
SQLITE_PRAGMAS = ("PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                  "PRAGMA cache_size=-131072",  # up to 128 MB: bulk imports of big files
                  "PRAGMA temp_store=MEMORY")


def sqlite_setup(dbapi_conn: Any) -> None:
    """Set up a new SQLite connection: the driver issues no BEGIN of its own (BEGIN
    IMMEDIATE is then possible), a busy timeout of 60 s, WAL mode, then
    :data:`SQLITE_PRAGMAS`."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=60000")  # first: every later step may wait
        use_wal(cursor)
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def use_wal(cursor: Any, patience: float = 60.0) -> None:
    """Put a SQLite database in WAL mode once (the mode is kept in the file).

    Switching needs an exclusive lock; when several processes open a new store at once,
    SQLite may answer "database is locked" at once instead of waiting (a connection that
    holds a shared lock and wants more is never made to wait, lest two wait for each
    other). So the mode is read first -- a store already in WAL mode is left alone -- and
    a refused switch is tried again until ``patience`` seconds have passed."""
    import sqlite3
    import time

    deadline = time.monotonic() + patience
    pause = 0.01
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() == "wal" or str(mode).lower() == "memory":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def direct_target(url: str) -> tuple[str, str] | None:
    """``(dialect, target)`` for a store URL the direct path opens as the engine would:
    a SQLite file that exists (``sqlite:///PATH`` or a bare path; the target is its
    path) or a PostgreSQL URL (``postgresql://`` or ``postgresql+psycopg://``; the
    target is the libpq URI). ``None`` for anything else: an in-memory or not yet
    created SQLite store (the engine path creates it), SQLite URLs with options or
    escapes, other drivers, MySQL/MariaDB."""
    raw = url.strip()
    if "://" not in raw:
        path = Path(raw).expanduser().resolve()
        return ("sqlite", str(path)) if raw and path.is_file() else None
    scheme, _, rest = raw.partition("://")
    if scheme == "sqlite":
        if not rest.startswith("/") or any(c in rest for c in "?%#"):
            return None
        database = rest[1:]
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return ("sqlite", database) if Path(database).is_file() else None
    if scheme in ("postgresql", "postgresql+psycopg", "postgres"):
        return "postgresql", f"postgresql://{rest}"
    return None


def connect(url: str) -> Driver | None:
    """A new direct connection to the store at ``url`` (the caller closes it), or
    ``None`` where the engine path must be taken (:func:`direct_target`, or a store whose
    schema is not at this release's revision: the engine path creates it or refuses it
    with its own message)."""
    target = direct_target(url)
    if target is None:
        return None
    dialect, where = target
    if dialect == "sqlite":
        import sqlite3

        dbapi: Any = sqlite3.connect(where, timeout=60)
        sqlite_setup(dbapi)
    else:
        import psycopg

        dbapi = psycopg.connect(where, autocommit=True)
    driver = Driver(dialect, dbapi, url)
    if not _schema_current(driver):
        dbapi.close()
        return None
    return driver


@contextmanager
def opened(url: str | None) -> Iterator[Driver | None]:
    """:func:`connect` to ``url`` (``None``: no URL, or the engine path must be taken),
    closed when the block ends, as the engine closes a SQLite store's connection after
    each transaction."""
    driver = connect(url) if url else None
    try:
        yield driver
    finally:
        if driver is not None:
            driver.dbapi.close()


def _schema_current(driver: Driver) -> bool:
    from creditindex.store.migrations import head_of_files

    head = head_of_files()
    if head is None:
        return False
    try:
        with read(driver):
            cursor = driver.execute("SELECT version_num FROM alembic_version")
            found = [row[0] for row in cursor.fetchall()]
    except Exception:  # no such table, or any other refusal: the engine path decides
        return False
    return found == [head]


# --------------------------------------------------------------------------------------
# Transactions and inserts
# --------------------------------------------------------------------------------------

@contextmanager
def read(driver: Driver) -> Iterator[Driver]:
    """A read-only transaction with one consistent view of every table (REPEATABLE READ
    on PostgreSQL), rolled back at the end."""
    driver.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if driver.dialect == "postgresql"
                   else "BEGIN")
    try:
        yield driver
    finally:
        driver.execute("ROLLBACK")


@contextmanager
def write(driver: Driver, lock: str = "records") -> Iterator[Driver]:
    """One transaction holding the store lock ``lock``, as
    :func:`creditindex.store.db.write_transaction` takes it: ``BEGIN IMMEDIATE`` on
    SQLite, ``SELECT ... FOR UPDATE`` of the ``store_lock`` row (READ COMMITTED) on
    PostgreSQL. Committed when the block ends, rolled back if it raises."""
    if driver.dialect == "sqlite":
        driver.execute("BEGIN IMMEDIATE")
    else:
        driver.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
    try:
        if driver.dialect != "sqlite":
            driver.execute("SELECT name FROM store_lock WHERE name = %s FOR UPDATE", (lock,))
        yield driver
    except BaseException:
        driver.execute("ROLLBACK")
        raise
    driver.execute("COMMIT")


def stored_value(driver: Driver, value: Any, json_column: bool) -> Any:
    """``value`` as SQLAlchemy's types bind it on ``driver``'s database: JSON (``None``
    as JSON ``null``) through ``json.dumps`` (SQLite) or psycopg's ``Json``
    (PostgreSQL, which wraps ``json.dumps``); on SQLite dates as ``YYYY-MM-DD`` and
    times as ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLite's Date and DateTime storage
    formats); anything else as it is."""
    if driver.dialect == "sqlite":
        if json_column:
            return json.dumps(value)
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, dt.date):
            return value.strftime("%Y-%m-%d")
        return value
    if json_column:
        from psycopg.types.json import Json

        return Json(value)
    return value


def insert_row(driver: Driver, table_name: str, values: Mapping[str, Any],
               json_columns: Collection[str] = (), returning: str | None = None) -> Any:
    """:func:`creditindex.store.db.insert_row` on a :class:`Driver`: one row, its
    ``returning`` column (the auto-increment key) if asked."""
    marker = "?" if driver.dialect == "sqlite" else "%s"
    names = ", ".join(f'"{n}"' for n in values)
    sql = (f'INSERT INTO "{table_name}" ({names}) '
           f"VALUES ({', '.join([marker] * len(values))})")
    params = [stored_value(driver, v, n in json_columns) for n, v in values.items()]
    if returning is not None and driver.dialect == "postgresql":
        cursor = driver.execute(f'{sql} RETURNING "{returning}"', params)
        return cursor.fetchone()[0]
    cursor = driver.execute(sql, params)
    return cursor.lastrowid if returning is not None else None
