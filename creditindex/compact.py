"""Compact records for the day's answer (``compute``): every row checked as
:func:`creditindex.records.read_records` checks it, but kept in a few bytes a row.

A canonical records frame holds each row's texts (record id, subject name, document
number, source...): about 280 bytes a row, 2.8 GB at 10 million records. The day's answer
reads those texts for few rows: the name of each subject's latest record, the grounds of
the bars in force, and the copies of an act (rows that share subject, role, behaviour and
decision day). So the compact frame keeps, per row, only what the engine computes on:

- the two hashes of each row's (subject_id, subject_type) in place of its subject_id
  (:data:`creditindex.engine.codes.KEY_HASHES`: what the engine groups subjects on;
  16 bytes a row, not ~34), ``subject_type`` and ``behaviour_code`` as enums, ``source``
  as a categorical;
- the dates (``recorded_on`` already defaulted to ``decided_on``) and ``restrict_scope``
  as its category mask (:func:`creditindex.categories.scope_mask_expr`);
- for the rows that tie with another on (subject, role, behaviour, decided), the order of
  copies the ledger needs (:data:`COPY_COLUMNS`, worked out here from their texts).

Every other text, subject_id included, is read back from the files, for the rows an
answer shows, by :class:`RecordText`. Files whose rows repeat a (source, record_id) are
not made compact (their copies are merged on the canonical frame):
:func:`read_compact_records` says so by returning ``None``. It also gives the frame's
subject codes and row columns (found while the copies' texts are read back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex.categories import ALL
from creditindex.engine.arrays import beside, distinct, distinct_places, sort_values, u64
from creditindex.engine.codes import KEY_HASHES, SubjectCodes, key_hash_exprs, subject_codes
from creditindex.engine.ledger import BehaviourTable, RowColumns
from creditindex.readers import PARQUET_SUFFIXES, read_parquet_rows_of
from creditindex.records import (
    _UNCHECKED,
    OPTIONAL,
    RECORD_KEY_HASH,
    REQUIRED,
    read_checked_parts,
    record_key_hash_expr,
)
from creditindex.rules import SUBJECT_TYPES, RuleSet

# The texts a compact frame does not hold (read back by :class:`RecordText`).
TEXT_COLUMNS = ("subject_id", "record_id", "document_no", "subject_name")
# Per row that ties with another on (subject, role, behaviour, decided): ``_copy_rank``,
# its place among them by (document_no, recorded_on, source, record_id), and
# ``_copy_doc``, the same number for rows with the same non-blank document_no (-1 for the
# other rows, and for a blank document_no).
COPY_COLUMNS = ("_copy_rank", "_copy_doc")
# Smaller files are read canonically: their frame is under a gigabyte, and one read
# (no text read back) is quicker.
COMPACT_FROM = 2_000_000
_DATES = ("decided_on", "recorded_on", "revoked_on", "repaired_on", "restrict_until")


def compact_schema(rules: RuleSet) -> dict[str, pl.DataType]:
    """The columns of a compact frame for ``rules`` (the copy columns come after them)."""
    return {
        **{c: pl.UInt64() for c in KEY_HASHES},
        "subject_type": pl.Enum(list(SUBJECT_TYPES)),
        "behaviour_code": pl.Enum([b.code for b in rules.behaviour]),
        "source": pl.Categorical(),
        **{c: pl.Date() for c in _DATES},
        "restrict_scope": pl.Int8(),
    }


@dataclass(frozen=True)
class RecordText:
    """Where the rows of a compact frame come from: ``paths`` one after the other, the
    first row of each at ``starts``; their texts are read back from there (checked,
    trimmed and, for subject_id, upper-cased as when they were first read)."""

    paths: tuple[str, ...]
    starts: tuple[int, ...]

    def gather(self, rows: npt.NDArray[np.integer], columns: Sequence[str]) -> pl.DataFrame:
        """``columns`` (text) of the compact frame's ``rows``, in that order."""
        return self.gather_each([(rows, columns)])[0]

    def gather_each(self, asks: Sequence[tuple[npt.NDArray[np.integer], Sequence[str]]]
                    ) -> list[pl.DataFrame]:
        """:meth:`gather` of each ``(rows, columns)`` asked, each file read once for them
        all (:func:`creditindex.readers.read_parquet_rows_of`)."""
        placed = [distinct_places(np.asarray(rows, dtype=np.int64)) for rows, _ in asks]
        wanted = [w for w, _ in placed]
        pieces: list[list[pl.DataFrame]] = [[] for _ in asks]
        ends = (*self.starts[1:], None)
        for path, start, end in zip(self.paths, self.starts, ends, strict=True):
            spans = [(int(np.searchsorted(w, start)),
                      w.size if end is None else int(np.searchsorted(w, end))) for w in wanted]
            if any(lo < hi for lo, hi in spans):
                found = read_parquet_rows_of(path, [
                    (w[lo:hi] - start, columns)
                    for w, (lo, hi), (_, columns) in zip(wanted, spans, asks, strict=True)])
                for into, (lo, hi), frame in zip(pieces, spans, found, strict=True):
                    if lo < hi:
                        into.append(frame)
        out = []
        for (_, columns), (_, places), parts in zip(asks, placed, pieces, strict=True):
            text = (pl.concat(parts) if parts
                    else pl.DataFrame(schema={c: pl.String for c in columns}))
            if "subject_id" in columns:
                text = text.with_columns(pl.col("subject_id").str.to_uppercase())
            out.append(text.select(pl.all().gather(pl.Series(places))))
        return out


class CompactRecords(NamedTuple):
    """What :func:`read_compact_records` reads: the compact frame, where its texts are,
    its subject codes (:func:`creditindex.engine.codes.subject_codes` of ``records``) and,
    when asked for, its rows as the ledger reads them as known on a day
    (:class:`creditindex.engine.ledger.RowColumns`)."""

    records: pl.DataFrame
    text: RecordText
    codes: SubjectCodes
    columns: RowColumns | None = None


def read_compact_records(paths: Sequence[str | Path], rules: RuleSet,
                         today: dt.date | None = None, known_on: int | None = None
                         ) -> CompactRecords | None:
    """Read and check Parquet record files (every check of
    :func:`creditindex.records.read_records`, the same problems) into a compact frame,
    where its texts are, its subject codes and, with ``known_on`` (a day), its row
    columns as known on that day; ``None`` when a file is not Parquet, the files hold
    fewer than :data:`COMPACT_FROM` rows, or two rows share a (source, record_id) (copies
    to merge): read the canonical frame instead.

    Once the parts are read, the work on one core is done two things at once: the check
    for repeated record keys beside the search for copies of an act, and the subject
    codes and row columns beside the order of those copies (its texts read back from the
    files)."""
    if any(Path(p).suffix.lower() not in PARQUET_SUFFIXES for p in paths):
        return None
    if _rows_in(paths) < COMPACT_FROM:
        return None
    day = today or dt.date.today()
    schema = compact_schema(rules)
    # What the checks read; document_no is checked by none, so it is read back only.
    read = {*REQUIRED, *OPTIONAL} - {*_UNCHECKED, "document_no"}
    parts, starts = read_checked_parts(paths, rules, day, read,
                                       lambda frame: _compact_part(frame, schema))
    whole = _one_frame(parts, schema)
    def copies_of_acts() -> npt.NDArray[np.int64]:  # rows that may be copies of one act
        tie_key = whole.get_column("_tie_key")
        return np.flatnonzero(tie_key.is_in(pl.Series(_repeated(tie_key)).implode()).to_numpy())

    repeated, tied = beside(lambda: _repeated(whole.get_column(RECORD_KEY_HASH)),
                            copies_of_acts)
    if repeated.size:
        return None
    # (a frame of the other columns: ``drop`` put this frame of many pieces in one piece
    # again, ~300 MB more at 10M rows, at the process's peak)
    whole = pl.DataFrame([c for c in whole.get_columns()
                          if c.name not in (RECORD_KEY_HASH, "_tie_key")])
    text = RecordText(tuple(str(p) for p in paths), tuple(starts))

    def engine_input() -> tuple[SubjectCodes, RowColumns | None]:
        return subject_codes(whole), (None if known_on is None else RowColumns.of(
            whole, BehaviourTable.of(rules), known_on))

    (codes, columns), copies = beside(engine_input, lambda: _copy_order(whole, tied, text))
    return CompactRecords(whole.with_columns(copies), text, codes, columns)


# What makes rows copies of one act (with the decision day): subject, role, behaviour.
_ACT = (*KEY_HASHES, "subject_type", "behaviour_code")


def _repeated(hashes: pl.Series) -> npt.NDArray[np.uint64]:
    """The values found more than once (by a sort: lighter than a hash table of every
    value)."""
    ordered = sort_values(u64(hashes))
    same = ordered[1:] == ordered[:-1]
    return distinct(ordered[1:][same])


def _rows_in(paths: Sequence[str | Path]) -> int:
    """The rows of Parquet files, from their metadata (0 for a file that cannot say: it is
    refused when read)."""
    total = 0
    for path in paths:
        try:
            total += int(pl.scan_parquet(path).select(pl.len()).collect().item())
        except Exception:  # polars raises several kinds; the reading words the problem
            continue
    return total


def _compact_part(checked: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A checked part (:func:`creditindex.records.checked_rows`) as compact columns, with
    a hash of each row's record key (source, record_id) and one of its copy key (subject,
    role, behaviour, decision day: :data:`_ACT`), ``_tie_key``. (Hashed here, a part at
    a time on the reading threads: hashed at once as a struct of the whole frame's
    columns in pieces, they took ~250 MB more at 10M rows, at the process's peak.)"""
    compact = checked.select(
        *key_hash_exprs("subject_id", "subject_type"),
        _enum_of("_type", schema["subject_type"]).alias("subject_type"),
        _enum_of("_code", schema["behaviour_code"]).alias("behaviour_code"),
        pl.col("source").cast(schema["source"]),
        pl.col("_decided_on").alias("decided_on"),
        pl.coalesce("_recorded_on", "_decided_on").alias("recorded_on"),
        *(pl.col(f"_{c}").alias(c) for c in ("revoked_on", "repaired_on", "restrict_until")),
        pl.col("_scope_mask").clip(0, ALL).fill_null(0).cast(pl.Int8).alias("restrict_scope"),
        record_key_hash_expr().alias(RECORD_KEY_HASH),
    )
    return compact.with_columns(pl.struct(*_ACT, "decided_on").hash().alias("_tie_key"))


def _enum_of(number: str, dtype: pl.DataType) -> pl.Expr:
    """An enum column from the numbers the checks gave its values (``_type``: the place
    in :data:`SUBJECT_TYPES`, ``_code``: in the rule set's behaviours, the order of
    :func:`compact_schema`'s enums): a gather from the enum's few values, not a lookup
    of every row's text (ten times quicker)."""
    assert isinstance(dtype, pl.Enum)
    return pl.lit(pl.Series(dtype.categories, dtype=dtype)).gather(pl.col(number))


def _one_frame(parts: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The parts (a list, emptied) as one frame, its columns left in the parts' pieces: a
    column in one piece would be a new allocation of its whole size while the parts'
    memory is still held by the allocator (~300 MB more at the peak of a 10M-row file).
    What the engine reads of them is computed into new arrays anyway (the key hashes
    copied once, into numpy)."""
    if not parts:
        return pl.DataFrame(schema={**schema, RECORD_KEY_HASH: pl.UInt64,
                                    "_tie_key": pl.UInt64})
    whole = pl.concat(parts, how="vertical", rechunk=False)
    parts.clear()
    return whole


def _copy_order(frame: pl.DataFrame, tied: npt.NDArray[np.int64], text: RecordText
                ) -> list[pl.Series]:
    """:data:`COPY_COLUMNS` for ``frame``: for the rows ``tied`` (those whose copy key is
    shared, a superset of the rows that tie), their order among the rows with the same
    subject, role, behaviour and decision day by (document_no, recorded_on, source,
    record_id), and a number per non-blank document_no among them."""
    rank = np.full(frame.height, -1, dtype=np.int32)
    doc = np.full(frame.height, -1, dtype=np.int32)
    if tied.size:
        at = pl.Series(tied)
        group = [*_ACT, "decided_on"]
        rows = frame.select(pl.col(group).gather(at), pl.col("recorded_on").gather(at),
                            pl.col("source").gather(at).cast(pl.String),
                            pl.Series("_row", tied)).with_columns(
            text.gather(tied, ["record_id", "document_no"]))
        ordered = rows.sort(*group, "document_no", "recorded_on", "source", "record_id",
                            nulls_last=True)
        has_doc = pl.col("document_no").is_not_null() & (
            pl.col("document_no").str.strip_chars() != "")
        numbered = ordered.select(
            "_row", pl.int_range(pl.len(), dtype=pl.Int32).alias("rank"),
            pl.when(has_doc).then(
                pl.struct(*group, "document_no").is_first_distinct().cum_sum()
                .cast(pl.Int32)).otherwise(-1).alias("doc"))
        where = numbered.get_column("_row").to_numpy()
        rank[where] = numbered.get_column("rank").to_numpy()
        doc[where] = numbered.get_column("doc").to_numpy()
    return [pl.Series(COPY_COLUMNS[0], rank), pl.Series(COPY_COLUMNS[1], doc)]
