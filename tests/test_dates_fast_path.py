"""The one date parser (creditindex/dates.py): its fast path for plain ISO dates reads
exactly what the general shapes read, row by row, whatever the other rows of the column
hold (docs/semantics.md, dates)."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditindex.dates import _SHAPE, MAX_DATE, MIN_DATE, parse_date_expr


def reference(text: str) -> dt.date | None:
    """The general shapes alone, in Python: what the parser read before its fast path."""
    m = re.fullmatch(_SHAPE.strip("^$"), text.strip(" "))
    if m is None:
        return None
    y, mo, d = (next(g for g in m.groups()[i::3] if g is not None) for i in range(3))
    try:
        day = dt.date(int(y), int(mo), int(d))
    except ValueError:
        return None
    return day if MIN_DATE <= day <= MAX_DATE else None


def parsed(texts: list[str | None]) -> list[dt.date | None]:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    return frame.select(parse_date_expr("t")).to_series().to_list()


FAST_AND_NOT = [
    "2026-11-30", "2026-1-30", "2026-11-3", "2026/11/30", "20261130", "2026年11月30日",
    "2026-11-30 00:00:00", "2026-11-30T00:00", " 2026-11-30 ", "2026-02-29", "2024-02-29",
    "2026-13-01", "2026-00-10", "2026-11-31", "1899-12-31", "1900-01-01", "9999-12-31",
    "2025", "20251", "45000", "", "2026-11-30x", "x2026-11-30", "02026-11-30",
    "2026-011-30", "+202-11-30", "2026--11-30", None,
]


@pytest.mark.parametrize("text", [t for t in FAST_AND_NOT if t is not None])
def test_fast_path_reads_what_the_general_shapes_read(text: str) -> None:
    assert parsed([text]) == [reference(text)]


def test_a_column_mixing_shapes_reads_each_row_by_itself() -> None:
    texts = FAST_AND_NOT * 3
    assert parsed(texts) == [None if t is None else reference(t) for t in texts]


_PIECES = st.sampled_from(["2026", "1999", "0001", "-", "/", "年", "月", "日", "1", "12",
                           "31", "00", "02", "29", " ", "T", ":", "0", "9", "x"])


@settings(deadline=None, max_examples=300)
@given(st.lists(st.lists(_PIECES, max_size=8).map("".join), min_size=1, max_size=20))
def test_any_text_reads_as_the_general_shapes_read_it(texts: list[str]) -> None:
    assert parsed(list(texts)) == [reference(t) for t in texts]


@settings(deadline=None, max_examples=200)
@given(st.lists(st.one_of(st.none(), st.sampled_from(FAST_AND_NOT[:-1])), max_size=30))
def test_rows_read_by_the_general_shapes_go_back_to_their_own_place(
        texts: list[str | None]) -> None:
    """Only the rows the plain ISO read leaves are read by the general shapes, and each
    answer lands on its own row: whatever mix of plain, other shapes, bad text and empty
    cells, in any order (none, some or all of them slow; an empty column)."""
    assert parsed(texts) == [None if t is None else reference(t) for t in texts]


def test_a_column_inside_a_larger_frame_keeps_its_length_and_order() -> None:
    texts = ["2026/1/2", None, "2026-01-03", "20260104", "bad", "2026年1月5日"] * 1000
    frame = pl.DataFrame({"t": texts, "n": range(len(texts))}, schema={"t": pl.String,
                                                                      "n": pl.Int64})
    out = frame.with_columns(parse_date_expr("t").alias("d")).sort("n", descending=True)
    expected = [None if t is None else reference(t) for t in texts][::-1]
    assert out.get_column("d").to_list() == expected
