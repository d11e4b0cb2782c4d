"""The array vocabulary every part of the engine shares: array types, day sentinels and a
few sorting and grouping helpers. Days are int32 days since 1970-01-01."""

from __future__ import annotations

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


def block_argsort(values: IntArray) -> IntArray:
    """Indices that sort ``values`` already sorted but for short runs (timsort: adaptive)."""
    return np.argsort(values, kind="stable").astype(np.int64)


def distinct(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The distinct values, ascending: ``np.unique`` by a sort (numpy 2.4's ``np.unique``
    of integers goes through a hash table, 20x slower on millions of values)."""
    ordered = np.sort(values)
    return ordered[runs(ordered)]


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


def in_parallel(work: Callable[[tuple[int, int]], T], chunks: Sequence[tuple[int, int]]
                 ) -> list[T]:
    """``work`` over chunks of subjects, on :data:`WORKERS` threads (numpy and polars
    release the GIL), results in chunk order."""
    if WORKERS < 2 or len(chunks) < 2:
        return [work(c) for c in chunks]
    with ThreadPoolExecutor(min(WORKERS, len(chunks))) as pool:
        return list(pool.map(work, chunks))
