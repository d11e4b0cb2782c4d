"""The store's data state: a number that changes whenever what the engine reads changes,
so that long-running readers (the API server, the app, the daily job) know when to read
the store again."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from creditindex.store.audit import NOT_DATA_ACTIONS
from creditindex.store.db import table


def data_state(conn: Connection) -> int:
    """The id of the newest audit row of a change to what the engine reads (0: none):
    every action but :data:`~creditindex.store.audit.NOT_DATA_ACTIONS`."""
    log = table("audit_log")
    found = conn.execute(select(func.max(log.c.id)).where(
        log.c.action.not_in(NOT_DATA_ACTIONS))).scalar()
    return int(found or 0)
