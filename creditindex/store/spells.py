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
named as the run's (``decay_spell``, revision 0011: :func:`spell_names`), and
none need be read: the decay a subject's state row names goes on along the same rows as
its spells (``day_plan._decays_going_on``). Derived state, as ``subject_state``: a
subject's spells are replaced whenever it is recomputed from its records, all of them
on a whole evaluation; the ledger rows runs name are copied into ``decay_ledger``
first, so that what a stored day reads never changes.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, delete

from creditindex import engine
from creditindex.days import to_day
from creditindex.store.daily_state import (
    ANSWER_SCHEMA,
    ANSWER_VALUES,
    KEY,
    KEY_TYPES,
    LEDGER_COLUMNS,
    SPELL_KEPT,
    answer_columns,
    delete_subjects,
)
from creditindex.store.db import (
    bulk_insert,
    drop_temp,
    fetch_packed,
    placeholder,
    quoted,
    table,
    temp_table,
)
from creditindex.store.load import id_chunks, in_list, query_frame, unpack

SPELL_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "from_day": pl.Date(),
    **{c: ANSWER_SCHEMA[c] for c in ANSWER_VALUES},
    "next_change": pl.Date(), "decays_until": pl.Date()}
SPELL_LEDGER_SCHEMA: dict[str, pl.DataType] = {
    name: engine.LEDGER_SCHEMA[name] for name in LEDGER_COLUMNS}


def _day(conn: Connection, day: dt.date) -> dt.date | str:
    return day.isoformat() if conn.dialect.name == "sqlite" else day


def spells_between(conn: Connection, after: dt.date, last: dt.date) -> pl.DataFrame:
    """Every stored spell starting after ``after`` and by ``last`` (:data:`SPELL_SCHEMA`)."""
    p = placeholder(conn)
    return query_frame(conn, f"SELECT {answer_columns(conn, list(SPELL_SCHEMA))} FROM "
                             "subject_spell "
                             f"WHERE from_day > {p} AND from_day <= {p}", SPELL_SCHEMA,
                       (_day(conn, after), _day(conn, last)))


def replace_spells(conn: Connection, subject_ids: list[str] | None, spells: pl.DataFrame,
                   ledger: pl.DataFrame) -> None:
    """Store ``spells`` (:data:`SPELL_SCHEMA`) and ``ledger`` (engine ledger columns) as
    the spells of ``subject_ids`` (of every subject, dropping the rest, when ``None``).
    The ledger rows runs name among those replaced are copied into ``decay_ledger``
    first (:func:`keep_named_ledgers`)."""
    keep_named_ledgers(conn, subject_ids)
    for name in ("subject_spell", "spell_ledger"):
        if subject_ids is None:
            conn.execute(delete(table(name)))
        else:
            delete_subjects(conn, name, subject_ids)
    if spells.height:
        bulk_insert(conn, "subject_spell", spells.select(list(SPELL_SCHEMA)))
    if ledger.height:
        bulk_insert(conn, "spell_ledger", ledger.select(
            *(pl.col(name).alias(column) for name, column in LEDGER_COLUMNS.items())))


def copy_spell_rows(conn: Connection, table_name: str, keys: pl.DataFrame,
                    columns: list[str]) -> None:
    """Insert into ``table_name`` a row per row of ``keys`` (subject_id, subject_type,
    from_day, then integer columns): the ``columns`` of the subject's stored spell
    starting on from_day, and the row's integer columns, copied inside the database (a
    catch-up stores thousands of rows that are stored spells: their text is not sent
    back)."""
    if not keys.height:
        return
    values = keys.columns[3:]
    tmp = temp_table(conn, keys, {**KEY_TYPES, "from_day": "DATE",
                                  **{c: "BIGINT" for c in values}})
    try:
        names = ", ".join(quoted(conn, c) for c in [*columns, *values])
        taken = ", ".join([*(f"s.{quoted(conn, c)}" for c in columns),
                           *(f"k.{quoted(conn, c)}" for c in values)])
        conn.exec_driver_sql(
            f"INSERT INTO {quoted(conn, table_name)} ({names}) SELECT {taken} FROM {tmp} k "
            "JOIN subject_spell s ON s.subject_id = k.subject_id AND s.subject_type = "
            "k.subject_type AND s.from_day = k.from_day")
    finally:
        drop_temp(conn, tmp)


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


def spell_names(run_id: int, keys: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The ``decay_spell`` rows that keep, as ledger rows of the decaying answers stored
    with ``run_id``, the stored spell ledger rows of the subjects ``keys`` (subject_id,
    subject_type) still counting after ``day``: named, not copied."""
    return keys.select(pl.lit(run_id, pl.Int64).alias("run_id"), *KEY,
                       pl.lit(to_day(day), pl.Int64).alias("after_day"))


def keep_named_ledgers(conn: Connection, subject_ids: list[str] | None) -> None:
    """Copy into ``decay_ledger`` the spell ledger rows that runs name (``decay_spell``)
    for ``subject_ids`` (every subject when ``None``), each run's in the order stored,
    and forget the names: their spells are about to be replaced."""
    names = ", ".join(LEDGER_COLUMNS.values())
    copy = (f"INSERT INTO decay_ledger (run_id, {names}) SELECT ds.run_id, "
            f"{', '.join('d.' + c for c in LEDGER_COLUMNS.values())} FROM {SPELL_KEPT}")
    order = " ORDER BY ds.run_id, d.subject_id, d.id"
    if subject_ids is None:
        conn.exec_driver_sql(copy + order)
        conn.execute(delete(table("decay_spell")))
        return
    for ids in id_chunks(subject_ids):
        conn.exec_driver_sql(f"{copy} WHERE {in_list(conn, 'ds.subject_id', ids)}{order}",
                             tuple(ids))
    delete_subjects(conn, "decay_spell", subject_ids)
