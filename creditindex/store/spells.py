"""The daily job's answers ahead in the store (revision 0009; docs/glossary.md, "the
daily job").

When the job recomputes a subject from its records it also computes the subject's
answer on each of its coming change points up to its next knowledge day
(:func:`creditindex.daily.answers_ahead`): ``subject_spell`` keeps them, one row per role
and change day (the state row the subject gets that day), and ``spell_ledger`` the ledger
rows along which those that decay linearly decay. A later run that reaches one of those
days takes the row instead of reading the subject's records, so a catch-up of missed
days reads the spells of the subjects due in them (thousands of rows) instead of their
records (hundreds of thousands). Derived state, as ``subject_state``: a subject's spells
are replaced whenever it is recomputed from its records, all of them on a whole
evaluation.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, delete

from creditindex import engine
from creditindex.store.daily_state import ANSWER_SCHEMA, KEY, LEDGER_COLUMNS
from creditindex.store.db import bulk_insert, fetch_packed, placeholder, table
from creditindex.store.load import id_chunks, query_frame, unpack

SPELL_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "from_day": pl.Date(),
    **{c: t for c, t in ANSWER_SCHEMA.items() if c not in KEY},
    "next_change": pl.Date(), "decays_until": pl.Date()}
SPELL_LEDGER_SCHEMA: dict[str, pl.DataType] = {
    name: engine.LEDGER_SCHEMA[name] for name in LEDGER_COLUMNS}


def _day(conn: Connection, day: dt.date) -> dt.date | str:
    return day.isoformat() if conn.dialect.name == "sqlite" else day


def spells_between(conn: Connection, after: dt.date, last: dt.date) -> pl.DataFrame:
    """Every stored spell starting after ``after`` and by ``last`` (:data:`SPELL_SCHEMA`)."""
    p = placeholder(conn)
    return query_frame(conn, f"SELECT {', '.join(SPELL_SCHEMA)} FROM subject_spell "
                             f"WHERE from_day > {p} AND from_day <= {p}", SPELL_SCHEMA,
                       (_day(conn, after), _day(conn, last)))


def spell_ledger_rows(conn: Connection, after: dt.date, last: dt.date) -> pl.DataFrame:
    """The stored spell ledger rows of the subjects with a decaying spell starting after
    ``after`` and by ``last`` (:data:`SPELL_LEDGER_SCHEMA`; one query, read packed)."""
    p = placeholder(conn)
    text_schema = {**SPELL_LEDGER_SCHEMA, "linear": pl.Int8()}
    columns = [c if c != "is_linear" else "CASE WHEN is_linear THEN 1 ELSE 0 END"
               for c in LEDGER_COLUMNS.values()]
    rows = fetch_packed(conn, columns, "FROM spell_ledger WHERE subject_id IN (SELECT "
                                       "subject_id FROM subject_spell WHERE from_day > "
                                       f"{p} AND from_day <= {p} AND decays_until IS NOT NULL)",
                        (_day(conn, after), _day(conn, last)))
    return unpack(rows, text_schema).with_columns(pl.col("linear").cast(pl.Boolean))


def replace_spells(conn: Connection, subject_ids: list[str] | None, spells: pl.DataFrame,
                   ledger: pl.DataFrame) -> None:
    """Store ``spells`` (:data:`SPELL_SCHEMA`) and ``ledger`` (engine ledger columns) as
    the spells of ``subject_ids`` (of every subject, dropping the rest, when ``None``)."""
    for name in ("subject_spell", "spell_ledger"):
        t = table(name)
        if subject_ids is None:
            conn.execute(delete(t))
            continue
        for ids in id_chunks(subject_ids):
            conn.execute(delete(t).where(t.c.subject_id.in_(ids)))
    if spells.height:
        bulk_insert(conn, "subject_spell", spells.select(list(SPELL_SCHEMA)))
    if ledger.height:
        bulk_insert(conn, "spell_ledger", ledger.select(
            *(pl.col(name).alias(column) for name, column in LEDGER_COLUMNS.items())))
