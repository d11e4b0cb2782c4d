"""Connecting to the store: SQLite by default (``var/creditindex.sqlite`` under the project
root, no set-up), PostgreSQL or MySQL/MariaDB by URL (``--db`` / ``CREDITINDEX_DB``).

Writes go through :func:`write_transaction`: one transaction that holds the store's lock
for its kind of work, so that concurrent imports (or evaluations) take turns instead of
interleaving: ``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on a
``store_lock`` row elsewhere (READ COMMITTED, so that the second sees what the first
committed).
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Re-exported: the raw-driver helpers take an engine connection or a direct one, and live
# in a module without SQLAlchemy (the direct path of a short command imports no more).
from creditindex.store.driver import FIELD_SEPARATOR as FIELD_SEPARATOR
from creditindex.store.driver import Driver
from creditindex.store.driver import fetch_columns as fetch_columns
from creditindex.store.driver import fetch_packed as fetch_packed
from creditindex.store.driver import packed_select as packed_select
from creditindex.store.driver import placeholder as placeholder

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Connection, Engine, Table
    from tqdm import tqdm

    from creditindex.store.wal_checkpoints import WalCheckpointer

# Re-exported: where the store is lives in a module without database imports.
from creditindex.store.location import ENV_VAR as ENV_VAR
from creditindex.store.location import default_url as default_url
from creditindex.store.location import project_root as project_root

CHUNK = 20_000  # rows per executemany in bulk inserts
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_kept: set[str] = set()  # URLs whose connections stay open (keep_connections)
_checkpointers: dict[str, WalCheckpointer] = {}  # of the kept SQLite engines


def table(name: str) -> Table:
    """The Core table of the store's model ``name`` (declared once, with SQLModel, in
    :mod:`creditindex.store.models`, imported here on first use: reads and the writes of
    a check go through SQL and start without SQLModel and the ORM)."""
    from creditindex.store.models import METADATA

    return METADATA.tables[name]


class StoreError(Exception):
    """The store refuses a request (unknown user, a step out of order, a schema that
    needs upgrading); the message says why."""


def display_url(url: str | None) -> str | None:
    """A database URL fit to show, store or print: its password (if any) replaced by
    ``***`` (``postgresql://app:***@db/credit``). Never write a URL anywhere without it."""
    if url is None:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    credentials, _, host = authority.rpartition("@")
    user, colon, _password = credentials.partition(":")
    shown = f"{user}:***" if colon else user
    return f"{scheme}://{shown}@{host}{slash}{tail}"


def normalise_url(url: str | None) -> str:
    """A SQLAlchemy URL with the drivers this project ships: ``postgresql://`` uses
    psycopg 3, ``mysql://``/``mariadb://`` use PyMySQL with utf8mb4, and a bare path
    means a SQLite file."""
    from sqlalchemy.engine import make_url

    raw = (url or "").strip() or default_url()
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    parsed = make_url(raw)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend in ("mysql", "mariadb"):
        parsed = parsed.set(drivername="mysql+pymysql")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default :func:`default_url`), created once per process."""
    key = normalise_url(url)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _make_engine(key)
            _engines[key] = engine
        return engine


def dispose_engine(url: str | None) -> None:
    """Close the engine of ``url`` if this process opened one (before dropping its
    database, say)."""
    key = normalise_url(url)
    with _engines_lock:
        engine = _engines.pop(key, None)
        checkpointer = _checkpointers.pop(key, None)
    if checkpointer is not None:
        checkpointer.stop()
    if engine is not None:
        engine.dispose()


def dispose_engines() -> None:
    """Close every engine this process opened (tests, forked workers)."""
    with _engines_lock:
        checkpointers = list(_checkpointers.values())
        _checkpointers.clear()
    for checkpointer in checkpointers:  # not under the lock: a writer may want it
        checkpointer.stop()
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def keep_connections(url: str | None) -> None:
    """Keep the connections to the store at ``url`` open between transactions in this
    process (a long-running server's many short transactions). Without it a SQLite
    store is opened and closed by every transaction (nothing is left open in short
    commands, tests and forked workers), and closing its last connection checkpoints the
    write-ahead log, which costs a server tens of milliseconds per request. The log of a
    kept SQLite store is checkpointed by a thread of this process, not by its commits
    (:mod:`creditindex.store.wal_checkpoints`)."""
    key = normalise_url(url)
    with _engines_lock:
        _kept.add(key)
        engine = _engines.pop(key, None)
        checkpointer = _checkpointers.pop(key, None)
    if checkpointer is not None:
        checkpointer.stop()
    if engine is not None:
        engine.dispose()


def _make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool, QueuePool

    from creditindex.store.driver import sqlite_setup

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Room for a server's request threads (40 by default) without waiting.
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    checkpointer = None
    if url in _kept:
        engine = create_engine(url, poolclass=QueuePool, pool_size=8, max_overflow=48,
                               connect_args={"timeout": 60, "check_same_thread": False})
        if database and database != ":memory:" and not database.startswith("file:"):
            from creditindex.store.wal_checkpoints import WalCheckpointer

            checkpointer = WalCheckpointer(database)
    else:
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the driver) issue BEGIN, so that BEGIN IMMEDIATE is possible.
        sqlite_setup(dbapi_conn)
        if checkpointer is not None:  # the commits leave the log to the checkpointer
            from creditindex.store.wal_checkpoints import SAFETY_PAGES

            dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.info.pop("begin_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if checkpointer is not None:
        _checkpointers[url] = checkpointer  # get_engine holds _engines_lock
        checkpointer.start()
    return engine


def is_sqlite(conn: Connection | Engine) -> bool:
    """Whether the connection is to SQLite."""
    return conn.dialect.name == "sqlite"


def write_gate(engine: Engine) -> AbstractContextManager[Any]:
    """What this process's writers to ``engine`` hold around each write transaction: the
    gate of a kept SQLite store's checkpoints (:mod:`creditindex.store.wal_checkpoints`;
    it also makes the writers of this process and of the other processes keeping the
    store take turns in the kernel rather than in SQLite's busy handler, which sleeps:
    :mod:`creditindex.store.writer_gate`), else nothing."""
    found = (_checkpointers.get(engine.url.render_as_string(hide_password=False))
             if engine.dialect.name == "sqlite" else None)
    return nullcontext() if found is None else found.gate


@contextmanager
def write_transaction(engine: Engine, lock: str = "records") -> Iterator[Connection]:
    """One transaction holding the store lock ``lock`` (see the module docstring).
    Committed when the block ends, rolled back if it raises (or the process dies)."""
    with write_gate(engine), engine.connect() as conn:
        if is_sqlite(conn):
            conn.info["begin_immediate"] = True
        else:
            conn = conn.execution_options(isolation_level="READ COMMITTED")
        with conn.begin():
            if not is_sqlite(conn):
                conn.exec_driver_sql(f"SELECT name FROM store_lock WHERE name = "
                                     f"{placeholder(conn)} FOR UPDATE", (lock,))
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction with one consistent view of every table."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
            conn.rollback()


def utcnow() -> dt.datetime:
    """The current UTC time without time zone (as stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def quoted(conn: Connection, name: str) -> str:
    """A table or column name quoted for the connection's dialect when it needs it."""
    return str(conn.dialect.identifier_preparer.quote(name))


def insert_sql(conn: Connection, table_name: str, columns: Sequence[str],
               skip_existing: bool = False) -> str:
    """A positional ``INSERT`` for ``executemany`` through the raw driver (fast bulk
    loads). With ``skip_existing``, rows whose unique key is already stored are skipped:
    ``ON CONFLICT DO NOTHING`` (PostgreSQL, SQLite) or a no-op ``ON DUPLICATE KEY
    UPDATE`` (MySQL/MariaDB; unlike ``INSERT IGNORE`` it does not hide other errors)."""
    marks = ", ".join([placeholder(conn)] * len(columns))
    names = ", ".join(quoted(conn, c) for c in columns)
    sql = f"INSERT INTO {quoted(conn, table_name)} ({names}) VALUES ({marks})"
    if skip_existing:
        if conn.dialect.name == "mysql":
            first = quoted(conn, columns[0])
            sql += f" ON DUPLICATE KEY UPDATE {first} = {first}"
        else:
            sql += " ON CONFLICT DO NOTHING"
    return sql


def insert_row(conn: Connection | Driver, table_name: str, values: Mapping[str, Any],
               json_columns: Collection[str] = (), returning: str | None = None) -> Any:
    """Insert one row through SQL, without the table's model (see :func:`table`): the
    values of ``json_columns`` are stored as the JSON type stores them (``None`` as JSON
    ``null``), dates and times as the Date and DateTime types do on each database.
    Returns the new row's ``returning`` column (its auto-increment key), if asked. On a
    direct connection (:class:`~creditindex.store.driver.Driver`) the same row is
    inserted through the driver, its values stored as these types store them."""
    if isinstance(conn, Driver):
        from creditindex.store.driver import insert_row as insert_direct

        return insert_direct(conn, table_name, values, json_columns, returning)
    from sqlalchemy import JSON, Date, DateTime, bindparam, text

    binds: list[Any] = []
    for name, value in values.items():
        type_: Any = (JSON() if name in json_columns else DateTime()
                      if isinstance(value, dt.datetime) else Date()
                      if isinstance(value, dt.date) else None)
        binds.append(bindparam(name, value, type_=type_))
    names = ", ".join(quoted(conn, n) for n in values)
    sql = (f"INSERT INTO {quoted(conn, table_name)} ({names}) "
           f"VALUES ({', '.join(':' + n for n in values)})")
    if returning is not None and conn.dialect.name == "postgresql":
        return conn.execute(text(f"{sql} RETURNING {returning}").bindparams(*binds)).scalar()
    result = conn.execute(text(sql).bindparams(*binds))
    return result.lastrowid if returning is not None else None


def executemany(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``sql`` once per row through the driver's ``executemany``."""
    if rows:
        conn.exec_driver_sql(sql, list(rows))


def driver_rows(conn: Connection, frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    """A frame's rows for the raw driver; on SQLite dates and times as the ISO text
    SQLAlchemy stores there."""
    import polars as pl

    if is_sqlite(conn):
        frame = frame.with_columns(
            *(pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items()
              if t == pl.Date),
            *(pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f") for c, t in frame.schema.items()
              if isinstance(t, pl.Datetime)))
    return frame.rows()


def bulk_insert(conn: Connection, table_name: str, frame: pl.DataFrame,
                skip_existing: bool = False, progress: bool = False,
                desc: str = "inserting") -> None:
    """Insert a frame's rows (its column names are the table's) in chunks of
    :data:`CHUNK`, with a progress bar on standard error when ``progress``."""
    from tqdm import tqdm  # only bulk loads show progress

    text = copy_text(frame) if conn.dialect.name == "postgresql" and frame.height else None
    rows = [] if text is not None else driver_rows(conn, frame)
    with tqdm(total=frame.height, unit="rec", desc=desc, file=sys.stderr,
              disable=not progress, mininterval=0.2, dynamic_ncols=True) as bar:
        if conn.dialect.name == "postgresql" and frame.height:
            _copy(conn, table_name, frame.columns, rows, skip_existing, bar, text)
            return
        sql = insert_sql(conn, table_name, frame.columns, skip_existing=skip_existing)
        for start in range(0, len(rows), CHUNK):
            executemany(conn, sql, rows[start:start + CHUNK])
            bar.update(min(CHUNK, len(rows) - start))


def temp_table(conn: Connection, frame: pl.DataFrame, types: Mapping[str, str],
               key: Sequence[str] = ()) -> str:
    """A temporary table of ``frame``'s columns ``types`` (name: SQL type) holding its
    rows, with primary key ``key`` if given; returns its name (dropped by
    :func:`drop_temp`, or on PostgreSQL at the end of the transaction)."""
    name = f"tmp_{uuid.uuid4().hex[:12]}"
    columns = ", ".join([*(f"{quoted(conn, c)} {t}" for c, t in types.items()),
                         *([f"PRIMARY KEY ({', '.join(key)})"] if key else [])])
    options = {"postgresql": " ON COMMIT DROP",
               "mysql": " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"}  # as every table's
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})"
                         f"{options.get(conn.dialect.name, '')}")
    if frame.height:
        bulk_insert(conn, name, frame.select(list(types)))
    return name


def drop_temp(conn: Connection, name: str) -> None:
    """Drop the temporary table ``name`` (:func:`temp_table`)."""
    if conn.dialect.name == "mysql":
        conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {name}")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def copy_text(frame: pl.DataFrame) -> list[bytes] | None:
    """The rows of ``frame`` in the text format of PostgreSQL's ``COPY`` (what
    psycopg's ``write_row`` sends, made by polars in one go: a tab between fields,
    ``\\N`` for null, backslash, tab, newline and carriage return escaped; floats as
    their shortest round-trip text), in parts of :data:`CHUNK` rows; ``None`` when a
    column is of a type not written this way (times, lists...)."""
    import polars as pl

    simple = (pl.String, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.Float64, pl.Boolean,
              pl.Date)
    fields = []
    for name, dtype in frame.schema.items():
        if dtype not in simple:
            return None
        field = pl.col(name).cast(pl.String)
        if dtype == pl.String:
            for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"),
                                 ("\r", "\\r")):
                field = field.str.replace_all(raw, escaped, literal=True)
        fields.append(field.fill_null("\\N"))
    lines = frame.select(pl.concat_str(fields, separator="\t").alias("_line"))
    return [("\n".join(lines.slice(start, CHUNK).get_column("_line").to_list()) + "\n")
            .encode("utf-8") for start in range(0, lines.height, CHUNK)]


def _copy(conn: Connection, table_name: str, columns: Sequence[str],
          rows: list[tuple[Any, ...]], skip_existing: bool, bar: tqdm[Any],
          text: list[bytes] | None = None) -> None:
    """PostgreSQL: ``COPY`` the rows in (through a temporary table and ``INSERT ... ON
    CONFLICT DO NOTHING`` when stored keys are to be skipped): ``rows``, or ``text``,
    their text in parts (:func:`copy_text`)."""
    names = ", ".join(quoted(conn, c) for c in columns)
    target = quoted(conn, table_name)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if skip_existing:
            target = f"tmp_copy_{uuid.uuid4().hex[:12]}"
            cursor.execute(f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS SELECT {names} "
                           f"FROM {quoted(conn, table_name)} WITH NO DATA")
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for part in text or []:
                copy.write(part)
                bar.update(part.count(b"\n"))
            for start in range(0, len(rows), CHUNK):
                for row in rows[start:start + CHUNK]:
                    copy.write_row(row)
                bar.update(min(CHUNK, len(rows) - start))
        if skip_existing:
            cursor.execute(f"INSERT INTO {quoted(conn, table_name)} ({names}) SELECT {names} "
                           f"FROM {target} ON CONFLICT DO NOTHING")
            cursor.execute(f"DROP TABLE {target}")
    finally:
        cursor.close()


def server_version(conn: Connection) -> str:
    """A short description of the database server (for reports)."""
    from sqlalchemy import text

    name = conn.dialect.name
    query = {"sqlite": "select sqlite_version()", "postgresql": "show server_version",
             "mysql": "select version()"}[name]
    return f"{name} {conn.execute(text(query)).scalar()}"
