"""A server's group of drafted checks stored on PostgreSQL through psycopg itself, on a
connection the check writer keeps (:mod:`creditindex.store.check_writer`).

The rows are :func:`~creditindex.store.checks.store_drafts`'s, byte for byte: each JSON
value is serialised once by ``json.dumps`` (what psycopg's ``Json``, which SQLAlchemy's
JSON type binds, sends) and the rest bound as SQLAlchemy binds them. The transaction is
:func:`~creditindex.store.db.write_transaction`'s (READ COMMITTED, the ``records`` row of
``store_lock`` held ``FOR UPDATE``), sent in psycopg's pipeline mode: one round trip to
insert the checks and read their keys, one for their audit rows, certificates and the
commit. Through the engine a group took seven (a pre-ping of the pooled connection, the
lock, three inserts, the commit and the pool's rollback), and SQLAlchemy's statement
handling and JSON binding were most of the writer thread's CPU (profiled under the API
benchmark's load).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from creditindex.store.checks import (
    CheckDraft,
    IssuedCheck,
    audit_row,
    certificate_values,
    check_number,
    check_row,
)
from creditindex.store.db import utcnow

if TYPE_CHECKING:
    import psycopg

_CHECK_COLUMNS = ("created_at", "by", "check_day", "known_on", "subject_ids", "rules_hash",
                  "inputs", "answer", "evidence_html", "evidence")
_AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_key", "before", "after")
_CERT_COLUMNS = ("check_id", "check_no", "verify_code", "issued_at", "operator", "channel",
                 "api_key_id", "project_no", "project_name", "lot_no", "lot_name",
                 "category", "financier", "payload")
_JSON_COLUMNS = frozenset({"inputs", "answer", "evidence", "before", "after", "payload"})


def _insert(table_name: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("%s::json" if c in _JSON_COLUMNS else "%s" for c in columns)
    return f'INSERT INTO "{table_name}" ({names}) VALUES ({marks})'


_INSERT_CHECK = _insert("eligibility_check", _CHECK_COLUMNS) + ' RETURNING "id"'
_INSERT_AUDIT = _insert("audit_log", _AUDIT_COLUMNS)
_INSERT_CERT = _insert("check_certificate", _CERT_COLUMNS)
_LOCK = "SELECT name FROM store_lock WHERE name = %s FOR UPDATE"


def _values(row: dict[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    """``row``'s values in the order of ``columns``, each JSON column serialised as
    SQLAlchemy's JSON type stores it (``None``: JSON ``null``)."""
    return tuple(json.dumps(row[c]) if c in _JSON_COLUMNS else row[c] for c in columns)


def store_drafts_pg(conn: psycopg.Connection[Any], drafts: Sequence[CheckDraft]
                    ) -> list[IssuedCheck]:
    """Store ``drafts`` in one transaction on ``conn`` (a psycopg connection in
    autocommit mode: the transaction is begun and committed here) and return them as
    issued, in order, once committed. On an error the transaction is rolled back (if the
    connection still answers) and the error raised."""
    checks = [_values(check_row(d), _CHECK_COLUMNS) for d in drafts]
    try:
        with conn.pipeline() as pipeline:
            conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            conn.execute(_LOCK, ("records",))
            cursor = conn.cursor()
            cursor.executemany(_INSERT_CHECK, checks, returning=True)
            pipeline.sync()
            keys = []
            while True:  # one result per check, in order (a round trip)
                row = cursor.fetchone()
                assert row is not None
                keys.append(int(row[0]))
                if not cursor.nextset():
                    break
            assert len(keys) == len(drafts)
            now = utcnow()
            cursor.executemany(_INSERT_AUDIT, [
                _values(audit_row(d, key, now), _AUDIT_COLUMNS)
                for d, key in zip(drafts, keys, strict=True)])
            issued, certificates = [], []
            for d, key in zip(drafts, keys, strict=True):
                number = check_number(key, d.created_at)
                payload, values = certificate_values(d, key, number)
                certificates.append(_values(values, _CERT_COLUMNS))
                issued.append(IssuedCheck(key, number, d.verify_code, payload, d.frames,
                                          d.evidence))
            cursor.executemany(_INSERT_CERT, certificates)
            conn.execute("COMMIT")
    except BaseException:
        _roll_back(conn)
        raise
    return issued


def _roll_back(conn: psycopg.Connection[Any]) -> None:
    if conn.closed:
        return
    try:
        conn.execute("ROLLBACK")
    except Exception:  # a broken connection: the writer opens another
        conn.close()
