"""Rows looked up by subject (subject_id, subject_type) without scanning them all: the
daily job's catch-up asks, every day, for the ledger rows of the few hundred subjects
due that day among the ~100,000 rows of every due subject."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

KEY = ["subject_id", "subject_type"]
_WHERE_SCHEMA: dict[str, pl.DataType] = {"subject_id": pl.String(), "subject_type": pl.String(),
                                         "_at": pl.Int64(), "_n": pl.Int64()}


@dataclass(frozen=True)
class KeyedRows:
    """``rows`` in blocks of one subject each (in their order within it) and ``where``:
    per subject, its block's first row and length."""

    rows: pl.DataFrame
    where: pl.DataFrame

    @classmethod
    def of(cls, rows: pl.DataFrame, offset: int = 0) -> KeyedRows:
        """``rows`` (with the :data:`KEY` columns) indexed by subject (blocks counted
        from ``offset``)."""
        rows = rows.sort(KEY, maintain_order=True)
        where = rows.select(KEY).with_row_index("_at", offset).group_by(
            KEY, maintain_order=True).agg(pl.col("_at").first(), pl.len().alias("_n"))
        return cls(rows, where.cast(_WHERE_SCHEMA))  # type: ignore[arg-type]

    def of_subjects(self, keys: pl.DataFrame) -> pl.DataFrame:
        """The rows of the subjects ``keys`` (a frame with the :data:`KEY` columns, each
        subject once)."""
        at = keys.select(KEY).join(self.where, on=KEY).select(
            pl.int_ranges("_at", pl.col("_at") + pl.col("_n")).explode().drop_nulls())
        return self.rows[at.get_column("_at")] if at.height else self.rows.clear()

    def replaced(self, rows: pl.DataFrame) -> KeyedRows:
        """These rows, those of the subjects of ``rows`` replaced by ``rows``."""
        new = KeyedRows.of(rows, offset=self.rows.height)
        return KeyedRows(pl.concat([self.rows, new.rows]), pl.concat([
            self.where.join(new.where.select(KEY), on=KEY, how="anti"), new.where]))
