"""The answer's order on integers (creditindex.engine.arrays.lexical_positions,
lexical_order; evaluate.answer_order) is the order of sorting the texts themselves."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from creditindex.engine.arrays import lexical_order, lexical_positions
from creditindex.evaluate import answer_order

_FIXED = st.lists(st.text(alphabet="0129AXYZ", min_size=4, max_size=4), max_size=60)
_ANY = st.lists(st.text(alphabet=st.sampled_from("0A9Xa年\x00 é"), max_size=5), max_size=60)


def _check_positions(values: list[str]) -> None:
    got = lexical_positions(pl.Series(values, dtype=pl.String))
    assert sorted(got.tolist()) == list(range(len(values)))
    by_bytes = [v.encode() for v in values]
    for i, a in enumerate(by_bytes):
        for j, b in enumerate(by_bytes):
            if a < b:
                assert got[i] < got[j]


@settings(deadline=None)  # a busy shared machine
@given(_FIXED)
def test_positions_of_fixed_width_texts_are_their_byte_order(values: list[str]) -> None:
    _check_positions(values)


@settings(deadline=None)
@given(_ANY)
def test_positions_of_any_texts_are_their_byte_order(values: list[str]) -> None:
    _check_positions(values)


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**40), st.integers(0, 50)),
                max_size=50), st.booleans())
def test_order_of_integer_keys_is_lexsort(rows: list[tuple[int, int, int]],
                                          narrow: bool) -> None:
    keys = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(3)]
    if narrow:  # fits in one int64 key
        keys[1] %= 1000
    want = np.lexsort(tuple(reversed(keys))) if rows else np.zeros(0, dtype=np.int64)
    assert lexical_order(*keys).tolist() == want.tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["bidder", "agent", "expert", "tenderer"]),
                          st.integers(1, 6), st.text(alphabet="019AXZ", min_size=3,
                                                     max_size=3)),
                max_size=80, unique_by=lambda r: (r[0], r[2])), st.booleans())
def test_answer_order_is_the_sort_of_the_answer(rows: list[tuple[str, int, str]],
                                               mixed_widths: bool) -> None:
    if mixed_widths:
        rows = [(t, r, i[: 1 + k % 3]) for k, (t, r, i) in enumerate(rows)]
        rows = list({(t, i): (t, r, i) for t, r, i in rows}.values())
    frame = pl.DataFrame(rows, schema={"subject_type": pl.String, "rank": pl.Int64,
                                       "subject_id": pl.String}, orient="row")
    want = frame.sort("subject_type", "rank", "subject_id")
    assert frame[pl.Series(answer_order(frame))].equals(want)
