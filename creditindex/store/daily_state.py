"""The daily job's state in the store (revision 0007; docs/glossary.md, "daily state").

``subject_state`` holds every subject's answer on the state's day and the next day it
may change (:func:`creditindex.daily.next_change`); ``evaluation_state`` (one row) says
which run and day the state belongs to, by which rule set, and the newest row of every
input table it has taken in (:class:`Marks`). The next run reads the subjects due by
its last day and those with rows newer than the marks: nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, delete, insert, select, text

from creditindex import engine
from creditindex.store.db import bulk_insert, placeholder, quoted
from creditindex.store.load import id_chunks, in_list, query_frame
from creditindex.store.models import table

# The stored answer of one subject on a day (snapshot_row's columns but the rank).
ANSWER_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "credit_index": pl.Float64(), "grade": pl.String(), "watch": pl.String(),
    "deducted": pl.Float64(), "restricted": pl.Boolean(), "restricted_in": pl.String(),
    "reasons": pl.String()}
ANSWER_COLUMNS = list(ANSWER_SCHEMA)
STATE_SCHEMA: dict[str, pl.DataType] = {**ANSWER_SCHEMA, "next_change": pl.Date(),
                                         "decays_until": pl.Date()}
KEY = ["subject_id", "subject_type"]
# Ledger rows kept for decaying subjects: the engine's ledger columns they need.
LEDGER_COLUMNS = {"subject_id": "subject_id", "subject_type": "subject_type",
                  "source": "source", "record_id": "record_id",
                  "behaviour_code": "behaviour_code", "decided": "decided", "end": "end_day",
                  "nominal_end": "nominal_end", "days": "days", "amount": "amount",
                  "linear": "is_linear"}  # engine name: column name (LINEAR is reserved)
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


def due_subjects(conn: Connection, first_day: dt.date, last_day: dt.date
                 ) -> tuple[list[str], list[str]]:
    """The subject_ids with a subject at a change point by ``last_day``, and those with
    a subject whose index decays on ``first_day`` (some are both)."""
    days = [d.isoformat() if conn.dialect.name == "sqlite" else d
            for d in (last_day, first_day)]
    p = placeholder(conn)
    schema: dict[str, pl.DataType] = {"subject_id": pl.String()}
    changing = query_frame(conn, "SELECT DISTINCT subject_id FROM subject_state "
                                 f"WHERE next_change <= {p}", schema, (days[0],))
    decaying = query_frame(conn, "SELECT DISTINCT subject_id FROM subject_state "
                                 f"WHERE decays_until >= {p}", schema, (days[1],))
    return (changing.get_column("subject_id").to_list(),
            decaying.get_column("subject_id").to_list())


def state_rows(conn: Connection, subject_ids: list[str]) -> pl.DataFrame:
    """The stored state rows (:data:`STATE_SCHEMA`) of ``subject_ids``."""
    select_from = f"SELECT {', '.join(STATE_SCHEMA)} FROM subject_state"
    parts = [query_frame(conn, f"{select_from} WHERE {in_list(conn, 'subject_id', ids)}",
                         STATE_SCHEMA, tuple(ids)) for ids in id_chunks(subject_ids)]
    return pl.concat(parts) if parts else pl.DataFrame(schema=STATE_SCHEMA)


def replace_rows(conn: Connection, rows: pl.DataFrame, everyone: bool = False) -> None:
    """Store ``rows`` (:data:`STATE_SCHEMA`) as the state of their subjects (every
    subject's, dropping the rest, when ``everyone``)."""
    t = table("subject_state")
    if everyone:
        conn.execute(delete(t))
    for (subject_type,), mine in ([] if everyone else rows.partition_by(
            "subject_type", as_dict=True).items()):
        for ids in id_chunks(mine.get_column("subject_id").to_list()):
            conn.execute(delete(t).where(t.c.subject_type == subject_type,
                                         t.c.subject_id.in_(ids)))
    if rows.height:
        bulk_insert(conn, "subject_state", rows.select(list(STATE_SCHEMA)))


def copy_state_to_run(conn: Connection, run_id: int) -> None:
    """Store the whole state as the snapshot of ``run_id``, ranked within each subject
    type by index (docs/semantics.md §5.5), inside the database."""
    names = ", ".join(quoted(conn, c) for c in ANSWER_COLUMNS)
    conn.execute(text(
        f"INSERT INTO snapshot_row (run_id, {names}, type_rank) "
        f"SELECT :run, {names}, RANK() OVER (PARTITION BY subject_type "
        "ORDER BY credit_index DESC) FROM subject_state"), {"run": run_id})


def save_state(conn: Connection, run_id: int, day: dt.date, rules_hash: str,
               marks: Marks) -> None:
    """Record where the state stands now."""
    t = table("evaluation_state")
    values = {"run_id": run_id, "day": day, "rules_hash": rules_hash,
              **{m: getattr(marks, m) for m in _MARKED}}
    conn.execute(delete(t).where(t.c.id == 1))
    conn.execute(insert(t).values(id=1, **values))


def ledger_rows(conn: Connection, subject_ids: list[str]) -> pl.DataFrame:
    """The kept ledger rows of ``subject_ids`` with the engine's column names."""
    schema = {name: engine.LEDGER_SCHEMA[name] for name in LEDGER_COLUMNS}
    select_from = f"SELECT {', '.join(LEDGER_COLUMNS.values())} FROM state_ledger"
    parts = [query_frame(conn, f"{select_from} WHERE {in_list(conn, 'subject_id', ids)}",
                         schema, tuple(ids)) for ids in id_chunks(subject_ids)]
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def replace_ledger(conn: Connection, subject_ids: list[str], rows: pl.DataFrame) -> None:
    """Keep ``rows`` (engine ledger columns) as the ledger of ``subject_ids``."""
    t = table("state_ledger")
    for ids in id_chunks(subject_ids):
        conn.execute(delete(t).where(t.c.subject_id.in_(ids)))
    if rows.height:
        bulk_insert(conn, "state_ledger", rows.select(
            pl.col(name).alias(column) for name, column in LEDGER_COLUMNS.items()))


def clear_ledger(conn: Connection) -> None:
    """Drop every kept ledger row (a whole evaluation keeps its own)."""
    conn.execute(delete(table("state_ledger")))
