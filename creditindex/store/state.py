"""The store's data state: a number that changes whenever what the engine reads changes,
so that long-running readers (the API server) know when to read the store again."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from creditindex.store.models import table

# Audited actions that change nothing the engine reads.
NOT_DATA_ACTIONS = ("evaluate", "check.save", "user.add", "objection.file", "repair.apply",
                    "apikey.add", "apikey.revoke", "points.formula", "points.freeze")


def data_state(conn: Connection) -> int:
    """The id of the newest audit row of a change to what the engine reads (0: none)."""
    log = table("audit_log")
    found = conn.execute(select(func.max(log.c.id)).where(
        log.c.action.not_in(NOT_DATA_ACTIONS))).scalar()
    return int(found or 0)
