"""Reading the store back as :class:`CreditData`: the records with their revocations and
repairs as dated facts, the rule set, registered subjects, list entries and manual
restrictions. Large tables are read through the raw driver cursor, column by column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection

from creditindex.evaluate import CreditData
from creditindex.lists import LIST_SCHEMA
from creditindex.records import RECORD_SCHEMA
from creditindex.rules import RuleSet
from creditindex.store.db import (
    FIELD_SEPARATOR,
    fetch_columns,
    fetch_packed,
    get_engine,
    placeholder,
    read_transaction,
)
from creditindex.store.migrations import ensure_schema
from creditindex.store.rulesets import rules_for

EVENT_SCHEMA: dict[str, pl.DataType] = {"id": pl.Int64(), "kind": pl.String(),
                                        "on": pl.Date()}


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


def query_frame(conn: Connection, sql: str, schema: dict[str, pl.DataType],
                params: tuple[Any, ...] = ()) -> pl.DataFrame:
    """The result of ``sql`` as a frame of ``schema`` (columns in the same order)."""
    columns = fetch_columns(conn, sql, params)
    if not columns or not columns[0]:
        return pl.DataFrame(schema=schema)
    return frame_from_columns(columns, schema)


def read_records(conn: Connection, known_on: dt.date | None = None) -> pl.DataFrame:
    """Every stored record in the canonical schema (import order), with ``revoked_on`` and
    ``repaired_on`` as in effect: the value its source carried, or the day of the first
    ``revoked`` / ``repair_granted`` event. ``known_on`` leaves out records recorded later
    (the engine would not count them on that day anyway)."""
    rest = "FROM penalty_record"
    params: tuple[Any, ...] = ()
    if known_on is not None:
        rest += f" WHERE recorded_on <= {placeholder(conn)}"
        params = (known_on.isoformat() if conn.dialect.name == "sqlite" else known_on,)
    schema: dict[str, pl.DataType] = {"id": pl.Int64(), **RECORD_SCHEMA}
    records = unpack(fetch_packed(conn, list(schema), rest + " ORDER BY id", params), schema)
    events = query_frame(conn, "SELECT record_pk, kind, effective_on FROM record_event "
                               "WHERE kind IN ('revoked', 'repair_granted')", EVENT_SCHEMA)
    return apply_events(records, events).select(list(RECORD_SCHEMA))


def apply_events(records: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """``revoked_on`` and ``repaired_on`` of records (with their ``id``) as in effect: the
    value first imported, or the day of the earliest ``revoked`` / ``repair_granted``
    event (``events``: :data:`EVENT_SCHEMA`)."""
    for column, kind in (("revoked_on", "revoked"), ("repaired_on", "repair_granted")):
        dated = events.filter(pl.col("kind") == kind).group_by("id").agg(
            pl.col("on").min().alias("_event"))
        records = records.join(dated, on="id", how="left").with_columns(
            pl.min_horizontal(column, "_event").alias(column)).drop("_event")
    return records


def read_subjects(conn: Connection) -> pl.DataFrame | None:
    """Registered subjects (``subject_id, subject_type, subject_name[, country]``), or
    ``None`` when there are none; ``country`` only when some subject has one."""
    frame = query_frame(conn, "SELECT subject_id, subject_type, subject_name, country FROM subject "
                         "ORDER BY subject_id, subject_type",
                   {"subject_id": pl.String(), "subject_type": pl.String(),
                    "subject_name": pl.String(), "country": pl.String()})
    if frame.height == 0:
        return None
    if frame.get_column("country").null_count() == frame.height:
        frame = frame.drop("country")
    return frame


def read_lists(conn: Connection) -> pl.DataFrame | None:
    """Stored external list entries in the canonical list schema, or ``None``."""
    frame = query_frame(conn, "SELECT list_name, entry_id, subject_id, name, country, listed_on, "
                         "until, grounds, scope, financier, source_row FROM list_entry ORDER BY id",
                         LIST_SCHEMA)
    return frame if frame.height else None


def read_manual(conn: Connection) -> pl.DataFrame | None:
    """Manual restrictions (``subject_id, start, until, reason, document_no, entered_by``),
    or ``None``."""
    frame = query_frame(conn, "SELECT subject_id, start, until, reason, document_no, entered_by "
                         "FROM manual_restriction ORDER BY id",
                   {"subject_id": pl.String(), "start": pl.Date(), "until": pl.Date(),
                    "reason": pl.String(), "document_no": pl.String(),
                    "entered_by": pl.String()})
    return frame if frame.height else None


def load_from(conn: Connection, rules: RuleSet, known_on: dt.date | None = None) -> CreditData:
    """Everything the engine needs, read on ``conn`` (one consistent view)."""
    return CreditData(records=read_records(conn, known_on), rules=rules,
                      subjects=read_subjects(conn), lists=read_lists(conn),
                      manual=read_manual(conn))


def load_data(url: str | None = None, rules_path: str | Path | None = None,
              known_on: dt.date | None = None, on: dt.date | None = None) -> CreditData:
    """The store at ``url`` as :class:`CreditData`. The rule set is ``rules_path`` if
    given, else the published version in force on ``on`` (default today), else the
    project's default rule set. ``known_on`` only trims records recorded after it."""
    engine = get_engine(url)
    ensure_schema(engine)
    with read_transaction(engine) as conn:
        rules = rules_for(conn, rules_path, on or dt.date.today())
        return load_from(conn, rules, known_on)
