"""The one table reader every face uses (records, subjects, lists, ID lists, uploads), and
the checks made before a byte of a file is handed to polars or fastexcel.

A spreadsheet's reader allocates every cell of a sheet's used range, empty or not: a 1.5 KB
``.xlsx`` with cells at ``A1`` and ``XFD1048576`` asks for ~17 billion cells. So before
reading, :func:`check_table_source` reads the workbook's zip directory, each sheet's
``<dimension>`` and every cell reference (streamed, never held whole) and the size of the
shared strings, and refuses what exceeds :mod:`creditindex.limits` with a clear reason.
CSV and Parquet are checked for size, rows and columns the same way.
"""

from __future__ import annotations

import io
import mmap
import os
import re
import zipfile
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex.errors import InputError
from creditindex.limits import Limits, current, env_name

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
# Checked before reading: zip workbooks by their sheets' XML; .xls (BIFF8) holds at most
# 65,536 rows x 256 columns by its format, within the sheet-cell limit's order.
_ZIP_SPREADSHEETS = (".xlsx", ".xlsm")
# Formats whose used range cannot be read cheaply before the reader allocates it.
_UNCHECKED_SPREADSHEETS = (".xlsb", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
Source = str | Path | bytes

_CELL_REF = re.compile(rb"^([A-Z]{1,4})([0-9]{1,9})$")
# Start and end tags of rows and cells in a sheet's XML (any namespace prefix).
_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c|dimension)\b([^>]*?)(/?)>", re.S)
_ATTR_R = re.compile(rb"""\br\s*=\s*["']([^"']*)["']""")
_ATTR_REF = re.compile(rb"""\bref\s*=\s*["']([^"']*)["']""")
_CHUNK = 1 << 20


def decode_text(data: bytes, file: str = "<text>") -> str:
    """Decode text bytes: UTF-8 (with or without BOM), else GB18030 (a superset of GBK).
    Bytes with NUL characters are a binary file, not text (:class:`InputError`)."""
    if b"\x00" in data:
        raise InputError.one(file, "this is a binary file, not text (CSV is expected)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise InputError.one(file, "the text is neither UTF-8 nor GBK/GB18030 "
                                       f"(undecodable bytes at offset {exc.start})") from exc


def _limit_error(file: str, what: str, value: int, limit: int, field: str) -> InputError:
    return InputError.one(file, f"{what} {value:,} exceeds the limit of {limit:,} "
                                f"(set {env_name(field)} to change it)")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _ref_position(ref: bytes) -> tuple[int, int] | None:
    """(row, column), 1-based, of a cell reference such as ``XFD1048576``."""
    m = _CELL_REF.match(ref.strip().replace(b"$", b""))
    if m is None:
        return None
    return int(m.group(2)), _column_number(m.group(1))


class _SheetExtent:
    """The used range of one sheet, found by streaming its XML once."""

    def __init__(self) -> None:
        self.max_row = 0
        self.max_col = 0
        self.declared = (0, 0)
        self._row = 0
        self._col = 0

    def feed(self, tag: re.Match[bytes]) -> None:
        closing, name, attrs, _empty = tag.groups()
        if closing:
            return
        if name == b"dimension":
            ref = _ATTR_REF.search(attrs)
            if ref:
                last = ref.group(1).split(b":")[-1]
                pos = _ref_position(last)
                if pos:
                    self.declared = pos
            return
        r = _ATTR_R.search(attrs)
        if name == b"row":
            self._row = int(r.group(1)) if r and r.group(1).isdigit() else self._row + 1
            self._col = 0
            self.max_row = max(self.max_row, self._row)
            return
        pos = _ref_position(r.group(1)) if r else None
        if pos:
            row, self._col = pos
            self._row = max(self._row, row)
        else:
            self._col += 1
        self.max_row = max(self.max_row, self._row or 1)
        self.max_col = max(self.max_col, self._col)


def _sheet_extent(stream: IO[bytes], file: str, part: str, limits: Limits) -> _SheetExtent:
    extent = _SheetExtent()
    tail = b""
    read = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        read += len(chunk)
        if read > limits.max_unzipped_bytes:
            raise _limit_error(file, f"spreadsheet part {part} unzips to more than", read,
                               limits.max_unzipped_bytes, "max_unzipped_bytes")
        buf = tail + chunk
        cut = buf.rfind(b">") + 1
        for tag in _TAG.finditer(buf, 0, cut):
            extent.feed(tag)
        tail = buf[cut:]
        if len(tail) > _CHUNK:  # a tag this long is no spreadsheet
            raise InputError.one(file, f"spreadsheet part {part} is malformed XML")
    return extent


def _check_zip_spreadsheet(data: IO[bytes], file: str, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(data)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError.one(file, "not a valid spreadsheet (.xlsx/.ods are zip files): "
                                   f"{exc}") from exc
    with archive:
        infos = archive.infolist()
        for info in infos:
            if info.file_size > limits.max_unzipped_bytes:
                raise _limit_error(file, f"spreadsheet part {info.filename} unzips to",
                                   info.file_size, limits.max_unzipped_bytes,
                                   "max_unzipped_bytes")
        for info in infos:
            name = info.filename
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            try:
                with archive.open(info) as stream:
                    extent = _sheet_extent(stream, file, name, limits)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                raise InputError.one(file, f"cannot read spreadsheet part {name}: {exc}"
                                     ) from exc
            sheet = name.rsplit("/", 1)[-1].removesuffix(".xml")
            for rows, cols, how in ((extent.max_row, extent.max_col, "used range"),
                                    (*extent.declared, "declared dimension")):
                where = f"sheet {sheet}: {how} of {rows:,} rows x {cols:,} columns"
                if rows - 1 > limits.max_rows:
                    raise InputError.one(file, f"{where}: more than the limit of "
                                               f"{limits.max_rows:,} rows (set "
                                               f"{env_name('max_rows')} to change it)")
                if cols > limits.max_columns:
                    raise InputError.one(file, f"{where}: more than the limit of "
                                               f"{limits.max_columns:,} columns (set "
                                               f"{env_name('max_columns')} to change it)")
                if rows * cols > limits.max_sheet_cells:
                    raise InputError.one(file, f"{where} = {rows * cols:,} cells: more than "
                                               f"the limit of {limits.max_sheet_cells:,} "
                                               f"cells (set {env_name('max_sheet_cells')} "
                                               "to change it)")


def _size_of(source: Source) -> int:
    if isinstance(source, bytes):
        return len(source)
    return Path(source).stat().st_size


def check_table_source(source: Source, file: str, suffix: str,
                       limits: Limits | None = None) -> None:
    """Refuse (:class:`InputError` naming ``file`` and the reason) a file that exceeds a
    limit, before any reader allocates memory for it."""
    lim = limits or current()
    try:
        size = _size_of(source)
    except FileNotFoundError as exc:
        raise InputError.one(file, "file not found") from exc
    except OSError as exc:
        raise InputError.one(file, f"cannot read file: {exc.strerror or exc}") from exc
    if size > lim.max_file_bytes:
        raise _limit_error(file, "file size (bytes)", size, lim.max_file_bytes,
                           "max_file_bytes")
    if suffix in _UNCHECKED_SPREADSHEETS:
        raise InputError.one(file, f"{suffix} workbooks cannot be checked before reading; "
                                   "save the sheet as .xlsx or .csv")
    if suffix in _ZIP_SPREADSHEETS:
        if isinstance(source, bytes):
            _check_zip_spreadsheet(io.BytesIO(source), file, lim)
        else:
            with open(source, "rb") as handle:
                _check_zip_spreadsheet(handle, file, lim)
    elif suffix in PARQUET_SUFFIXES:
        src = io.BytesIO(source) if isinstance(source, bytes) else source
        try:
            width = len(pl.read_parquet_schema(src))
            if isinstance(src, io.BytesIO):
                src.seek(0)
            height = pl.scan_parquet(src).select(pl.len()).collect().item()
        except Exception as exc:  # polars raises several kinds for a broken file
            raise InputError.one(file, f"not a valid Parquet file: {exc}") from exc
        _check_shape(file, int(height), width, lim)


def _check_shape(file: str, rows: int, columns: int, lim: Limits) -> None:
    if columns > lim.max_columns:
        raise _limit_error(file, "number of columns", columns, lim.max_columns, "max_columns")
    if rows > lim.max_rows:
        raise _limit_error(file, "number of rows", rows, lim.max_rows, "max_rows")


def check_text_shape(text: str, file: str, delimiter: str = ",",
                     limits: Limits | None = None) -> None:
    """Refuse decoded CSV text with more rows or header columns than the limits allow."""
    lim = limits or current()
    first = text.split("\n", 1)[0]
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    _check_shape(file, max(lines - 1, 0), first.count(delimiter) + 1, lim)


def _read_csv(raw: bytes, file: str, has_header: bool, lim: Limits,
              categorical: Sequence[Collection[str]] = ()) -> pl.DataFrame:
    """CSV bytes as text columns: UTF-8 read as it is (polars refuses bytes that are not
    UTF-8), anything else decoded by :func:`decode_text` first. The shape is counted on
    the bytes: a newline or a comma byte is never part of a UTF-8 or GB18030 character."""
    if b"\x00" in raw:
        decode_text(raw, file)  # refuses a binary file
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    first = raw[start:raw.find(b"\n", start)] if b"\n" in raw else raw[start:]
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    _check_shape(file, max(lines - 1, 0), first.count(b",") + 1, lim)
    try:  # polars skips a UTF-8 BOM itself (the columns are put in one piece by _as_text)
        return _polars_csv(raw, has_header, categorical)
    except Exception:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            text = decode_text(raw, file)
            return _polars_csv(text.encode("utf-8"), has_header, categorical)
        raise


def _polars_csv(source: bytes | Path, has_header: bool,
                categorical: Sequence[Collection[str]]) -> pl.DataFrame:
    """The CSV reader's frame: every column text, but those of ``categorical`` (groups of
    trimmed, lower-cased header names), each group read as one categorical type of its
    own (their cells as written, one hash of each as it is read)."""
    dtypes: dict[str, pl.DataType] = {}
    if categorical and has_header:
        try:
            names = pl.read_csv(source, n_rows=0, infer_schema=False).columns
        except Exception:  # the reading below says why
            names = []
        keys = [name.strip().lower() for name in names]
        if len(set(keys)) == len(keys):  # else refused by _normalised_names
            for group in categorical:
                dtype = pl.Categorical(pl.Categories.random())
                dtypes.update((n, dtype) for n, k in zip(names, keys, strict=True)
                              if k in group)
    try:
        return pl.read_csv(source, infer_schema=False, has_header=has_header,
                           schema_overrides=dtypes or None)
    except Exception:
        if not dtypes:
            raise
    # a file the reader refuses is read (or refused, with the same words) as text alone
    return pl.read_csv(source, infer_schema=False, has_header=has_header)


# A CSV file at least this large is checked in place (mapped in memory) and read by polars
# from its path: copying 250 MB into Python and counting its lines there cost ~0.25 s of
# CPU, counting them in the mapped file ~0.05 s. Blocks small enough for the compared
# bytes to stay in cache, and NUL bytes looked for in the same pass (on 250 MB: 0.048 s,
# against 0.068 s for a search for a NUL byte then a count in blocks of 4 MB).
_MAP_FROM = 1 << 24
_COUNT_BLOCK = 1 << 18


def _read_csv_file(path: Path, file: str, has_header: bool, lim: Limits,
                   categorical: Sequence[Collection[str]] = ()) -> pl.DataFrame:
    """:func:`_read_csv` of a file: the same checks and the same frame. A large UTF-8 file
    is checked mapped in memory (no NUL byte, its lines and header columns counted) and
    read by polars from the path; anything else is read into memory first."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size < max(_MAP_FROM, 1):  # an empty file: no map
            return _read_csv(handle.read(), file, has_header, lim, categorical)
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            newlines, binary = _newlines(mapped)
            if binary:
                return _read_csv(path.read_bytes(), file, has_header, lim, categorical)
            start = 3 if mapped[:3] == b"\xef\xbb\xbf" else 0
            end = mapped.find(b"\n", start)
            first = mapped[start:end] if end >= 0 else mapped[start:]
            lines = newlines + (0 if mapped[-1:] == b"\n" else 1)
    _check_shape(file, max(lines - 1, 0), first.count(b",") + 1, lim)
    try:
        return _polars_csv(path, has_header, categorical)
    except Exception:  # not UTF-8 (or unreadable): as a file read into memory
        return _read_csv(path.read_bytes(), file, has_header, lim, categorical)


def _newlines(mapped: mmap.mmap) -> tuple[int, bool]:
    """The number of newline bytes of a mapped file, and whether it holds a NUL byte, in
    one pass a block at a time."""
    view = np.frombuffer(mapped, dtype=np.uint8)
    block, newlines, binary = view[:0], 0, False
    try:
        for i in range(0, view.size, _COUNT_BLOCK):
            block = view[i:i + _COUNT_BLOCK]
            newlines += int(np.count_nonzero(block == 10))
            binary = binary or not block.all()
        return newlines, binary
    finally:
        del view, block  # the map cannot be closed while a view of it exists


def trimmed_text_expr(text: pl.Expr) -> pl.Expr:
    """A text cell as every reader gives it: trimmed (``str.strip_chars``: Unicode
    whitespace), and null when nothing is left."""
    trimmed = text.str.strip_chars()
    return pl.when(trimmed.str.len_bytes() > 0).then(trimmed)


def _as_text(frame: pl.DataFrame, keep_dates: bool = False,
             as_read: Collection[str] = (), categorical: Collection[str] = ()
             ) -> pl.DataFrame:
    """Every column as trimmed text (dates ISO, whole floats without '.0'); empty -> null.
    With ``keep_dates``, typed date and datetime columns (Parquet, Arrow) are kept as
    they are, for the date checks to read without a round trip through text. The
    columns named in ``as_read`` are made text but neither trimmed nor emptied nor put
    in one piece: the caller does that (:func:`trimmed_text_expr`), e.g. once per
    distinct value. Those of ``as_read`` also in ``categorical`` that a CSV reader read as
    categorical columns (:func:`_polars_csv`) are kept so."""
    out = []
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        if isinstance(dtype, pl.Categorical) and name in as_read and name in categorical:
            out.append(c)
            continue
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            if keep_dates:
                out.append(c)
                continue
            e = c.cast(pl.Date).dt.strftime("%Y-%m-%d")
        elif dtype.is_float():
            e = pl.when(c == c.floor()).then(c.cast(pl.Int64, strict=False).cast(pl.String)
                                             ).otherwise(c.cast(pl.String))
        else:
            e = c.cast(pl.String)
        out.append((e if name in as_read else e.str.strip_chars()).alias(name))
    # Each column in one piece: the CSV reader leaves ~100 chunks a column on 1M rows,
    # and every later pass over a column pays for them (the checks of a 1M-row file took
    # ~0.3 s of CPU more than on the same columns in one piece). The columns left as read
    # stay in pieces: their caller reads each once and puts what it keeps in one piece
    # (a copy of a text column is a fresh 16 MB on 1M rows, paid in page faults). (A
    # column in pieces among columns in one piece was seen to make polars 2.1 fail to
    # word a value of a filtered frame: the records' checks word the rows they filter
    # once those are put in one piece.)
    text = frame.select(out)
    trimmed = text.with_columns(
        text.select(n for n in text.columns if n not in as_read).rechunk().get_columns())
    # then empty -> null on the trimmed column, not trimming twice
    return trimmed.with_columns(
        pl.when(pl.col(name).str.len_bytes() > 0).then(pl.col(name)).alias(name)
        for name in _with_empties(trimmed, as_read))


def _with_empties(frame: pl.DataFrame, skip: Collection[str] = ()) -> list[str]:
    """The text columns of ``frame`` (but those in ``skip``) holding an empty string (one
    cheap pass over each: the others are not rewritten)."""
    text = [name for name, dtype in frame.schema.items()
            if dtype == pl.String and name not in skip]
    if not text or frame.height == 0:
        return []
    found = frame.select((pl.col(name) == "").any() for name in text).row(0)
    return [name for name, empty in zip(text, found, strict=True) if empty]


def _normalised_names(frame: pl.DataFrame, file: str, excel: bool) -> pl.DataFrame:
    """Column names trimmed and lower-cased; a name given twice is refused (polars names
    a repeated CSV header ``a_duplicated_0``, fastexcel a repeated sheet header ``a_1``)."""
    keys = _header_keys(frame.columns, file, excel)
    return frame.rename(dict(zip(frame.columns, keys, strict=True)))


def _header_keys(names: Sequence[str], file: str, excel: bool) -> list[str]:
    keys = [name.strip().lower() for name in names]
    renamed = re.compile(r"^(.*)_[0-9]+$" if excel else r"^(.*)_duplicated_[0-9]+$")
    seen: set[str] = set()
    for key in keys:
        m = renamed.match(key)
        base = m.group(1) if m and m.group(1) in keys else key
        if base in seen or (base != key):
            raise InputError.one(file, "the column appears more than once in the header",
                                 row=1, column=base)
        seen.add(base)
    return keys


def read_table(source: Source, name: str | None = None, *, has_header: bool = True,
               columns: Collection[str] | None = None, keep_dates: bool = False,
               as_read: Collection[str] = (),
               categorical: Sequence[Collection[str]] = ()) -> pl.DataFrame:
    """Read a CSV, Parquet or Excel file (a path, or bytes named ``name``) as text
    columns with trimmed, lower-cased names, after :func:`check_table_source`. Anything
    unreadable or over a limit is an :class:`InputError` naming the file and the reason.

    ``columns``: only these (trimmed, lower-cased names) are kept; a Parquet file reads
    no other column. ``keep_dates``: typed date columns stay dates; ``as_read``: columns
    left untrimmed for the caller to trim (see :func:`_as_text`); ``categorical``: groups
    of those that a CSV file gives as categorical columns, each group of one categorical
    type of its own (untrimmed too: for a caller that reads them once per distinct value;
    other formats give them as text).
    """
    file = name if name is not None else str(source)
    suffix = Path(file).suffix.lower()
    lim = current()
    check_table_source(source, file, suffix, lim)
    kept: set[str] = set()
    data: bytes | Path = source if isinstance(source, bytes) else Path(source)
    try:
        if suffix in PARQUET_SUFFIXES:
            frame = _read_parquet(io.BytesIO(data) if isinstance(data, bytes) else data,
                                  file, columns)
        elif suffix in EXCEL_SUFFIXES:
            frame = pl.read_excel(io.BytesIO(data) if isinstance(data, bytes) else data,
                                  infer_schema_length=0, has_header=has_header)
            _check_shape(file, frame.height, frame.width, lim)
        else:
            frame = (_read_csv(data, file, has_header, lim, categorical)
                     if isinstance(data, bytes)
                     else _read_csv_file(data, file, has_header, lim, categorical))
            kept = {c for group in categorical for c in group}
    except InputError:
        raise
    except FileNotFoundError as exc:
        raise InputError.one(file, "file not found") from exc
    except Exception as exc:  # polars, fastexcel and the OS raise many kinds
        raise InputError.one(file, f"cannot read file: {_first_line(exc)}") from exc
    if has_header:
        frame = _normalised_names(frame, file, suffix in EXCEL_SUFFIXES)
    if columns is not None:
        frame = frame.select(c for c in frame.columns if c in columns)
    return _as_text(frame, keep_dates, as_read, kept)


# Rows of a Parquet file read and checked at a time by :func:`read_table_parts`: the
# working memory of the checks is that of one part, whatever the file's size.
PART_ROWS = 1 << 18
# Threads reading the parts of a Parquet file at once (:func:`read_parquet_rows`).
READ_WORKERS = max(1, min(2, os.cpu_count() or 1))


def read_table_parts(source: str | Path, *, columns: Collection[str] | None = None,
                     keep_dates: bool = False, rows: int | None = None,
                     as_read: Collection[str] = (),
                     categorical: Sequence[Collection[str]] = ()
                     ) -> Iterator[tuple[int, pl.DataFrame]]:
    """:func:`read_table` of a file in parts of at most ``rows`` rows (default
    :data:`PART_ROWS`), each with the number of rows before it: a Parquet file part by
    part (only ``columns``, in the part's row groups), any other file as one part."""
    for offset, read in table_part_readers(source, columns=columns, keep_dates=keep_dates,
                                           rows=rows, as_read=as_read,
                                           categorical=categorical):
        yield offset, read()


def table_part_readers(source: str | Path, *, columns: Collection[str] | None = None,
                       keep_dates: bool = False, rows: int | None = None,
                       as_read: Collection[str] = (),
                       categorical: Sequence[Collection[str]] = ()
                       ) -> Iterator[tuple[int, Callable[[], pl.DataFrame]]]:
    """The parts of :func:`read_table_parts`, each as the number of rows before it and a
    function that reads it (the parts of a Parquet file may be read at once, on several
    threads: polars releases the GIL). The file is checked and its schema read as the
    first part is yielded; a part that cannot be read raises :class:`InputError` when
    read."""
    file = str(source)
    suffix = Path(file).suffix.lower()
    if suffix not in PARQUET_SUFFIXES:
        yield 0, lambda: read_table(source, columns=columns, keep_dates=keep_dates,
                                    as_read=as_read, categorical=categorical)
        return
    check_table_source(source, file, suffix, current())
    rows = rows or PART_ROWS
    try:
        names = list(pl.read_parquet_schema(source))
        keys = _header_keys(names, file, excel=False)
        wanted = [(n, k) for n, k in zip(names, keys, strict=True)
                  if columns is None or k in columns]
        scan = pl.scan_parquet(source).select(pl.col(n).alias(k) for n, k in wanted)
        height = int(pl.scan_parquet(source).select(pl.len()).collect().item())
    except InputError:
        raise
    except Exception as exc:  # polars and the OS raise many kinds
        raise InputError.one(file, f"cannot read file: {_first_line(exc)}") from exc

    def part(offset: int, size: int) -> Callable[[], pl.DataFrame]:
        def read() -> pl.DataFrame:
            try:
                return _as_text(scan.slice(offset, size).collect(), keep_dates, as_read)
            except Exception as exc:  # polars and the OS raise many kinds
                raise InputError.one(file, f"cannot read file: {_first_line(exc)}") from exc
        return read

    for offset in range(0, max(height, 1), rows):
        yield offset, part(offset, rows)


def read_parquet_rows(source: str | Path, rows: npt.NDArray[np.int64],
                      columns: Sequence[str]) -> pl.DataFrame:
    """``columns`` (trimmed, lower-cased names) of some ``rows`` (ascending row numbers of
    the file, from 0) of a Parquet file, as :func:`read_table` gives them (absent
    columns empty): read in parts of :data:`PART_ROWS` and made text only for those rows."""
    file = str(source)
    try:
        names = list(pl.read_parquet_schema(source))
        keys = _header_keys(names, file, excel=False)
        wanted = [(n, k) for n, k in zip(names, keys, strict=True) if k in columns]
        scan = pl.scan_parquet(source).select(pl.col(n).alias(k) for n, k in wanted)
        spans = []
        for offset in range(0, int(rows[-1]) + 1 if rows.size else 0, PART_ROWS):
            a, b = np.searchsorted(rows, [offset, offset + PART_ROWS])
            if a < b:
                spans.append((offset, int(a), int(b)))

        def piece(span: tuple[int, int, int]) -> pl.DataFrame:
            offset, a, b = span
            return scan.slice(offset, PART_ROWS).collect()[pl.Series(rows[a:b] - offset)]

        # the parts on two threads (polars releases the GIL), in order
        if len(spans) > 1:
            with ThreadPoolExecutor(READ_WORKERS) as pool:
                pieces = list(pool.map(piece, spans))
        else:
            pieces = [piece(span) for span in spans]
    except Exception as exc:  # polars and the OS raise many kinds
        raise InputError.one(file, f"cannot read file: {_first_line(exc)}") from exc
    found = _as_text(pl.concat(pieces) if pieces else pl.DataFrame(
        schema={k: pl.String for _, k in wanted}))
    return found.with_columns(pl.lit(None, pl.String).alias(c) for c in columns
                              if c not in found.columns).select(columns)


def _read_parquet(source: Path | io.BytesIO, file: str, columns: Collection[str] | None
                  ) -> pl.DataFrame:
    """A Parquet file, only the ``columns`` asked for (by normalised name) when given."""
    if columns is None:
        return pl.read_parquet(source)
    names = list(pl.read_parquet_schema(source))
    if isinstance(source, io.BytesIO):
        source.seek(0)
    keys = _header_keys(names, file, excel=False)
    wanted = [n for n, k in zip(names, keys, strict=True) if k in columns]
    return pl.read_parquet(source, columns=wanted)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
