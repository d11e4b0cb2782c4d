"""Subject codes: strings are touched once, to hash them; everything after runs on numpy
arrays keyed by a dense integer code per (subject_id, subject_type).

Two independent 64-bit hashes are taken: the first groups, the second verifies (two keys
would have to collide under both to be merged); should the first collide, codes fall back
to exact string grouping. Rows are laid out grouped by code (a sorted single-key layout),
so that later sorts only order a few entries within each subject, and work is split into
chunks of whole subjects (:func:`code_chunks`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl

from creditindex.engine.arrays import (
    AnyInt,
    I32Array,
    IntArray,
    U64Array,
    hash_sort,
    i64,
    runs,
    stable_argsort,
    u64,
)

SUBJECT_KEY = ["subject_id", "subject_type"]


SEED_A, SEED_A2, SEED_B, SEED_B2 = 0x51ED, 0x7A3B, 0x2C9F, 0x6D1E
# A records frame may hold each row's two key hashes (:func:`key_hash_exprs`) in these
# columns in place of its subject_id (compact records, :mod:`creditindex.compact`).
KEY_HASHES = ("_key_a", "_key_b")


def key_hash_exprs(id_col: str = "subject_id", type_col: str = "subject_type"
                   ) -> tuple[pl.Expr, pl.Expr]:
    """The two independent 64-bit hashes of (subject_id, subject_type), named as
    :data:`KEY_HASHES` (equal for equal texts of one column type)."""
    return ((pl.col(id_col).hash(SEED_A) ^ pl.col(type_col).hash(SEED_A2)
             ).alias(KEY_HASHES[0]),
            (pl.col(id_col).hash(SEED_B) ^ pl.col(type_col).hash(SEED_B2)
             ).alias(KEY_HASHES[1]))


def key_hashes(frame: pl.DataFrame, id_col: str = "subject_id",
               type_col: str = "subject_type") -> tuple[U64Array, U64Array]:
    """The two independent 64-bit hashes of each row's (subject_id, subject_type): those
    the frame holds (:data:`KEY_HASHES`) when it has no ``id_col``."""
    if id_col not in frame.columns and all(c in frame.columns for c in KEY_HASHES):
        return u64(frame.get_column(KEY_HASHES[0])), u64(frame.get_column(KEY_HASHES[1]))
    out = frame.select(*key_hash_exprs(id_col, type_col))
    return u64(out.get_column(KEY_HASHES[0])), u64(out.get_column(KEY_HASHES[1]))


@dataclass(frozen=True)
class SubjectCodes:
    """Dense codes ``0..size-1`` for the (subject_id, subject_type) pairs of some rows:
    ``order`` lists the rows grouped by code (ascending rows within a code), ``offsets``
    where each code's rows start in it; ``first_row`` is, per code, a row holding its
    strings; ``hash_a``/``hash_b`` are the key's two hashes per code."""

    order: AnyInt
    offsets: IntArray
    first_row: AnyInt
    hash_a: U64Array
    hash_b: U64Array

    @property
    def size(self) -> int:
        """The number of distinct subjects."""
        return int(self.first_row.size)

    def sorted_codes(self) -> I32Array:
        """The code of each row of ``order``."""
        return np.repeat(np.arange(self.size, dtype=np.int32), np.diff(self.offsets))

    def keys(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``subject_id, subject_type`` per code, from the rows of ``frame``."""
        return frame.select(pl.col(*SUBJECT_KEY).gather(pl.Series(self.first_row))
                            .cast(pl.String))


def _codes_from(order: AnyInt, counts: IntArray, hash_a: U64Array, hash_b: U64Array
                ) -> SubjectCodes:
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    first = order[offsets[:-1]]
    return SubjectCodes(order=order, offsets=offsets, first_row=first,
                        hash_a=hash_a[first], hash_b=hash_b[first])


def subject_codes(frame: pl.DataFrame, id_col: str = "subject_id",
                  type_col: str = "subject_type", lexical: bool = False) -> SubjectCodes:
    """Dense integer codes of the (subject_id, subject_type) pairs of ``frame``'s rows,
    numbered in the order of their hashes, or of the keys themselves (``lexical``). A
    frame holding the keys' hashes (:data:`KEY_HASHES`) in place of subject_id is
    grouped on them (not ``lexical``)."""
    ka, kb = key_hashes(frame, id_col, type_col)
    order, sorted_a = hash_sort(ka)
    new = runs(sorted_a)
    del sorted_a
    sorted_b = kb[order]
    collision = order.size > 1 and bool(np.any(~new[1:] & (sorted_b[1:] != sorted_b[:-1])))
    del sorted_b
    if collision:  # two keys share the first hash: group on the keys themselves
        code = _exact_codes(frame, id_col, type_col, ka, kb)
        return _codes_from(stable_argsort(code), np.bincount(code), ka, kb)
    starts = np.flatnonzero(new)
    del new
    counts = np.diff(np.r_[starts, order.size])
    codes = _codes_from(order, counts, ka, kb)
    if not lexical or codes.size == 0:
        return codes
    keys = codes.keys(frame.rename({id_col: SUBJECT_KEY[0], type_col: SUBJECT_KEY[1]})
                      if (id_col, type_col) != tuple(SUBJECT_KEY) else frame)
    lex = i64(keys.select(pl.struct(SUBJECT_KEY).rank("ordinal").cast(pl.Int64) - 1
                           ).to_series())
    inverse = np.empty_like(lex)
    inverse[lex] = np.arange(lex.size, dtype=np.int64)
    new_counts = counts[inverse]
    new_starts = np.cumsum(new_counts) - new_counts
    moved = order[np.repeat(codes.offsets[:-1][inverse] - new_starts, new_counts)
                  + np.arange(order.size, dtype=np.int64)]
    return _codes_from(moved, new_counts, ka, kb)


def _exact_codes(frame: pl.DataFrame, id_col: str, type_col: str, ka: U64Array,
                 kb: U64Array) -> IntArray:
    """Dense codes of the rows' keys when two keys share the first hash: by the strings,
    or, for a frame holding only the keys' hashes, by both hashes (two keys would have
    to collide under both to be merged, as when the second hash verifies the first)."""
    if id_col in frame.columns:
        keys = frame.select(pl.struct(id_col, type_col).alias("k"))
    else:
        keys = pl.DataFrame({"k": pl.DataFrame({"a": ka, "b": kb}).select(
            pl.struct("a", "b")).to_series()})
    return i64(keys.select(pl.col("k").rank("dense").cast(pl.Int64) - 1).to_series())


def dense_codes(hash_a: U64Array, hash_b: U64Array) -> IntArray | None:
    """Dense codes grouping equal ``(hash_a, hash_b)`` pairs (numbered in ``hash_a``
    order), or ``None`` when two different ``hash_b`` share a ``hash_a``."""
    order = stable_argsort(hash_a)
    sa, sb = hash_a[order], hash_b[order]
    new = runs(sa)
    if sa.size > 1 and bool(np.any(~new[1:] & (sb[1:] != sb[:-1]))):
        return None
    code = np.empty(sa.size, dtype=np.int64)
    code[order] = np.cumsum(new) - 1
    return code


def id_groups(keys: pl.DataFrame) -> IntArray:
    """Per (subject_id, subject_type) key, a dense code of its subject_id alone."""
    hashes = keys.select(pl.col("subject_id").hash(SEED_A).alias("a"),
                         pl.col("subject_id").hash(SEED_B).alias("b"))
    code = dense_codes(u64(hashes.get_column("a")), u64(hashes.get_column("b")))
    if code is None:
        code = i64(keys.select(pl.col("subject_id").rank("dense").cast(pl.Int64) - 1
                                ).to_series())
    return code


CHUNK_ROWS = 1 << 18  # rows per part when work is split by subject (bounds the memory)


def code_chunks(codes: SubjectCodes, rows: int | None = None) -> list[tuple[int, int]]:
    """Ranges of subject codes ``[lo, hi)`` holding about ``rows`` records rows each
    (default :data:`CHUNK_ROWS`)."""
    rows = CHUNK_ROWS if rows is None else rows
    total = int(codes.offsets[-1])
    if codes.size == 0:
        return []
    cuts = np.searchsorted(codes.offsets, np.arange(0, total, max(rows, 1)), side="right") - 1
    bounds = sorted({0, codes.size, *(int(c) for c in cuts if 0 <= c < codes.size)})
    return list(itertools.pairwise(bounds))
