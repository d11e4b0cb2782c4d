"""The engine's sorting helpers (creditindex.engine.arrays) against numpy's own sorts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditindex.engine.arrays import byte_order, hash_order, hash_sort

# Hashes spread over every top byte, many repeated (rows of the same subject).
_POOL = st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=40)


@settings(deadline=None)  # a busy shared machine
@given(_POOL, st.lists(st.integers(0, 39), max_size=3000), st.sampled_from([0, 10, 1 << 20]))
def test_hash_order_is_a_stable_sort(pool: list[int], picks: list[int],
                                     one_sort_below: int) -> None:
    values = np.array([pool[i % len(pool)] for i in picks], dtype=np.uint64)
    got = hash_order(values, one_sort_below=one_sort_below)
    assert got.dtype == np.uint32
    assert np.array_equal(got, np.argsort(values, kind="stable"))


def test_hash_order_of_nothing_and_of_every_top_byte() -> None:
    assert hash_order(np.zeros(0, dtype=np.uint64), one_sort_below=0).size == 0
    rng = np.random.default_rng(7)
    values = rng.integers(0, 2**64 - 1, size=50_000, dtype=np.uint64, endpoint=True)
    values = values[rng.integers(0, values.size, size=200_000)]  # each about four times
    assert np.array_equal(hash_order(values, one_sort_below=0),
                          np.argsort(values, kind="stable"))


@settings(deadline=None)
@given(st.integers(1, 30), st.lists(st.binary(min_size=30, max_size=30), max_size=300),
       st.integers(0, 255))
def test_byte_order_is_a_stable_sort_of_the_bytes(width: int, texts: list[bytes],
                                                  alphabet: int) -> None:
    # few byte values (many ties and shared prefixes) or any
    rows = [bytes(b % (alphabet + 1) for b in t[:width]) for t in texts]
    got = byte_order(np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), width))
    assert got.tolist() == sorted(range(len(rows)), key=lambda i: (rows[i], i))


@settings(deadline=None)
@given(_POOL, st.lists(st.integers(0, 39), max_size=3000), st.sampled_from([0, 10, 1 << 20]))
def test_hash_sort_is_a_stable_sort(pool: list[int], picks: list[int],
                                    one_sort_below: int) -> None:
    values = np.array([pool[i % len(pool)] for i in picks], dtype=np.uint64)
    order, ordered = hash_sort(values, one_sort_below=one_sort_below)
    assert order.dtype == np.uint32
    assert np.array_equal(order, np.argsort(values, kind="stable"))
    assert np.array_equal(ordered, values[order])


def test_hash_sort_falls_back_when_the_sort_is_not_stable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 50, size=5000).astype(np.uint64)  # many equal values
    want = np.argsort(values, kind="stable")
    # a sort that puts equal values in descending places
    unstable = np.lexsort((-np.arange(values.size), values)).astype(np.uint32)
    monkeypatch.setattr(pl.Series, "arg_sort", lambda self, *a, **k: pl.Series(unstable))
    order, ordered = hash_sort(values, one_sort_below=0)
    assert np.array_equal(order, want)
    assert np.array_equal(ordered, values[want])
