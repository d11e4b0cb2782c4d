"""The array vocabulary every part of the engine shares: array types, day sentinels and a
few sorting and grouping helpers. Days are int32 days since 1970-01-01."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

IntArray = npt.NDArray[np.int64]
I32Array = npt.NDArray[np.int32]
U32Array = npt.NDArray[np.uint32]
AnyInt = npt.NDArray[np.integer[Any]]
U64Array = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NO_DAY = int(np.iinfo(np.int32).max)  # a missing date: never
OPEN_DAY = 10_000_000  # the end of a bar without end (far past any real day)


EPS = 1e-9


def u64(series: pl.Series) -> U64Array:
    return np.asarray(series.to_numpy(), dtype=np.uint64)


def i64(series: pl.Series) -> IntArray:
    return np.asarray(series.to_numpy(), dtype=np.int64)


def stable_argsort(values: npt.NDArray[Any]) -> U32Array:
    """Indices that sort ``values``, equal values in their order (polars, multithreaded)."""
    frame = pl.DataFrame({"v": values})
    out = frame.select(pl.arg_sort_by("v", maintain_order=True)).to_series()
    return np.asarray(out.to_numpy(), dtype=np.uint32)


_ROWS_AT_ONCE = 1 << 20


def hash_sort(values: U64Array) -> tuple[U32Array, U64Array]:
    """Indices that sort ``values`` (subject key hashes), equal values in their order, and
    the values in that order. One sort of numbers (:func:`sort_values`), not an argsort:
    each value's high bits with its row number in the low bits it needs, so that
    equal high bits keep their rows in order; the few rows whose values share their high
    bits but differ are then put in order among themselves. 10 million hashes: ~0.4 s of
    CPU, against ~1.6 s for a stable argsort (polars' or numpy's)."""
    n = values.size
    shift = max(1, (n - 1).bit_length()) if n else 1
    if n < 2 or shift > 32:
        order = stable_argsort(values)
        return order, values[order]
    low = np.uint64((1 << shift) - 1)
    packed = values & ~low
    for at in range(0, n, _ROWS_AT_ONCE):  # (the row numbers not all made at once)
        end = min(at + _ROWS_AT_ONCE, n)
        packed[at:end] |= np.arange(at, end, dtype=np.uint64)
    if _SIMD_SORT:
        packed.sort()  # in place: no second copy at the process's peak
    else:  # (polars' sort: its memory is read-only to numpy)
        packed = np.array(sort_values(packed))
    # the row numbers: the low 32 bits of each value (the first half on little-endian)
    order = (packed.view(np.uint32)[::2] & np.uint32(low) if np.little_endian
             else (packed & low).astype(np.uint32))
    ordered = values[order]
    packed >>= np.uint64(shift)
    mixed = np.flatnonzero((packed[1:] == packed[:-1]) & (ordered[1:] != ordered[:-1]))
    if mixed.size:
        starts = np.flatnonzero(runs(packed))
        ends = np.r_[starts[1:], n]
        for run in distinct(np.searchsorted(starts, mixed, side="right") - 1):
            a, b = int(starts[run]), int(ends[run])
            within = np.argsort(ordered[a:b], kind="stable")
            order[a:b] = order[a:b][within]
            ordered[a:b] = ordered[a:b][within]
    return order, ordered


def block_argsort(values: IntArray) -> IntArray:
    """Indices that sort ``values`` already sorted but for short runs (timsort: adaptive)."""
    return np.argsort(values, kind="stable").astype(np.int64)


def _numpy_sorts_by_simd() -> bool:
    """Whether ``np.sort`` of 32- and 64-bit numbers runs numpy's vectorised quicksort
    (x86-simd-sort, numpy 2.x): a dispatch target of it (AVX-512 or AVX2; named
    ``X86_V4``/``X86_V3`` from numpy 2.4) built into numpy and present in the CPU."""
    import importlib

    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:
        return False
    features: dict[str, bool] = getattr(umath, "__cpu_features__", {})
    built = {*getattr(umath, "__cpu_dispatch__", ()), *getattr(umath, "__cpu_baseline__", ())}
    return any(t in built and features.get(t, False)
               for t in ("X86_V4", "X86_V3", "AVX512_SKX", "AVX2"))


# 10 million 64-bit hashes: numpy's vectorised sort ~0.1 s of CPU (AVX-512), polars'
# ~0.33-0.37 s; numpy's sort without it ~0.7 s.
_SIMD_SORT = _numpy_sorts_by_simd()


def sort_values(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``values`` ascending, as ``np.sort``: numbers by numpy's vectorised sort where the
    machine has it (:func:`_numpy_sorts_by_simd`), else by polars. The array may be
    read-only."""
    if (values.dtype.kind not in "iuf" or values.size == 0
            or (_SIMD_SORT and values.dtype.itemsize in (4, 8))):
        return np.sort(values)
    return np.asarray(pl.Series(values).sort().to_numpy())


def distinct(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The distinct values, ascending: ``np.unique`` by a sort (numpy 2.4's ``np.unique``
    of integers goes through a hash table, 20x slower on millions of values)."""
    ordered = sort_values(values)
    return ordered[runs(ordered)]


def distinct_places(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """:func:`distinct` of ``values`` and each value's place among them (``np.unique``
    with ``return_inverse``), by one argsort: ``np.searchsorted`` of values in no order
    misses the cache at every step (1.5 million row numbers: 0.7 s of CPU, this 0.1 s)."""
    by_value = np.argsort(values)
    ordered = values[by_value]
    new = runs(ordered)
    places = np.empty(values.size, dtype=np.int64)
    places[by_value] = np.cumsum(new) - 1
    return ordered[new], places


def runs(sorted_values: npt.NDArray[Any]) -> BoolArray:
    """True where a run of equal values starts."""
    new = np.empty(sorted_values.size, dtype=np.bool_)
    if sorted_values.size:
        new[0] = True
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return new


def sums(index: IntArray, values: FloatArray, size: int) -> FloatArray:
    """Per index ``0..size-1``, the sum of its ``values``."""
    return np.asarray(np.bincount(index, weights=values, minlength=size), dtype=np.float64)


WORKERS = max(1, min(4, os.cpu_count() or 1))  # threads working on parts at once
T = TypeVar("T")
U = TypeVar("U")


def in_parallel(work: Callable[[tuple[int, int]], T], chunks: Sequence[tuple[int, int]]
                 ) -> list[T]:
    """``work`` over chunks of subjects, on :data:`WORKERS` threads (numpy and polars
    release the GIL), results in chunk order."""
    return side_by_side([functools.partial(work, c) for c in chunks])


def side_by_side(jobs: list[Callable[[], T]]) -> list[T]:
    """Each of ``jobs``, :data:`WORKERS` at a time on threads, started in their order,
    their results in that order. The list is emptied: each job (and what it holds) is
    let go once done."""
    if WORKERS < 2 or len(jobs) < 2:
        done = []
        while jobs:
            done.append(jobs.pop(0)())
        return done
    with ThreadPoolExecutor(min(WORKERS, len(jobs))) as pool:
        futures = [pool.submit(job) for job in jobs]
        jobs.clear()
        return [future.result() for future in futures]


def beside(job: Callable[[], T], other: Callable[[], U]) -> tuple[T, U]:
    """The results of ``job``, run on a thread of its own, and of ``other``, run on this
    one meanwhile (one after the other with a single worker): two steps that each keep
    mostly one core busy."""
    if WORKERS < 2:
        return job(), other()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(job)
        done = other()
        return future.result(), done


def lexical_positions(values: pl.Series) -> IntArray:
    """Each text's place in the byte order of ``values`` (no nulls; equal texts take
    consecutive places in any order). Texts of one byte length without NUL characters
    (identifiers: always) are put in order as fixed-width bytes (:func:`byte_positions`),
    several times quicker than a sort of strings; any others by polars."""
    n = values.len()
    lengths = (np.asarray(values.str.len_bytes().to_numpy(), dtype=np.int64)
               if n and values.null_count() == 0 else np.zeros(0, dtype=np.int64))
    width = int(lengths.max()) if lengths.size else 0
    fixed = (lengths.size > 0 and 0 < width <= 64 and int(lengths.min()) == width
             and not bool(values.str.contains("\x00", literal=True).any()))
    if fixed:
        joined = values.str.join("").item().encode()
        return byte_positions(np.frombuffer(joined, dtype=np.uint8).reshape(n, width))
    order = np.asarray(values.arg_sort().to_numpy(), dtype=np.int64)
    positions = np.empty(n, dtype=np.int64)
    positions[order] = np.arange(n, dtype=np.int64)
    return positions


def byte_positions(rows: npt.NDArray[np.uint8]) -> IntArray:
    """Each row's place in the byte order of the rows of a 2-D byte array (strings of one
    length; equal rows take consecutive places in any order): the rows sorted by their
    first 8 bytes as a big-endian integer, then those still tied, group by group, by the
    next 4 bytes (one sort of the 64-bit keys (group, 4 bytes) a round). numpy's
    unstable sort of 64-bit integers (vectorised where numpy has it): the keys of a
    round tie only where the rows do. 1.5 million identifiers of 18 bytes: ~0.3 s of
    CPU against ~0.65 s for stable sorts of each 8 bytes, the last first."""
    n, width = rows.shape
    chunks = max(2, -(-width // 4))
    padded = np.zeros((n, chunks * 4), dtype=np.uint8)
    padded[:, :width] = rows
    quads = padded.view(">u4")
    high = np.uint64(32)
    first = (quads[:, 0].astype(np.uint64) << high) | quads[:, 1].astype(np.uint64)
    order = np.argsort(first)
    ordered = first[order]
    del first
    same = ordered[1:] == ordered[:-1]  # a place ties with the one before it
    for c in range(2, chunks):
        if not same.any():
            break
        tied = np.zeros(n, dtype=np.bool_)
        tied[1:] |= same
        tied[:-1] |= same
        at = np.flatnonzero(tied)
        starts = np.ones(at.size, dtype=np.bool_)
        starts[1:] = ~same[at[1:] - 1]
        group = np.cumsum(starts, dtype=np.uint64) - np.uint64(1)
        rows_at = order[at]
        keys = (group << high) | quads[rows_at, c].astype(np.uint64)
        sub = np.argsort(keys)
        order[at] = rows_at[sub]
        keys = keys[sub]
        same = np.zeros(max(n - 1, 0), dtype=np.bool_)
        next_to = at[1:] == at[:-1] + 1
        same[at[:-1][next_to]] = (keys[1:] == keys[:-1])[next_to]
    positions = np.empty(n, dtype=np.int64)
    positions[order] = np.arange(n, dtype=np.int64)
    return positions


def lexical_order(*keys: AnyInt) -> IntArray:
    """Indices sorting rows by ``keys`` (first key first) of non-negative integers: one
    sort of a single int64 key when they fit in 63 bits, else ``np.lexsort``. Rows equal
    in every key keep their order."""
    if not keys or keys[0].size == 0:
        return np.arange(keys[0].size if keys else 0, dtype=np.int64)
    bits = [max(int(k.max()), 0).bit_length() for k in keys]
    if all(int(k.min()) >= 0 for k in keys) and sum(bits) <= 63:
        combined = np.zeros(keys[0].size, dtype=np.int64)
        for k, b in zip(keys, bits, strict=True):
            combined <<= b
            combined |= k.astype(np.int64)
        return stable_argsort(combined).astype(np.int64)
    return np.lexsort(tuple(reversed(keys))).astype(np.int64)
