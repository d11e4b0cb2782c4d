"""Writing answers: files by suffix (written whole or not at all) and readable tables."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl

from creditindex.errors import InputError

FORMATS = (".csv", ".parquet", ".json", ".xlsx")
_STARTS_FORMULA = r"^[ ]*[=+\-@\t\r]"
_MAY_START = r"^[ =+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix with a quote every text cell a spreadsheet would run as a formula: one that
    starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (also after
    leading spaces). Every spreadsheet-bound output (CSV, XLSX: command line and app)
    goes through this one function."""
    text = [n for n, t in frame.schema.items() if t == pl.String]
    if not text or frame.height == 0:
        return frame
    # A cheap test of every cell's first character first: only a column where some cell
    # may start a formula is matched and rewritten.
    may = frame.select(pl.col(c).str.contains(_MAY_START).any() for c in text).row(0)
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_STARTS_FORMULA))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, hit in zip(text, may, strict=True) if hit
    )


def neutralise_formulas_lazy(frame: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`neutralise_formulas` of a frame still to be computed: every text cell
    matched as it is made (no look at the whole column first)."""
    text = [n for n, t in frame.collect_schema().items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_STARTS_FORMULA))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in text)


def check_writable(path: str | Path) -> Path:
    """Refuse (:class:`InputError`) a file that cannot be written: its folder cannot be
    made or written to, or the path is a folder. Nothing is left behind."""
    target = Path(path)
    if target.is_dir():
        raise InputError.one(str(target), "cannot write: it is a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError.one(str(target), f"cannot write: {exc.strerror or exc}") from exc
    return target


def write_frame(frame: pl.DataFrame | pl.LazyFrame, path: str | Path) -> Path:
    """Write ``frame`` in the format of the file's suffix, atomically: a temporary file in
    the same folder is renamed into place only once complete. A lazy frame is written
    to CSV by a streaming sink (a part at a time); to the other formats, collected."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise InputError.one(str(target), f"unknown output format '{suffix}' "
                             f"(use {', '.join(FORMATS)})")
    check_writable(target)
    if isinstance(frame, pl.LazyFrame) and suffix != ".csv":
        frame = frame.collect()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix,
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if isinstance(frame, pl.LazyFrame):
            neutralise_formulas_lazy(frame).sink_csv(tmp)
        elif suffix == ".csv":
            neutralise_formulas(frame).write_csv(tmp)
        elif suffix == ".parquet":
            frame.write_parquet(tmp)
        elif suffix == ".json":
            tmp.write_text(frame.write_json(), encoding="utf-8")
        else:
            neutralise_formulas(frame).write_excel(tmp)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError.one(str(target), f"cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write text to ``path`` whole or not at all."""
    target = check_writable(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp_name).replace(target)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise InputError.one(str(target), f"cannot write: {exc.strerror or exc}") from exc
    return target


def render_table(frame: pl.DataFrame, max_rows: int | None = None) -> str:
    """A readable terminal table of the whole frame (or its first ``max_rows`` rows)."""
    shown = frame if max_rows is None else frame.head(max_rows)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=400, tbl_width_chars=400,
                   tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True,
                   float_precision=2, tbl_formatting="UTF8_FULL_CONDENSED"):
        text = str(shown)
    if max_rows is not None and frame.height > max_rows:
        text += f"\n… {frame.height - max_rows} more rows (write them all with --out FILE)"
    return text
