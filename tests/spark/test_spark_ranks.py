"""Ranks from counts per (type, index value) equal ranks from sorting everyone."""

from __future__ import annotations

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from creditindex.engine import rank_expr
from creditindex.spark.ranks import ranks_from_counts


def test_ranks_from_counts_equal_a_full_sort() -> None:
    rng = np.random.default_rng(5)
    n = 5000
    frame = pl.DataFrame({
        "subject_id": [f"S{i}" for i in range(n)],
        "subject_type": rng.choice(["bidder", "agent", "expert"], n),
        # Few distinct values, as rounded indices have: many ties.
        "index": np.round(rng.choice(np.arange(60, 100.01, 0.25), n), 2),
    })
    want = frame.with_columns(rank_expr().alias("rank"))
    counts = frame.group_by("subject_type", "index").agg(pl.len().alias("count"))
    got = frame.join(ranks_from_counts(counts), on=["subject_type", "index"], how="left")
    assert_frame_equal(got.sort("subject_id"), want.sort("subject_id"))
    assert got.get_column("rank").min() == 1
