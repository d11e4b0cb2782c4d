"""The audit log: every change to the store writes who did it, when, what, and the state
before and after (JSON), in the same transaction as the change itself."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from creditindex.store.db import get_engine, insert_row, read_transaction, table, utcnow

if TYPE_CHECKING:  # a check's audit row is written without SQLAlchemy or polars
    import polars as pl
    from sqlalchemy import Connection

    from creditindex.store.driver import Driver

AUDIT_COLUMNS = ["id", "at", "actor", "action", "entity", "entity_key", "before", "after"]
# Audited actions that change nothing the engine reads (evaluations; an objection filed or
# a repair applied for suspends nothing; users, sign-ins, API keys, requests awaiting
# approval, stored checks, tender formulas and frozen points). The one list: the store's
# data state, the app's and the daily job's (snapshots.data_version) all read it.
NOT_DATA_ACTIONS = ("evaluate", "check.save", "user.add", "objection.file", "repair.apply",
                    "signin.ok", "signin.failed", "signin.locked", "signin.demo_refused",
                    "signin.oidc", "signin.oidc_unknown", "signout", "approval.propose",
                    "approval.rejected", "approval.withdrawn",
                    "apikey.add", "apikey.revoke", "points.formula", "points.freeze")


def system_actor() -> str:
    """Who runs an unattended job: ``CREDITINDEX_USER``, else ``system:<login name>``."""
    named = os.environ.get("CREDITINDEX_USER", "").strip()
    if named:
        return named
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return f"system:{login}"


def jsonable(value: Any) -> Any:
    """``value`` with dates and other objects made JSON-friendly (dates as ISO text):
    what ``json.loads(json.dumps(value))`` gives, dates and other objects written as
    :func:`_default` writes them."""
    try:
        return _plain(value)
    except _NotPlain:  # the round trip decides (keys that are not text, other types)
        return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


class _NotPlain(Exception):
    pass


def _plain(value: Any) -> Any:
    """:func:`jsonable` of the values whose round trip is known without making it:
    text, whole numbers, floats (their repr reads back as the same float), booleans,
    ``None``, dates and times, lists and tuples (as lists) and dicts keyed by text
    (the API's answers are made of these; this is several times faster)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise _NotPlain
        return {k: _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if kind is dt.date or kind is dt.datetime:
        return value.isoformat()
    raise _NotPlain


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)



def record(conn: Connection | Driver, actor: str, action: str, entity: str, key: object,
           before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
           ) -> None:
    """Write one audit row on ``conn`` (inside the change's own transaction)."""
    insert_row(conn, "audit_log", {
        "at": utcnow(), "actor": actor, "action": action, "entity": entity,
        "entity_key": str(key), "before": None if before is None else jsonable(dict(before)),
        "after": None if after is None else jsonable(dict(after))},
        json_columns=("before", "after"))


def audit_trail(url: str | None = None, entity: str | None = None, key: object | None = None,
                action: str | None = None) -> pl.DataFrame:
    """The audit log, oldest first, optionally for one entity (and key) or action.
    ``before`` and ``after`` come back as JSON text."""
    import polars as pl
    from sqlalchemy import select

    log = table("audit_log")
    query = select(*(log.c[c] for c in AUDIT_COLUMNS)).order_by(log.c.id)
    if entity is not None:
        query = query.where(log.c.entity == entity)
    if key is not None:
        query = query.where(log.c.entity_key == str(key))
    if action is not None:
        query = query.where(log.c.action == action)
    with read_transaction(get_engine(url)) as conn:
        rows = conn.execute(query).all()
    data = [
        (r.id, r.at, r.actor, r.action, r.entity, r.entity_key,
         None if r.before is None else json.dumps(r.before, ensure_ascii=False),
         None if r.after is None else json.dumps(r.after, ensure_ascii=False))
        for r in rows
    ]
    return pl.DataFrame(data, schema={"id": pl.Int64, "at": pl.Datetime("us"),
                                      "actor": pl.String, "action": pl.String,
                                      "entity": pl.String, "entity_key": pl.String,
                                      "before": pl.String, "after": pl.String},
                        orient="row")
