"""The daily job's answers ahead in the store (revision 0009; docs/glossary.md, "the
daily job").

When the job recomputes a subject from its records it also computes the subject's
answer on each of its coming change points up to its next knowledge day
(:func:`creditindex.daily.answers_ahead`): ``subject_spell`` keeps them, one row per role
and change day (the state row the subject gets that day), and ``spell_ledger`` the ledger
rows along which those that decay linearly decay. A later run that reaches one of those
days takes the row instead of reading the subject's records, so a catch-up of missed
days reads the spells of the subjects due in them (thousands of rows) instead of their
records (hundreds of thousands); a spell that starts a decay anew has its ledger rows
copied into ``decay_ledger`` inside the database (:func:`copy_spell_ledger`), and none
need be read: the decay a subject's state row names goes on along the same rows as its
spells (``snapshots._decays_going_on``). Derived state, as ``subject_state``: a
subject's spells are replaced whenever it is recomputed from its records, all of them
on a whole evaluation.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, delete

from creditindex import engine
from creditindex.days import to_day
from creditindex.store.daily_state import ANSWER_SCHEMA, KEY, LEDGER_COLUMNS
from creditindex.store.db import bulk_insert, fetch_packed, placeholder, table
from creditindex.store.load import id_chunks, in_list, query_frame, unpack

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


def spell_ledger_of(conn: Connection, keys: pl.DataFrame) -> pl.DataFrame:
    """The stored spell ledger rows of the subjects ``keys`` (subject_id, subject_type;
    :data:`SPELL_LEDGER_SCHEMA`), in the order they were stored."""
    text_schema = {**SPELL_LEDGER_SCHEMA, "linear": pl.Int8()}
    columns = [c if c != "is_linear" else "CASE WHEN is_linear THEN 1 ELSE 0 END"
               for c in LEDGER_COLUMNS.values()]
    parts = []
    for (subject_type,), mine in keys.partition_by("subject_type", as_dict=True).items():
        for ids in id_chunks(mine.get_column("subject_id").to_list()):
            rows = fetch_packed(conn, columns, f"FROM spell_ledger WHERE subject_type = "
                                f"{placeholder(conn)} AND {in_list(conn, 'subject_id', ids)} "
                                "ORDER BY id", (subject_type, *ids))
            parts.append(unpack(rows, text_schema).with_columns(
                pl.col("linear").cast(pl.Boolean)))
    return pl.concat(parts) if parts else pl.DataFrame(schema=SPELL_LEDGER_SCHEMA)


def copy_spell_ledger(conn: Connection, run_id: int, keys: pl.DataFrame, day: dt.date
                      ) -> None:
    """Keep, as ledger rows of the decaying answers stored with ``run_id``, the stored
    spell ledger rows of the subjects ``keys`` (subject_id, subject_type) still counting
    after ``day``: copied inside the database, each subject's in the order stored."""
    names = ", ".join(LEDGER_COLUMNS.values())
    p = placeholder(conn)
    for (subject_type,), mine in keys.partition_by("subject_type", as_dict=True).items():
        for ids in id_chunks(mine.get_column("subject_id").to_list()):
            conn.exec_driver_sql(
                f"INSERT INTO decay_ledger (run_id, {names}) SELECT {p}, {names} "
                f"FROM spell_ledger WHERE end_day > {p} AND subject_type = {p} AND "
                f"{in_list(conn, 'subject_id', ids)} ORDER BY subject_id, id",
                (run_id, to_day(day), subject_type, *ids))
