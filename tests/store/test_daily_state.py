"""The daily job's state rows in the store (:mod:`creditindex.store.daily_state`)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from creditindex.store.daily_state import KEY, STATE_SCHEMA, STORED_STATE, write_rows
from creditindex.store.db import bulk_insert, get_engine, write_transaction
from creditindex.store.load import query_frame


def _state(n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "subject_id": [f"9144{i % (n // 2):014d}" for i in range(n)],
        "subject_type": ["bidder" if i < n // 2 else "agent" for i in range(n)],
        "subject_name": [f"名称 {i}" for i in range(n)],
        "credit_index": [80.0 + i / 100 for i in range(n)],
        "grade": ["B"] * n, "watch": [""] * n, "deducted": [20.0 - i / 100 for i in range(n)],
        "restricted": [i % 3 == 0 for i in range(n)], "restricted_in": [None] * n,
        "reasons": [f"GEN-X -{i}.0; " * 40 for i in range(n)],
        "next_change": [dt.date(2026, 11, 1) + dt.timedelta(days=i % 9) for i in range(n)],
        "decays_until": [dt.date(2026, 12, 31) if i % 2 else None for i in range(n)],
        "decay_run_id": [7 if i % 2 else None for i in range(n)],
        "answer_run_id": [5 + i % 3 for i in range(n)],
    }, schema=STATE_SCHEMA).select(STORED_STATE)


def test_writing_rows_changes_only_the_rows_named_and_adds_the_new(store_url: str) -> None:
    """The rows of the subjects named (by subject_id and type: the other role of the
    same id stays) take the values written, subjects not in the state are added, and
    every other row stays."""
    state = _state(40)
    written = pl.concat([
        state.filter(pl.col("subject_type") == "bidder").head(7).with_columns(
            pl.lit(99, pl.Int64).alias("answer_run_id"),
            pl.lit(dt.date(2027, 3, 1)).alias("next_change"),
            pl.lit(None, pl.Date).alias("decays_until"),
            pl.lit(None, pl.Int64).alias("decay_run_id")),
        state.head(3).with_columns(pl.format("NEW{}", pl.col("subject_id")).alias(
            "subject_id"))])
    with write_transaction(get_engine(store_url)) as conn:
        bulk_insert(conn, "subject_state", state)
        write_rows(conn, written)
        write_rows(conn, written.clear())
        stored = query_frame(conn, f"SELECT {', '.join(STORED_STATE)} FROM subject_state",
                             {c: STATE_SCHEMA[c] for c in STORED_STATE})
        conn.rollback()
    expected = pl.concat([state.join(written, on=KEY, how="anti"), written])
    assert_frame_equal(stored.sort(KEY), expected.sort(KEY))
    assert stored.height == 43
