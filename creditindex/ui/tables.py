"""Frame helpers for the faces: public views (masked identifiers), filters, paging,
downloads and the comparison of two days' answers. No scoring here: every number comes
from :mod:`creditindex.evaluate`; these functions only select, mask, slice and join.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import polars as pl

from creditindex.identifiers import (  # the one masking rule, re-exported for the pages
    RID_PATTERN as RID_PATTERN,
)
from creditindex.identifiers import looks_personal as looks_personal
from creditindex.identifiers import looks_personal_expr as looks_personal_expr
from creditindex.identifiers import mask_frame as mask_frame
from creditindex.identifiers import mask_text as mask_text
from creditindex.identifiers import mask_text_expr as mask_text_expr
from creditindex.identifiers import public_id as public_id
from creditindex.identifiers import public_id_expr as public_id_expr
from creditindex.output import neutralise_formulas
from creditindex.readers import decode_text, read_table

_SPLIT = re.compile(r"[\s,;\uff0c\uff1b\u3001|]+")  # also the full-width , ; and 、


@dataclass(frozen=True)
class RankingFilter:
    """What a user asked to see of one subject type's ranking."""

    grades: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    industry_ids: pl.Series | None = None
    restricted: bool | None = None
    query: str = ""


def filter_rankings(frame: pl.DataFrame, f: RankingFilter) -> pl.DataFrame:
    """Rows of one subject type's ranking that pass the filter (order kept)."""
    conds: list[pl.Expr] = []
    if f.grades:
        conds.append(pl.col("grade").is_in(list(f.grades)))
    if f.regions:
        conds.append(pl.col("region").is_in(list(f.regions)))
    if f.restricted is not None:
        conds.append(pl.col("restricted") == f.restricted)
    if f.industry_ids is not None:
        conds.append(pl.col("subject_id").is_in(f.industry_ids.implode()))
    q = f.query.strip().upper()
    if q:
        conds.append(pl.col("_search").str.contains(q, literal=True)
                     | (pl.col("subject_id") == q))
    return frame.filter(*conds) if conds else frame


def shorten(column: str, width: int) -> pl.Expr:
    """A text column cut to ``width`` characters (an ellipsis marks the cut)."""
    c = pl.col(column).fill_null("")
    return pl.when(c.str.len_chars() > width).then(
        c.str.slice(0, width - 1) + pl.lit("\u2026")).otherwise(c).alias(column)


def grade_counts(frame: pl.DataFrame, grade_order: list[str]) -> pl.DataFrame:
    """Subjects per grade (``grade, subjects``), every grade of ``grade_order`` in that
    order, a grade nobody has counted as 0."""
    counts = frame.group_by("grade").agg(pl.len().cast(pl.Int64).alias("subjects"))
    return pl.DataFrame({"grade": grade_order}, schema={"grade": pl.String}).join(
        counts, on="grade", how="left", maintain_order="left").with_columns(
        pl.col("subjects").fill_null(0))


def page_count(rows: int, size: int) -> int:
    """How many pages of ``size`` rows ``rows`` rows take (at least one)."""
    return max(1, -(-rows // size))


def page_of(frame: pl.DataFrame, page: int, size: int, reverse: bool = False
            ) -> pl.DataFrame:
    """Page ``page`` (from 1) of ``size`` rows; with ``reverse``, counted from the last
    row backwards (lowest index first) without copying the frame."""
    first = (max(1, page) - 1) * size
    if not reverse:
        return frame.slice(first, size)
    stop = max(0, frame.height - first)
    start = max(0, stop - size)
    return frame.slice(start, stop - start).reverse()


def export_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    """A download of ``frame`` as CSV (UTF-8 with BOM, for spreadsheet programs) or Excel,
    with every cell a spreadsheet would run as a formula neutralised."""
    safe = neutralise_formulas(frame)
    if fmt == "csv":
        return b"\xef\xbb\xbf" + safe.write_csv().encode("utf-8")
    if fmt == "xlsx":
        buffer = io.BytesIO()
        safe.write_excel(buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown download format {fmt!r}")


def parse_id_list(text: str) -> list[str]:
    """Identifiers pasted by a user: separated by spaces, new lines, commas or semicolons
    (Chinese punctuation too); trimmed, upper-cased, first occurrence kept."""
    ids = [part.strip().upper() for part in _SPLIT.split(text or "")]
    return list(dict.fromkeys(i for i in ids if i))


def ids_from_upload(content: bytes, file_name: str) -> list[str]:
    """Identifiers from an uploaded candidate list: the ``subject_id`` column of a CSV or
    Excel sheet (else its first column; a first row without digits is a header), or plain
    text."""
    name = file_name.lower()
    if name.endswith((".xlsx", ".xls", ".xlsm", ".csv")):
        # the one reader: size, rows, columns and sheet dimensions checked before reading
        frame = read_table(content, file_name, has_header=False)
    else:
        return parse_id_list(decode_text(content, file_name))
    if frame.width == 0 or frame.height == 0:
        return []
    header = [str(v or "").strip().lower() for v in frame.row(0)]
    col = header.index("subject_id") if "subject_id" in header else 0
    values = [str(v) for v in frame.to_series(col).to_list() if v is not None]
    if values and not any(ch.isdigit() for ch in values[0]):
        values = values[1:]
    return parse_id_list("\n".join(values))


def changed_grade_or_restriction(impact: pl.DataFrame) -> pl.DataFrame:
    """Subjects whose grade or restriction differs between the two answers."""
    return impact.filter(
        (pl.col("grade_before") != pl.col("grade_after")).fill_null(True)
        | (pl.col("restricted_before") != pl.col("restricted_after")).fill_null(True)
    ).sort(pl.col("change").abs(), descending=True, nulls_last=True)


def largest_movers(impact: pl.DataFrame, n: int = 20) -> pl.DataFrame:
    """The ``n`` subjects whose index moves most (either way)."""
    return impact.filter(pl.col("change").fill_null(0) != 0).sort(
        pl.col("change").abs(), descending=True).head(n)


def impact_summary(impact: pl.DataFrame) -> pl.DataFrame:
    """Per subject type: subjects, mean index before/after, grade and restriction
    changes, subjects moved."""
    return impact.group_by("subject_type").agg(
        pl.len().alias("subjects"),
        pl.col("index_before").mean().round(2).alias("mean_before"),
        pl.col("index_after").mean().round(2).alias("mean_after"),
        (pl.col("change").fill_null(0) != 0).sum().alias("moved"),
        (pl.col("grade_before") != pl.col("grade_after")).fill_null(True).sum()
        .alias("grade_changed"),
        ((pl.col("restricted_after") & ~pl.col("restricted_before")).fill_null(False)).sum()
        .alias("newly_restricted"),
        ((pl.col("restricted_before") & ~pl.col("restricted_after")).fill_null(False)).sum()
        .alias("no_longer_restricted"),
    ).sort("subject_type")


def index_bins(impact: pl.DataFrame, step: float = 5.0) -> pl.DataFrame:
    """Histogram of the index before and after, per subject type: ``subject_type,
    series (before|after), index (bin start), subjects``. Bins are counted here, so a
    chart of a million subjects sends a few dozen rows to the browser."""
    parts = []
    for series in ("before", "after"):
        col = pl.col(f"index_{series}")
        parts.append(impact.filter(col.is_not_null()).select(
            "subject_type", pl.lit(series).alias("series"),
            (pl.min_horizontal((col / step).floor() * step, pl.lit(100.0 - step)))
            .alias("index")))
    return pl.concat(parts).group_by("subject_type", "series", "index").agg(
        pl.len().alias("subjects")).sort("subject_type", "series", "index")
