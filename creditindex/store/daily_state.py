"""The daily job's state in the store (revisions 0007, 0008; docs/glossary.md, "daily
state").

``subject_state`` holds every subject's answer as last computed and the next day it
may change (:func:`creditindex.daily.next_change`): the answer as the run that stored it
(``answer_run_id``, revision 0012; read joined to its ``snapshot_row``), so that moving a
subject's days rewrites a narrow row, not its reasons; ``evaluation_state`` (one row) says
which run and day the state belongs to, by which rule set, and the newest row of every
input table it has taken in (:class:`Marks`). The next run reads the subjects due by
its last day and those with rows newer than the marks: nothing else.

A subject whose index decays linearly keeps the answer of the day its decay was last
computed (``decays_until`` not null) and the run that stored it with the ledger rows it
decays along (``decay_run_id``, rows in ``decay_ledger``): its answer on a later day,
until its next change point, is derived from them when read
(:func:`decay_ledger_rows`, :func:`creditindex.daily.decayed_answer`), so days on which
only decays move store nothing for it. A run's ledger rows for a subject that took a
stored spell are that spell's ledger rows, named rather than copied (``decay_spell``,
revision 0011: :data:`SPELL_KEPT`); every reader here reads both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, delete, insert, select, text

from creditindex import engine
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
from creditindex.text_limits import SUBJECT_ID, SUBJECT_TYPE

# The stored answer of one subject on a day (snapshot_row's columns but the rank).
ANSWER_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "credit_index": pl.Float64(), "grade": pl.String(), "watch": pl.String(),
    "deducted": pl.Float64(), "restricted": pl.Boolean(), "restricted_in": pl.String(),
    "reasons": pl.String()}
ANSWER_COLUMNS = list(ANSWER_SCHEMA)
STATE_SCHEMA: dict[str, pl.DataType] = {**ANSWER_SCHEMA, "next_change": pl.Date(),
                                         "decays_until": pl.Date(),
                                         "decay_run_id": pl.Int64(),
                                         "answer_run_id": pl.Int64()}
KEY = ["subject_id", "subject_type"]
# The answer's columns but the subject's key.
ANSWER_VALUES = [c for c in ANSWER_COLUMNS if c not in KEY]
# What ``subject_state`` stores of a state row: the answer is named by its run.
STORED_STATE = [*KEY, "answer_run_id", "next_change", "decays_until", "decay_run_id"]
# A state row with its answer: the subject's row of the run named (``s``, ``a``).
_STATE_FROM = ("subject_state s JOIN snapshot_row a ON a.run_id = s.answer_run_id "
               "AND a.subject_id = s.subject_id AND a.subject_type = s.subject_type")
# The key's SQL types in a temporary table (the lengths of the store's columns).
KEY_TYPES = {"subject_id": f"VARCHAR({SUBJECT_ID})", "subject_type": f"VARCHAR({SUBJECT_TYPE})"}
# Ledger rows kept for decaying answers: the engine's ledger columns they need.
LEDGER_COLUMNS = {"subject_id": "subject_id", "subject_type": "subject_type",
                  "source": "source", "record_id": "record_id",
                  "behaviour_code": "behaviour_code", "decided": "decided", "end": "end_day",
                  "nominal_end": "nominal_end", "days": "days", "amount": "amount",
                  "linear": "is_linear"}  # engine name: column name (LINEAR is reserved)
# The ledger rows runs keep by naming a subject's spell ledger (revision 0011): the
# subject's ``spell_ledger`` rows (``d``) still counting after the run's day, per
# ``decay_spell`` row (``ds``; its ``run_id``).
_SPELL_ROWS = ("JOIN spell_ledger d ON d.subject_id = ds.subject_id "
               "AND d.subject_type = ds.subject_type AND d.end_day > ds.after_day")
SPELL_KEPT = f"decay_spell ds {_SPELL_ROWS}"
_MARKED = {"record_pk": "penalty_record", "event_pk": "record_event",
           "list_pk": "list_entry", "manual_pk": "manual_restriction",
           "batch_pk": "import_batch"}


@dataclass(frozen=True)
class Marks:
    """The newest row id of each input table (0: empty)."""

    record_pk: int
    event_pk: int
    list_pk: int
    manual_pk: int
    batch_pk: int


@dataclass(frozen=True)
class StoredState:
    """Where the stored state stands."""

    run_id: int
    day: dt.date
    rules_hash: str
    marks: Marks


def input_marks(conn: Connection) -> Marks:
    """The store's current :class:`Marks`."""
    found = {}
    for mark, name in _MARKED.items():
        found[mark] = int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {name}"))
                          .scalar_one())
    return Marks(**found)


def read_state(conn: Connection) -> StoredState | None:
    """The stored state, or ``None`` (never evaluated since revision 0007)."""
    t = table("evaluation_state")
    row = conn.execute(select(t).where(t.c.id == 1)).mappings().first()
    if row is None:
        return None
    return StoredState(run_id=int(row["run_id"]), day=row["day"],
                       rules_hash=str(row["rules_hash"]),
                       marks=Marks(**{m: int(row[m]) for m in _MARKED}))


def subjects_with_new_facts(conn: Connection, marks: Marks) -> list[str]:
    """The subject_ids whose records, record events, manual restrictions or registration
    arrived after ``marks`` (list entries are not here: new ones may match anyone by
    name, so they call for a whole evaluation)."""
    p = placeholder(conn)
    sql = (f"SELECT subject_id FROM penalty_record WHERE id > {p} "
           "UNION SELECT r.subject_id FROM record_event e JOIN penalty_record r "
           f"ON r.id = e.record_pk WHERE e.id > {p} "
           f"UNION SELECT subject_id FROM manual_restriction WHERE id > {p} "
           f"UNION SELECT subject_id FROM subject WHERE import_id > {p}")
    frame = query_frame(conn, sql, {"subject_id": pl.String()},
                        (marks.record_pk, marks.event_pk, marks.manual_pk, marks.batch_pk))
    return frame.get_column("subject_id").to_list()


def answer_columns(conn: Connection, names: list[str], alias: str = "") -> str:
    """The select list of columns ``names`` (of table ``alias``, if given), ``reasons``
    read as bytes on SQLite (its driver then makes no text object of each row's ~1 KB:
    polars takes the bytes as text, :func:`creditindex.store.load.frame_from_columns`)."""
    at = f"{alias}." if alias else ""
    return ", ".join(f"CAST({at}reasons AS BLOB)" if c == "reasons"
                     and conn.dialect.name == "sqlite" else f"{at}{c}" for c in names)


def _state_select(conn: Connection) -> str:
    """``SELECT`` the state rows (:data:`STATE_SCHEMA`) ``FROM`` :data:`_STATE_FROM`."""
    answer = answer_columns(conn, ANSWER_VALUES, "a")
    return (f"SELECT s.subject_id, s.subject_type, {answer}, s.next_change, "
            f"s.decays_until, s.decay_run_id, s.answer_run_id FROM {_STATE_FROM}")


def due_state_rows(conn: Connection, last_day: dt.date, also: list[str]) -> pl.DataFrame:
    """The stored state rows (:data:`STATE_SCHEMA`, every role) of the subject_ids with a
    subject at a change point by ``last_day`` (picked in the database) and of ``also``."""
    day = last_day.isoformat() if conn.dialect.name == "sqlite" else last_day
    due = query_frame(conn, f"{_state_select(conn)} WHERE "
                            "s.subject_id IN (SELECT subject_id FROM subject_state WHERE "
                            f"next_change <= {placeholder(conn)})", STATE_SCHEMA, (day,))
    have = set(due.get_column("subject_id").to_list())
    return pl.concat([due, state_rows(conn, [i for i in also if i not in have])],
                     rechunk=True)


def state_rows(conn: Connection, subject_ids: list[str]) -> pl.DataFrame:
    """The stored state rows (:data:`STATE_SCHEMA`) of ``subject_ids``."""
    select_from = _state_select(conn)
    parts = [query_frame(conn, f"{select_from} WHERE {in_list(conn, 's.subject_id', ids)}",
                         STATE_SCHEMA, tuple(ids)) for ids in id_chunks(subject_ids)]
    return pl.concat(parts, rechunk=True) if parts else pl.DataFrame(schema=STATE_SCHEMA)


def replace_rows(conn: Connection, rows: pl.DataFrame) -> None:
    """Store ``rows`` (:data:`STATE_SCHEMA`; what :data:`STORED_STATE` keeps of them)
    as the state of every subject, dropping the rest."""
    conn.execute(delete(table("subject_state")))
    if rows.height:
        bulk_insert(conn, "subject_state", rows.select(STORED_STATE))


def write_rows(conn: Connection, rows: pl.DataFrame) -> None:
    """Store ``rows`` (:data:`STATE_SCHEMA`; what :data:`STORED_STATE` keeps of them) as
    the state of their subjects: the stored rows of those subjects updated in place from
    a temporary table (their key's index untouched), the others inserted."""
    if not rows.height:
        return
    tmp = temp_table(conn, rows.select(STORED_STATE), {**KEY_TYPES, "answer_run_id": "BIGINT",
                                  "next_change": "DATE", "decays_until": "DATE",
                                  "decay_run_id": "BIGINT"}, key=KEY)
    on = "s.subject_id = k.subject_id AND s.subject_type = k.subject_type"
    values = [c for c in STORED_STATE if c not in KEY]
    try:
        if conn.dialect.name == "mysql":  # no UPDATE ... FROM there
            conn.exec_driver_sql(f"UPDATE subject_state s JOIN {tmp} k ON {on} SET "
                                 + ", ".join(f"s.{c} = k.{c}" for c in values))
        else:
            conn.exec_driver_sql("UPDATE subject_state AS s SET "
                                 + ", ".join(f"{c} = k.{c}" for c in values)
                                 + f" FROM {tmp} k WHERE {on}")
        conn.exec_driver_sql(f"INSERT INTO subject_state ({', '.join(STORED_STATE)}) SELECT "
                             f"{', '.join(f'k.{c}' for c in STORED_STATE)} FROM {tmp} k "
                             f"WHERE NOT EXISTS (SELECT 1 FROM subject_state s WHERE {on})")
    finally:
        drop_temp(conn, tmp)


def delete_subjects(conn: Connection, table_name: str, subject_ids: list[str],
                    subject_type: str | None = None) -> None:
    """Delete the rows of ``subject_ids`` (of ``subject_type`` only, if given) from
    table ``table_name``: plain SQL through the driver, a statement per
    :func:`~creditindex.store.load.id_chunks` list (SQLAlchemy's expanding ``IN``
    cost more than the deletes on thousands of subjects)."""
    p = placeholder(conn)
    of_type = "" if subject_type is None else f"subject_type = {p} AND "
    for ids in id_chunks(subject_ids):
        conn.exec_driver_sql(f"DELETE FROM {table_name} WHERE {of_type}"
                             f"{in_list(conn, 'subject_id', ids)}",
                             (*(() if subject_type is None else (subject_type,)), *ids))


def mark_decay_runs(conn: Connection, run_id: int) -> None:
    """Name ``run_id`` as the decay run of the state's decaying rows that have none yet
    (those just replaced: their ledger rows are stored with that run), and as the run of
    the answers that name none (stored with that run)."""
    conn.execute(text("UPDATE subject_state SET decay_run_id = :run WHERE decay_run_id "
                      "IS NULL AND decays_until IS NOT NULL"), {"run": run_id})
    _name_answer_run(conn, run_id)


def _name_answer_run(conn: Connection, run_id: int) -> None:
    """Name ``run_id`` as the run of the state's answers that name none (stored with
    it)."""
    conn.execute(text("UPDATE subject_state SET answer_run_id = :run WHERE answer_run_id "
                      "IS NULL"), {"run": run_id})


def copy_state_to_run(conn: Connection, run_id: int, unstored: pl.DataFrame) -> None:
    """Store the whole state as the snapshot of ``run_id``, ranked within each subject
    type by index (docs/semantics.md §5.5), inside the database: the answers the state
    rows name, and ``unstored`` (:data:`ANSWER_SCHEMA`), those of the rows that name
    none yet (named ``run_id`` then); the decaying answers with their ledger rows, so
    that the run reads alone."""
    names = ", ".join(quoted(conn, c) for c in ANSWER_COLUMNS)
    snapshot = table("snapshot_row")
    tmp = temp_table(conn, unstored, {c: snapshot.c[c].type.compile(dialect=conn.dialect)
                                      for c in ANSWER_COLUMNS}, key=KEY)
    named = ", ".join(f"a.{quoted(conn, c)}" for c in ANSWER_COLUMNS)
    try:
        conn.execute(text(
            f"INSERT INTO snapshot_row (run_id, {names}, type_rank) "
            f"SELECT :run, {names}, RANK() OVER (PARTITION BY subject_type "
            f"ORDER BY credit_index DESC) FROM (SELECT {named} FROM {_STATE_FROM} "
            f"UNION ALL SELECT {names} FROM {tmp}) u"), {"run": run_id})
    finally:
        drop_temp(conn, tmp)
    _name_answer_run(conn, run_id)
    columns = ", ".join(f"d.{c}" for c in LEDGER_COLUMNS.values())
    conn.execute(text(
        f"INSERT INTO decay_ledger (run_id, {columns.replace('d.', '')}) "
        f"SELECT :run, {columns} FROM decay_ledger d JOIN subject_state s "
        "ON d.run_id = s.decay_run_id AND d.subject_id = s.subject_id "
        "AND d.subject_type = s.subject_type WHERE s.decay_run_id <> :run"),
        {"run": run_id})
    conn.execute(text(  # those named in the spell ledger stay named there
        "INSERT INTO decay_spell (run_id, subject_id, subject_type, after_day) "
        "SELECT :run, ds.subject_id, ds.subject_type, ds.after_day FROM decay_spell ds "
        "JOIN subject_state s ON ds.run_id = s.decay_run_id AND ds.subject_id = "
        "s.subject_id AND ds.subject_type = s.subject_type WHERE s.decay_run_id <> :run"),
        {"run": run_id})


def save_state(conn: Connection, run_id: int, day: dt.date, rules_hash: str,
               marks: Marks) -> None:
    """Record where the state stands now."""
    t = table("evaluation_state")
    values = {"run_id": run_id, "day": day, "rules_hash": rules_hash,
              **{m: getattr(marks, m) for m in _MARKED}}
    conn.execute(delete(t).where(t.c.id == 1))
    conn.execute(insert(t).values(id=1, **values))


def decay_ledger_rows(conn: Connection, run_ids: list[int],
                      subject_type: str | None = None) -> pl.DataFrame:
    """The ledger rows stored with runs ``run_ids`` for their decaying answers (of
    ``subject_type`` only, if given): ``run_id`` and the engine's ledger columns (read
    packed: many rows)."""
    schema = {"run_id": pl.Int64(),
              **{name: engine.LEDGER_SCHEMA[name] for name in LEDGER_COLUMNS}}
    if not run_ids:
        return pl.DataFrame(schema=schema)
    text_schema = {**schema, "linear": pl.Int8()}  # booleans as 0/1 on every database
    p = placeholder(conn)
    params = (*run_ids, *(() if subject_type is None else (subject_type,)))

    def where(alias: str) -> str:  # the runs' rows (of the type) in table ``alias``
        of_type = "" if subject_type is None else f" AND {alias}.subject_type = {p}"
        return f"WHERE {alias}.run_id IN ({', '.join([p] * len(run_ids))}){of_type}"

    rows = fetch_packed(conn, ["d.run_id", *_ledger_select("d")],
                        f"FROM decay_ledger d {where('d')}", params)
    rows += fetch_packed(conn, ["ds.run_id", *_ledger_select("d")],
                         f"FROM {SPELL_KEPT} {where('ds')} ORDER BY ds.run_id, d.subject_id, "
                         "d.id", params)
    return unpack(rows, text_schema).with_columns(pl.col("linear").cast(pl.Boolean))


def _ledger_select(alias: str) -> list[str]:
    """The ledger columns of table ``alias`` as packed rows read them (booleans 0/1)."""
    return [f"{alias}.{c}" if c != "is_linear" else
            f"CASE WHEN {alias}.is_linear THEN 1 ELSE 0 END" for c in LEDGER_COLUMNS.values()]


def segment_rows(conn: Connection, rows: pl.DataFrame) -> pl.DataFrame:
    """The ledger rows stored with the decay run of each state row of ``rows`` that
    names one (the engine's ledger columns): ``rows`` are the stored state rows of their
    subject_ids (every role), joined to their ledger rows in the database and read
    packed, a few queries for thousands of subjects."""
    schema = {name: engine.LEDGER_SCHEMA[name] for name in LEDGER_COLUMNS}
    ids = rows.filter(pl.col("decay_run_id").is_not_null()).get_column("subject_id")
    columns = _ledger_select("d")
    parts = []
    for chunk in id_chunks(ids.to_list()):
        packed = fetch_packed(conn, columns, (
            "FROM subject_state s JOIN decay_ledger d ON d.run_id = s.decay_run_id "
            "AND d.subject_id = s.subject_id AND d.subject_type = s.subject_type "
            f"WHERE {in_list(conn, 's.subject_id', chunk)}"), tuple(chunk))
        packed += fetch_packed(conn, columns, (
            "FROM subject_state s JOIN decay_spell ds ON ds.run_id = s.decay_run_id "
            "AND ds.subject_id = s.subject_id AND ds.subject_type = s.subject_type "
            f"{_SPELL_ROWS} WHERE {in_list(conn, 's.subject_id', chunk)} "
            "ORDER BY d.subject_id, d.id"),
            tuple(chunk))
        parts.append(unpack(packed, {**schema, "linear": pl.Int8()}).with_columns(
            pl.col("linear").cast(pl.Boolean)))
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def decay_ledger_frame(run_id: int, rows: pl.DataFrame) -> pl.DataFrame:
    """The ``decay_ledger`` rows that keep ``rows`` (engine ledger columns) as the ledger
    rows of the decaying answers stored with ``run_id``."""
    return rows.select(pl.lit(run_id, pl.Int64).alias("run_id"),
                       *(pl.col(name).alias(column) for name, column in LEDGER_COLUMNS.items()))
