"""The store as the faces see it: an engine with the current schema, a token that
changes whenever what the engine reads changes (faces key their caches on it), the kind
of store (demo, empty, production) and the error of a refused action."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import Engine, select

from creditindex.store.db import get_engine, read_transaction, table
from creditindex.store.migrations import ensure_schema
from creditindex.store.sample import is_demo_store
from creditindex.store.state import data_state


class ActionError(Exception):
    """The store refused an action (a step out of order, an unknown record, ...)."""


def today() -> dt.date:
    """Today on the server."""
    return dt.date.today()


def ready_engine(url: str) -> Engine:
    """The store's engine; an empty database gets its schema on first use (nothing else
    is written), an outdated one is refused."""
    engine = get_engine(url)
    ensure_schema(engine)
    return engine


STATE_TTL = 1.0  # seconds a state token is reused (one page run asks many times)
_states: dict[str, tuple[float, str]] = {}


def state(url: str) -> str:
    """A token that changes whenever what the engine reads changes (every change to the
    store writes an audit-log row) or the day turns (rule sets come into force on a day).
    Eligibility checks, evaluations and users do not change it. Asked of the database at
    most once a second in a process; :func:`changed` forgets it at once."""
    now = time.monotonic()
    known = _states.get(url)
    if known is not None and now - known[0] < STATE_TTL:
        return known[1]
    with read_transaction(ready_engine(url)) as conn:
        newest = data_state(conn)
    token = f"{newest}@{today().isoformat()}"
    _states[url] = (now, token)
    return token


def changed() -> None:
    """Forget the state tokens: this process has just changed the store."""
    _states.clear()


def store_kind(url: str) -> str:
    """``demo`` (the bundled sample with its demo accounts and nothing imported since),
    ``empty`` (no record) or ``production``."""
    records = table("penalty_record")
    with read_transaction(ready_engine(url)) as conn:  # any record at all (not how many)
        held = conn.execute(select(records.c.id).limit(1)).first() is not None
    if is_demo_store(url):
        return "demo"
    return "production" if held else "empty"
