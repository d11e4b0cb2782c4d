"""The engine's sorting helpers (creditindex.engine.arrays) against numpy's own sorts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditindex.engine import arrays
from creditindex.engine.arrays import byte_positions, distinct_places, hash_sort, sort_values

# Hashes spread over every top byte, many repeated (rows of the same subject).
_POOL = st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=40)


@settings(deadline=None)
@given(st.integers(1, 30), st.lists(st.binary(min_size=30, max_size=30), max_size=300),
       st.integers(0, 255))
def test_byte_positions_are_the_places_in_byte_order(width: int, texts: list[bytes],
                                                     alphabet: int) -> None:
    # few byte values (many ties and shared prefixes) or any
    rows = [bytes(b % (alphabet + 1) for b in t[:width]) for t in texts]
    got = byte_positions(np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows),
                                                                              width))
    assert sorted(got.tolist()) == list(range(len(rows)))
    # equal rows take consecutive places (in any order), each after every smaller row
    for i, row in enumerate(rows):
        assert got[i] == sum(r < row for r in rows) + sum(
            r == row and got[j] < got[i] for j, r in enumerate(rows))


@pytest.mark.parametrize("shared", [0, 3, 7, 8, 11, 12, 17, 25, 29])
def test_byte_positions_of_rows_sharing_long_prefixes(shared: int) -> None:
    """Rows that tie on their first ``shared`` bytes (and in part on more) take their
    places in byte order, round after round."""
    rng = np.random.default_rng(shared)
    rows = rng.integers(0, 3, size=(3_000, 30)).astype(np.uint8)
    rows[:, :shared] = 7
    rows[::5, shared:shared + 3] = 1  # longer ties for some
    got = byte_positions(rows)
    ranked = sorted(range(len(rows)), key=lambda i: bytes(rows[i]))
    texts = [bytes(rows[i]) for i in ranked]
    assert [bytes(r) for r in rows[np.argsort(got)]] == texts


@settings(deadline=None)  # a busy shared machine
@given(_POOL, st.lists(st.integers(0, 39), max_size=3000))
def test_hash_sort_is_a_stable_sort(pool: list[int], picks: list[int]) -> None:
    values = np.array([pool[i % len(pool)] for i in picks], dtype=np.uint64)
    order, ordered = hash_sort(values)
    assert order.dtype == np.uint32
    assert np.array_equal(order, np.argsort(values, kind="stable"))
    assert np.array_equal(ordered, values[order])


def test_hash_sort_of_nothing_and_of_every_top_byte() -> None:
    order, ordered = hash_sort(np.zeros(0, dtype=np.uint64))
    assert order.size == 0 and ordered.size == 0
    rng = np.random.default_rng(7)
    values = rng.integers(0, 2**64 - 1, size=50_000, dtype=np.uint64, endpoint=True)
    values = values[rng.integers(0, values.size, size=200_000)]  # each about four times
    assert np.array_equal(hash_sort(values)[0], np.argsort(values, kind="stable"))


@pytest.mark.parametrize("simd", [True, False])
@settings(deadline=None)
@given(_POOL, st.lists(st.integers(0, 39), max_size=3000),
       st.sampled_from(["u8", "i8", "u4", "i4", "f8", "i2"]))
def test_sort_values_is_numpys_sort_by_either_sort(simd: bool, pool: list[int],
                                                   picks: list[int], dtype: str) -> None:
    """By numpy's vectorised sort (where the machine has it) or by polars: the same
    values ascending."""
    values = np.array([pool[i % len(pool)] for i in picks], dtype=np.uint64).astype(dtype)
    if dtype == "f8":
        values[::7] = np.nan
    values.flags.writeable = False
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "_SIMD_SORT", simd)
        got = sort_values(values)
    assert got.dtype == values.dtype
    assert np.array_equal(got, np.sort(values), equal_nan=dtype == "f8")


@pytest.mark.parametrize("simd", [True, False])
@settings(deadline=None)
@given(st.lists(st.integers(0, 2**16 - 1), min_size=1, max_size=12),
       st.lists(st.integers(0, 11), max_size=3000), st.integers(40, 63))
def test_hash_sort_of_values_sharing_their_high_bits(simd: bool, pool: list[int],
                                                     picks: list[int], high: int) -> None:
    """Values that differ only in the low bits that hold the rows' numbers (their high
    bits equal or few): still a stable sort of the whole values, by either sort."""
    top = np.uint64(1 << high)
    values = np.array([pool[i % len(pool)] for i in picks], dtype=np.uint64) | top
    values.flags.writeable = False
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "_SIMD_SORT", simd)
        order, ordered = hash_sort(values)
    assert np.array_equal(order, np.argsort(values, kind="stable"))
    assert np.array_equal(ordered, values[order])


@settings(deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), max_size=400), st.sampled_from(["i8", "u4", "f8"]))
def test_distinct_places_is_unique_with_its_inverse(values: list[int], dtype: str) -> None:
    array = np.abs(np.array(values, dtype=np.int64)).astype(dtype) if dtype[0] == "u" else (
        np.array(values, dtype=np.int64).astype(dtype))
    found, places = distinct_places(array)
    expected, inverse = np.unique(array, return_inverse=True)
    assert np.array_equal(found, expected)
    assert places.dtype == np.int64 and np.array_equal(places, inverse)


@pytest.mark.parametrize("workers", [1, 2])
def test_side_by_side_gives_each_result_in_order_and_lets_the_jobs_go(workers: int) -> None:
    import functools
    import threading

    seen: list[int] = []
    lock = threading.Lock()

    def job(i: int) -> int:
        with lock:
            seen.append(i)
        return i * i

    jobs = [functools.partial(job, i) for i in range(7)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "WORKERS", workers)
        assert arrays.side_by_side(jobs) == [i * i for i in range(7)]
    assert jobs == [] and sorted(seen) == list(range(7))
    assert arrays.side_by_side([]) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_beside_gives_both_results_and_runs_the_job_on_another_thread(workers: int) -> None:
    import threading

    here = threading.get_ident()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "WORKERS", workers)
        (job_thread, job_value), (other_thread, other_value) = arrays.beside(
            lambda: (threading.get_ident(), "job"), lambda: (threading.get_ident(), 2))
    assert (job_value, other_value) == ("job", 2)
    assert other_thread == here
    assert (job_thread != here) == (workers > 1)


def test_beside_raises_what_the_job_raises() -> None:
    def failing() -> int:
        raise ValueError("bad part")

    with pytest.raises(ValueError, match="bad part"):
        arrays.beside(failing, lambda: 1)
