"""Reading the store back as :class:`CreditData`: the records with their revocations and
repairs as dated facts, the rule set, registered subjects, list entries and manual
restrictions. Large tables are read through the raw driver cursor, column by column.

Answers about a few subjects (``check``, ``explain``, ``history``, a subject's profile,
the daily job's due subjects) pass ``subject_ids``: then only those subjects' records,
events, registrations and manual restrictions are read, through indexed queries, and of
the list entries those naming them by id and those that match by name alone (the names
come from the subjects' own rows; docs/semantics.md §7.1).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from creditindex.evaluate import CreditData
from creditindex.lists import LIST_SCHEMA
from creditindex.records import RECORD_SCHEMA
from creditindex.restrict import normalise_ids
from creditindex.store.driver import (
    FIELD_SEPARATOR,
    dialect_name,
    fetch_columns,
    fetch_packed,
    placeholder,
)

if TYPE_CHECKING:  # the readers take an engine connection or a direct one (Conn)
    from creditindex.rules import RuleSet
    from creditindex.store.driver import Conn

EVENT_SCHEMA: dict[str, pl.DataType] = {"id": pl.Int64(), "kind": pl.String(),
                                        "on": pl.Date()}
ID_CHUNK = 500  # subject ids per IN (...) list: within every driver's parameter limit
# Beyond this many subjects, one scan of the records that keeps theirs is faster than
# looking each up by index (measured on a 1M-record SQLite store: 10,500 subjects'
# 620,000 records took 7.0 s of CPU by index, all 1,000,000 records 4.3 s by scan;
# 10,867 subjects' 621,308 records 3.2 s by a scan that sends only theirs).
SCAN_ABOVE = 5_000


def id_chunks(subject_ids: Sequence[str]) -> Iterator[list[str]]:
    """Distinct ``subject_ids`` in lists short enough for one ``IN (...)``."""
    ids = list(dict.fromkeys(subject_ids))
    for at in range(0, len(ids), ID_CHUNK):
        yield ids[at:at + ID_CHUNK]


def in_list(conn: Conn, column: str, values: Sequence[str]) -> str:
    """``column IN (?, ?, ...)`` with the driver's parameter markers."""
    return f"{column} IN ({', '.join([placeholder(conn)] * len(values))})"


def _concat(frames: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def frame_from_columns(columns: Sequence[Sequence[Any]], schema: dict[str, pl.DataType]
                       ) -> pl.DataFrame:
    """A frame of ``schema`` from driver columns in its order; dates may come as ISO text
    (SQLite) or as date objects (PostgreSQL, MySQL)."""
    series = []
    for name, values in zip(schema, columns, strict=True):
        dtype = schema[name]
        raw = pl.Series(name, values, strict=False)
        if dtype == pl.Date and raw.dtype == pl.String:
            raw = raw.str.to_date("%Y-%m-%d")
        elif dtype == pl.Boolean and raw.dtype != pl.Boolean:
            raw = raw.cast(pl.Int64).cast(pl.Boolean)
        series.append(raw.cast(dtype))
    if not series:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(series).select(list(schema))


def unpack(rows: list[str], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Split packed rows (:func:`creditindex.store.db.fetch_packed`) into a frame of
    ``schema``: empty text is null, dates are ISO text, numbers are digits."""
    names = list(schema)
    if not rows:
        return pl.DataFrame(schema=schema)
    fields = pl.Series("_row", rows, dtype=pl.String).str.split_exact(
        FIELD_SEPARATOR, len(names) - 1).struct.rename_fields(names).struct.unnest()
    out = []
    for name, dtype in schema.items():
        text = pl.when(pl.col(name) != "").then(pl.col(name))
        if dtype == pl.Date:
            out.append(text.str.to_date("%Y-%m-%d").alias(name))
        elif dtype == pl.String:
            out.append(text.alias(name))
        else:
            out.append(text.cast(dtype).alias(name))
    return fields.select(out)


def query_frame(conn: Conn, sql: str, schema: dict[str, pl.DataType],
                params: tuple[Any, ...] = ()) -> pl.DataFrame:
    """The result of ``sql`` as a frame of ``schema`` (columns in the same order)."""
    columns = fetch_columns(conn, sql, params)
    if not columns or not columns[0]:
        return pl.DataFrame(schema=schema)
    return frame_from_columns(columns, schema)


def read_records(conn: Conn, known_on: dt.date | None = None,
                 subject_ids: Sequence[str] | None = None) -> pl.DataFrame:
    """Every stored record in the canonical schema (import order), with ``revoked_on`` and
    ``repaired_on`` as in effect: the value its source carried, or the day of the first
    ``revoked`` / ``repair_granted`` event. ``known_on`` leaves out records recorded later
    (the engine would not count them on that day anyway); ``subject_ids`` reads only
    those subjects' records (every role) and events, by index."""
    schema: dict[str, pl.DataType] = {"id": pl.Int64(), **RECORD_SCHEMA}
    events_sql = ("SELECT e.record_pk, e.kind, e.effective_on FROM record_event e "
                  "WHERE e.kind IN ('revoked', 'repair_granted')")
    conditions, params = [], []
    if known_on is not None:
        conditions.append(f"recorded_on <= {placeholder(conn)}")
        params.append(known_on.isoformat() if dialect_name(conn) == "sqlite" else known_on)
    if subject_ids is not None and len(subject_ids) > SCAN_ABOVE:  # a scan is cheaper
        wanted = _scanned_in(conn, subject_ids)
        if wanted is None:
            everyone = read_records(conn, known_on)
            return everyone.filter(pl.col("subject_id").is_in(
                pl.Series(list(subject_ids), dtype=pl.String).implode()))
        condition, value = wanted
        records = unpack(fetch_packed(conn, list(schema), "FROM penalty_record WHERE "
                                      f"{' AND '.join([condition, *conditions])} ORDER BY id",
                                      (value, *params)), schema)
        events = query_frame(conn, events_sql, EVENT_SCHEMA)
        return apply_events(records, events).select(list(RECORD_SCHEMA))
    if subject_ids is None:
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        records = unpack(fetch_packed(conn, list(schema), f"FROM penalty_record{where} "
                                      "ORDER BY id", tuple(params)), schema)
        events = query_frame(conn, events_sql, EVENT_SCHEMA)
        return apply_events(records, events).select(list(RECORD_SCHEMA))
    parts, event_parts = [], []
    for ids in id_chunks(subject_ids):
        where = " AND ".join([in_list(conn, "subject_id", ids), *conditions])
        parts.append(unpack(fetch_packed(conn, list(schema), f"FROM penalty_record WHERE "
                                         f"{where}", (*ids, *params)), schema))
        event_parts.append(query_frame(
            conn, events_sql + " AND e.record_pk IN (SELECT r.id FROM penalty_record r "
            f"WHERE {in_list(conn, 'r.subject_id', ids)})", EVENT_SCHEMA, tuple(ids)))
    records = _concat(parts, schema).sort("id")
    return apply_events(records, _concat(event_parts, EVENT_SCHEMA)).select(
        list(RECORD_SCHEMA))


def _scanned_in(conn: Conn, subject_ids: Sequence[str]) -> tuple[str, Any] | None:
    """``subject_id IN (the ids)`` as one condition with the ids as one parameter,
    answered by a scan of the table that keeps the rows of those ids (SQLite: a JSON
    array, the index left unused with ``+``; PostgreSQL: an array), or ``None`` where
    neither is at hand. Only the kept rows are formatted and sent."""
    ids = list(dict.fromkeys(subject_ids))
    if dialect_name(conn) == "sqlite":
        return (f"+subject_id IN (SELECT value FROM json_each({placeholder(conn)}))",
                json.dumps(ids))
    if dialect_name(conn) == "postgresql":
        return f"subject_id = ANY({placeholder(conn)})", ids
    return None


def apply_events(records: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """``revoked_on`` and ``repaired_on`` of records (with their ``id``) as in effect: the
    value first imported, or the day of the earliest ``revoked`` / ``repair_granted``
    event (``events``: :data:`EVENT_SCHEMA`)."""
    if events.height == 0:  # (most questions about a few subjects: no join to make)
        return records
    for column, kind in (("revoked_on", "revoked"), ("repaired_on", "repair_granted")):
        dated = events.filter(pl.col("kind") == kind).group_by("id").agg(
            pl.col("on").min().alias("_event"))
        records = records.join(dated, on="id", how="left").with_columns(
            pl.min_horizontal(column, "_event").alias(column)).drop("_event")
    return records


SUBJECT_ROW_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "country": pl.String()}


def _by_subject(conn: Conn, select_from: str, schema: dict[str, pl.DataType],
                subject_ids: Sequence[str] | None, order: list[str]) -> pl.DataFrame:
    """``select_from`` (``SELECT ... FROM table``), all rows or those of ``subject_ids``,
    ordered by ``order`` (columns of the table and the frame)."""
    if subject_ids is None:
        return query_frame(conn, f"{select_from} ORDER BY {', '.join(order)}", schema)
    return _concat([query_frame(conn, f"{select_from} WHERE "
                                f"{in_list(conn, 'subject_id', ids)}", schema, tuple(ids))
                    for ids in id_chunks(subject_ids)], schema).sort(order)


def read_subjects(conn: Conn, subject_ids: Sequence[str] | None = None
                  ) -> pl.DataFrame | None:
    """Registered subjects (``subject_id, subject_type, subject_name[, country]``), or
    ``None`` when there are none; ``country`` only when some subject has one.
    ``subject_ids``: only those."""
    frame = _by_subject(conn, "SELECT subject_id, subject_type, subject_name, country "
                        "FROM subject", SUBJECT_ROW_SCHEMA, subject_ids,
                        ["subject_id", "subject_type"])
    if frame.height == 0:
        return None
    if frame.get_column("country").null_count() == frame.height:
        frame = frame.drop("country")
    return frame


LIST_SELECT = ("SELECT list_name, entry_id, subject_id, name, country, listed_on, until, "
               "grounds, scope, financier, source_row FROM list_entry")


def read_lists(conn: Conn, subject_ids: Sequence[str] | None = None
               ) -> pl.DataFrame | None:
    """Stored external list entries in the canonical list schema, or ``None``.
    ``subject_ids``: only the entries that may concern them, those naming one of them
    and those without a subject_id (matched by name)."""
    schema: dict[str, pl.DataType] = {**LIST_SCHEMA, "id": pl.Int64()}
    select_from = LIST_SELECT.replace(" FROM", ", id FROM")
    if subject_ids is None:
        frame = query_frame(conn, f"{select_from} ORDER BY id", schema)
    else:
        by_name = query_frame(conn, f"{select_from} WHERE subject_id IS NULL", schema)
        by_id = _by_subject(conn, select_from, schema, subject_ids, ["id"])
        frame = pl.concat([by_name, by_id]).sort("id")
    frame = frame.drop("id")
    return frame if frame.height else None


MANUAL_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "start": pl.Date(), "until": pl.Date(), "reason": pl.String(),
    "document_no": pl.String(), "entered_by": pl.String()}


def read_manual(conn: Conn, subject_ids: Sequence[str] | None = None
                ) -> pl.DataFrame | None:
    """Manual restrictions (``subject_id, start, until, reason, document_no, entered_by``)
    with their end as lifted or amended since (the latest change decides; a restriction
    lifted on its first day is left out), or ``None``. ``subject_ids``: only theirs."""
    frame = _by_subject(conn, "SELECT subject_id, start, until, reason, document_no, "
                        "entered_by, id FROM manual_restriction",
                        {**MANUAL_SCHEMA, "id": pl.Int64()}, subject_ids, ["id"])
    if frame.height == 0:
        return None
    changes = query_frame(conn, "SELECT id AS change_id, restriction_id, until AS new_until "
                          "FROM restriction_change ORDER BY id",
                          {"change_id": pl.Int64(), "restriction_id": pl.Int64(),
                           "new_until": pl.Date()})
    if changes.height:
        latest = changes.sort("change_id").unique("restriction_id", keep="last")
        frame = frame.join(latest, left_on="id", right_on="restriction_id", how="left")
        frame = frame.with_columns(
            pl.when(pl.col("change_id").is_not_null()).then(pl.col("new_until"))
            .otherwise(pl.col("until")).alias("until")).filter(
            pl.col("until").is_null() | (pl.col("until") >= pl.col("start")))
    frame = frame.select(list(MANUAL_SCHEMA))
    return frame if frame.height else None


def load_from(conn: Conn, rules: RuleSet, known_on: dt.date | None = None,
              subject_ids: Sequence[str] | None = None) -> CreditData:
    """Everything the engine needs, read on ``conn`` (one consistent view); with
    ``subject_ids`` only what concerns those subjects (see the module docstring)."""
    ids = None if subject_ids is None else normalise_ids(subject_ids).unique(
        maintain_order=True).to_list()
    return CreditData(records=read_records(conn, known_on, ids), rules=rules,
                      subjects=read_subjects(conn, ids), lists=read_lists(conn, ids),
                      manual=read_manual(conn, ids))


def load_data(url: str | None = None, rules_path: str | Path | None = None,
              known_on: dt.date | None = None, on: dt.date | None = None,
              subject_ids: Sequence[str] | None = None, direct: bool = False) -> CreditData:
    """The store at ``url`` as :class:`CreditData`. The rule set is ``rules_path`` if
    given, else the published version in force on ``on`` (default today), else the
    project's default rule set. ``known_on`` only trims records recorded after it;
    ``subject_ids`` reads only what concerns those subjects (few-subject answers).
    ``direct``: read through the database's own driver where
    :func:`creditindex.store.driver.connect` can (a short command: no SQLAlchemy is
    imported); the same queries, the same data."""
    from creditindex.store.rulesets import rules_for

    day = on or dt.date.today()
    if direct and url:
        from creditindex.store import driver

        with driver.opened(url) as found:
            if found is not None:
                with driver.read(found) as conn:
                    return load_from(conn, rules_for(conn, rules_path, day), known_on,
                                     subject_ids)
    from creditindex.store.db import get_engine, read_transaction
    from creditindex.store.migrations import ensure_schema

    engine = get_engine(url)
    ensure_schema(engine)
    with read_transaction(engine) as engine_conn:
        return load_from(engine_conn, rules_for(engine_conn, rules_path, day), known_on,
                         subject_ids)
