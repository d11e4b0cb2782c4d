"""Writing answers: files by suffix (written whole or not at all) and readable tables."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl

from creditindex.errors import InputError

FORMATS = (".csv", ".parquet", ".json", ".xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula (= + - @) with a quote."""
    text = [n for n, t in frame.schema.items() if t == pl.String]
    guard = "|".join("\\" + c if c in "+-" else c for c in ("=", "+", "-", "@"))
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(f"^({guard}|\t|\r)"))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def write_frame(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` in the format of the file's suffix, atomically: a temporary file in
    the same folder is renamed into place only once complete."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise InputError.one(str(target), f"unknown output format '{suffix}' "
                             f"(use {', '.join(FORMATS)})")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix,
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if suffix == ".csv":
            frame.write_csv(tmp)
        elif suffix == ".parquet":
            frame.write_parquet(tmp)
        elif suffix == ".json":
            tmp.write_text(frame.write_json(), encoding="utf-8")
        else:
            neutralise_formulas(frame).write_excel(tmp)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write text to ``path`` whole or not at all."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    Path(tmp_name).replace(target)
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
