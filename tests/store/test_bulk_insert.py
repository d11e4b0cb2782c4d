"""Bulk inserts store a frame's values exactly, on SQLite, PostgreSQL (where ``COPY``
takes the rows as text made by polars, :func:`creditindex.store.db.copy_text`) and
MariaDB: text with backslashes, tabs, newlines, carriage returns and other control
characters, empty text apart from null, floats to the last bit, booleans and dates."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
from polars.testing import assert_frame_equal

from creditindex.store.daily_state import ANSWER_COLUMNS, KEY, STATE_SCHEMA, STORED_STATE
from creditindex.store.db import (
    bulk_insert,
    copy_text,
    get_engine,
    table,
    temp_table,
    write_transaction,
)
from creditindex.store.load import query_frame
from creditindex.store.spells import SPELL_SCHEMA, copy_spell_rows

TRICKY = ["a\\b", "tab\there", "line\nbreak", "cr\rhere", "\\N", "", "中文 | restricted: x",
          "back\\\\slash\\t", "\x07bell\x0bvt\x0cff\x08bs", "trailing\\"]


def _frame() -> pl.DataFrame:
    rng = random.Random(7)
    n = 400
    return pl.DataFrame({
        "subject_id": [f"9144{i:014d}" for i in range(n)],
        "subject_type": rng.choices(["bidder", "agent"], k=n),
        "subject_name": [rng.choice([*TRICKY, None]) for _ in range(n)],
        "credit_index": [rng.choice([rng.uniform(0, 100), round(rng.uniform(0, 100), 2),
                                     100.0, 0.0, 1e-7]) for _ in range(n)],
        "grade": [rng.choice(TRICKY) for _ in range(n)],
        "watch": [rng.choice(["", None, "watch"]) for _ in range(n)],
        "deducted": [rng.uniform(0, 60) for _ in range(n)],
        "restricted": [rng.random() < 0.5 for _ in range(n)],
        "restricted_in": [rng.choice(["", None, "engineering|procurement"]) for _ in range(n)],
        "reasons": ["; ".join(rng.choices(TRICKY, k=5)) for _ in range(n)],
        "next_change": [rng.choice([dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(900)),
                                    None]) for _ in range(n)],
        "decays_until": [None] * n,
        "decay_run_id": [rng.choice([None, rng.randrange(1, 10**12)]) for _ in range(n)],
        "answer_run_id": [rng.randrange(1, 10**12) for _ in range(n)],
    }, schema=STATE_SCHEMA)


def test_a_bulk_insert_stores_the_frames_values(store_url: str) -> None:
    frame = _frame()
    spells = frame.with_columns(pl.lit(dt.date(2026, 5, 1)).alias("from_day")).select(
        list(SPELL_SCHEMA))
    narrow = {c: STATE_SCHEMA[c] for c in STORED_STATE}
    with write_transaction(get_engine(store_url)) as conn:
        bulk_insert(conn, "subject_spell", spells)
        bulk_insert(conn, "subject_state", frame.select(STORED_STATE))
        stored = query_frame(conn, f"SELECT {', '.join(SPELL_SCHEMA)} FROM subject_spell",
                             SPELL_SCHEMA).sort("subject_id")
        state = query_frame(conn, f"SELECT {', '.join(STORED_STATE)} FROM subject_state",
                            narrow).sort("subject_id")
        conn.rollback()
    assert_frame_equal(stored, spells.sort("subject_id"))
    assert_frame_equal(state, frame.select(STORED_STATE).sort("subject_id"))


def test_rows_copied_from_stored_spells_hold_the_spells_values(store_url: str) -> None:
    """Rows made of stored spells inside the database (the keys in a temporary table)
    hold the values of the spells of the day named, each with its own integer values."""
    frame = _frame()
    day = dt.date(2026, 5, 1)
    spells = frame.with_columns(pl.lit(day).alias("from_day")).select(list(SPELL_SCHEMA))
    later = spells.with_columns(pl.lit(day + dt.timedelta(days=1)).alias("from_day"),
                                pl.lit("another day").alias("reasons"))
    keys = frame.select(*KEY, pl.lit(day).alias("from_day"), "decay_run_id")
    columns = [*ANSWER_COLUMNS, "next_change", "decays_until"]
    schema = {c: STATE_SCHEMA[c] for c in [*columns, "decay_run_id"]}
    with write_transaction(get_engine(store_url)) as conn:
        bulk_insert(conn, "subject_spell", pl.concat([later, spells]))
        spell = table("subject_spell")
        into = temp_table(conn, frame.clear(), {
            **{c: spell.c[c].type.compile(dialect=conn.dialect) for c in columns},
            "decay_run_id": "BIGINT"})
        copy_spell_rows(conn, into, keys, columns)
        stored = query_frame(conn, f"SELECT {', '.join(schema)} FROM {into}",
                             schema).sort("subject_id")
        conn.rollback()
    assert_frame_equal(stored, frame.select(list(schema)).sort("subject_id"))


def test_copy_text_is_only_for_the_types_it_writes() -> None:
    parts = copy_text(_frame())
    assert parts is not None and sum(p.count(b"\n") for p in parts) == 400
    assert copy_text(pl.DataFrame({"at": [dt.datetime(2026, 1, 1, 9, 30)]})) is None
