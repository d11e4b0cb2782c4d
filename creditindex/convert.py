"""Mapping-file driven conversion (docs/semantics.md §7): a regulator's export or a published list,
in whatever columns it comes, to canonical records (§2) or canonical list entries.

A mapping is a TOML file; a new source format takes a new mapping, not new code::

    kind = "list"                 # or "records"
    description = "..."           # optional, free text

    [source]
    sheet = "Sheet1"              # Excel: sheet name, or position counting from 1
    header_row = 2                # spreadsheet row where the header starts (rows above skipped)
    header_depth = 2              # rows the header spans (merged multi-row headers)
    data_row = 4                  # first data row (default: right after the header)
    delimiter = ","               # CSV; the encoding is detected (UTF-8, BOM, GBK/GB18030)
    header_join = " / "           # joins the parts of a multi-row header name

    [dates]
    formats = ["%Y-%m-%d"]        # strftime formats tried in order (default: the four of
                                  # docs/semantics.md §2.1); ISO dates and Excel dates always read

    [exclude]                     # rows not imported at all (not errors)
    "状态" = ["已撤销"]

    [fields]                      # one entry per canonical column
    list = { value = "worldbank" }            # a constant
    country = "Country"                       # a string: the source column of that name
    grounds = { columns = ["A", "B"], join = "; " }   # several columns joined
    subject_type = { column = "类型", map = { "施工单位" = "bidder" } }
    until = { column = "To Date", null_values = ["Ongoing"] }   # 'Ongoing' = empty
    entry_id = { hash = ["Firm Name", "From Date"] }  # stable content hash of columns
    [fields.name]                             # several parts, values joined by '|'
    parts = [
      { column = "Firm Name", strip = ['^A\\.K\\.A\\.\\s*'] },
      { column = "Additional Firm Info", extract = ['\\p{Han}+'] },
    ]

Keys of a field (exactly one of ``column``, ``columns``, ``value``, ``parts``, ``hash``):
``strip`` (regexes removed first), ``extract`` (regexes: every match is a value; the first
capturing group when the regex has one), ``split`` (a regex separating several values),
``null_values`` (values read as empty, case-insensitive), ``join`` (separator when there
are several values: ``|`` for ``name``, a space otherwise), ``map`` (exact value ->
canonical value) with ``unmapped = "error" | "keep" | "empty"``, ``default`` (when empty),
``formats`` (date formats of this field). Regexes use the Rust ``regex`` syntax of polars.

A bad mapping is refused with the mapping file, the key and the reason; a bad row with
the source file, its row number as a spreadsheet shows it, the source column and the
reason. Nothing is returned when anything is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from creditindex import lists
from creditindex.dates import DEFAULT_FORMATS as DEFAULT_DATE_FORMATS
from creditindex.dates import date_problem_expr, parse_date_expr
from creditindex.errors import InputError, Problem
from creditindex.limits import current, env_name
from creditindex.readers import check_table_source, check_text_shape, decode_text
from creditindex.reason_exprs import words_of
from creditindex.records import DATE_COLUMNS, RECORD_SCHEMA, REQUIRED, check_rows
from creditindex.rules import RuleSet

LIST_FIELDS = ("list", "entry_id", "subject_id", "name", "country", "listed_on", "until",
               "grounds", "scope", "financier")
LIST_DATE_FIELDS = ("listed_on", "until")
_SAMPLE_DAY = dt.date(2024, 3, 5)
_SEP = "\x1f"  # stands for a regex separator while splitting
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


# ---------------------------------------------------------------- the mapping schema

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


PositiveInt = Annotated[int, Field(gt=0)]


def _sheet(value: Any) -> Any:
    """A sheet name, or a position counting from 1."""
    if value is None or isinstance(value, str) or (
            isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise ValueError(f"must be a sheet name or a position counting from 1, not {value!r}")


class SourceSpec(_Model):
    """``[source]``: where the table sits in the file."""

    sheet: Annotated[str | int | None, BeforeValidator(_sheet)] = None
    header_row: PositiveInt = 1
    header_depth: PositiveInt = 1
    data_row: PositiveInt | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header_join: str = " / "

    @property
    def first_data_row(self) -> int:
        """The first spreadsheet row holding data."""
        return self.data_row or self.header_row + self.header_depth


class DateSpec(_Model):
    """``[dates]``: date formats tried in order, for every date field."""

    formats: list[str] = Field(default=list(DEFAULT_DATE_FORMATS), min_length=1)


class Part(_Model):
    """Where one or more values of a field come from."""

    column: str | None = None
    columns: list[str] | None = Field(default=None, min_length=1)
    value: str | None = None
    strip: list[str] = []
    extract: list[str] = []
    split: str | None = None

    def sources(self) -> list[str]:
        """The source columns this part reads."""
        return [self.column] if self.column is not None else list(self.columns or [])


def _column_shorthand(value: Any) -> Any:
    """A bare string stands for ``{ column = "..." }``."""
    if isinstance(value, str):
        return {"column": value}
    if not isinstance(value, dict):
        raise ValueError(f"must be a column name or a table ({{ column = ... }}), not {value!r}")
    return value


class FieldSpec(Part):
    """How one canonical column is made."""

    parts: list[Part] | None = Field(default=None, min_length=1)
    hash: list[str] | None = Field(default=None, min_length=1)
    null_values: list[str] = []
    join: str | None = None
    map: dict[str, str] | None = None
    unmapped: Literal["error", "keep", "empty"] = "error"
    default: str | None = None
    formats: list[str] | None = Field(default=None, min_length=1)

    def all_parts(self) -> list[Part]:
        """The field's parts (a field without ``parts`` is its own single part)."""
        return list(self.parts) if self.parts is not None else [self]

    def sources(self) -> list[str]:
        """Every source column the field reads."""
        if self.hash is not None:
            return list(self.hash)
        return [c for p in self.all_parts() for c in Part.sources(p)]


FieldEntry = Annotated[FieldSpec, BeforeValidator(_column_shorthand)]


class Mapping(_Model):
    """A whole mapping file."""

    kind: Literal["list", "records"]
    description: str | None = None
    source: SourceSpec = SourceSpec()
    dates: DateSpec = DateSpec()
    exclude: dict[str, list[str]] = {}
    fields: dict[str, FieldEntry]

    def canonical_fields(self) -> tuple[str, ...]:
        """The canonical columns of this mapping's kind."""
        return LIST_FIELDS if self.kind == "list" else tuple(RECORD_SCHEMA)

    def date_fields(self) -> tuple[str, ...]:
        """The canonical date columns of this mapping's kind."""
        return LIST_DATE_FIELDS if self.kind == "list" else DATE_COLUMNS

    def formats_of(self, name: str) -> list[str]:
        """The date formats of a field (its own, else ``[dates].formats``)."""
        spec = self.fields[name]
        return list(spec.formats or self.dates.formats)


# ---------------------------------------------------------------- loading and checking

def _key(loc: Sequence[int | str]) -> str:
    """A pydantic location as the key path a user reads: ``fields.name.parts[2].column``."""
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item + 1}]"
        elif item.startswith("function-"):  # pydantic's name for a validator step
            continue
        else:
            out += f".{item}" if out else str(item)
    return out or "mapping"


def _reason(err: Any) -> str:
    """A short reason for one pydantic error."""
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing key"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind.endswith("_type") or kind == "literal_error":
        return f"{msg.replace('Input should be', 'must be')}, not {err.get('input')!r}"
    return msg


def _regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable regex, or ``None``."""
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except Exception as exc:  # polars reports regex syntax errors as ComputeError
        first = str(exc).strip().splitlines()
        return "not a valid regular expression: " + " ".join(line.strip() for line in first[:4])
    return None


def _format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot read dates, or ``None`` (it must read back a date it wrote)."""
    if not re.search(r"%-?[Yy]", fmt) or not re.search(r"%-?[mbBh]", fmt) \
            or not re.search(r"%-?[de]", fmt):
        return f"date format '{fmt}' needs a year, a month and a day (e.g. %Y-%m-%d)"
    try:
        text = _SAMPLE_DAY.strftime(fmt)
        back = pl.Series([text]).str.strptime(pl.Date, fmt, strict=False).item()
    except Exception:  # a format polars rejects outright
        back = None
    if back != _SAMPLE_DAY:
        return f"date format '{fmt}' does not read back the date it writes (unknown directive?)"
    return None


def _part_problems(part: Part, where: str, whole_field: bool) -> list[tuple[str, str]]:
    """Problems of one part (or of a field used as its own part)."""
    out: list[tuple[str, str]] = []
    given = [k for k in ("column", "columns", "value") if getattr(part, k) is not None]
    if isinstance(part, FieldSpec):
        given += [k for k in ("parts", "hash") if getattr(part, k) is not None]
    if len(given) != 1:
        allowed = "column, columns, value, parts or hash" if whole_field else \
            "column, columns or value"
        what = "none" if not given else " and ".join(given)
        out.append((where, f"give exactly one of {allowed} (found {what})"))
    if part.value is not None and (part.strip or part.extract or part.split):
        out.append((where, "strip, extract and split apply to columns, not to a value"))
    if part.extract and part.split is not None:
        out.append((where, "give extract or split, not both"))
    regexes = [(f"{where}.strip[{i}]", p) for i, p in enumerate(part.strip, 1)]
    regexes += [(f"{where}.extract[{i}]", p) for i, p in enumerate(part.extract, 1)]
    if part.split is not None:
        regexes.append((f"{where}.split", part.split))
    for key, pattern in regexes:
        why = _regex_problem(pattern)
        if why:
            out.append((key, why))
    return out


def _field_problems(mapping: Mapping, name: str, spec: FieldSpec) -> list[tuple[str, str]]:
    """Problems of one ``[fields]`` entry."""
    where = f"fields.{name}"
    if name not in mapping.canonical_fields():
        return [(where, f"not a canonical {mapping.kind} column (use "
                 + ", ".join(mapping.canonical_fields()) + ")")]
    out = _part_problems(spec, where, whole_field=True)
    if spec.parts is not None:
        if spec.strip or spec.extract or spec.split is not None:
            out.append((where, "strip, extract and split go inside each part"))
        for i, part in enumerate(spec.parts, 1):
            out += _part_problems(part, f"{where}.parts[{i}]", whole_field=False)
    if spec.formats is not None and name not in mapping.date_fields():
        out.append((f"{where}.formats", f"'{name}' is not a date column"))
    for i, fmt in enumerate(spec.formats or [], 1):
        why = _format_problem(fmt)
        if why:
            out.append((f"{where}.formats[{i}]", why))
    return out


def _mapping_problems(mapping: Mapping) -> list[tuple[str, str]]:
    """Cross checks pydantic cannot make: names, required fields, regexes, date formats."""
    out: list[tuple[str, str]] = []
    for name, spec in mapping.fields.items():
        out += _field_problems(mapping, name, spec)
    if mapping.kind == "list":
        required: tuple[str, ...] = ("list", "listed_on")
        if "subject_id" not in mapping.fields and "name" not in mapping.fields:
            out.append(("fields", "a list mapping needs fields.subject_id or fields.name"))
    else:
        required = REQUIRED
    out += [(f"fields.{c}", "missing key (a required canonical column)")
            for c in required if c not in mapping.fields]
    src = mapping.source
    if src.data_row is not None and src.data_row < src.header_row + src.header_depth:
        out.append(("source.data_row", f"row {src.data_row} is not below the header "
                    f"(rows {src.header_row}-{src.header_row + src.header_depth - 1})"))
    for i, fmt in enumerate(mapping.dates.formats, 1):
        why = _format_problem(fmt)
        if why:
            out.append((f"dates.formats[{i}]", why))
    return out


def parse_mapping(text: str, file: str = "<mapping>") -> Mapping:
    """Parse and check a mapping; :class:`InputError` names file, key and reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.one(file, f"not valid TOML: {exc}") from exc
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(file, None, _key(e["loc"]), _reason(e))
                          for e in exc.errors()]) from exc
    found = _mapping_problems(mapping)
    if found:
        raise InputError([Problem(file, None, key, why) for key, why in found])
    return mapping


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file."""
    p = Path(path)
    limit = current().max_config_bytes
    if p.is_file() and p.stat().st_size > limit:
        raise InputError.one(str(p), f"a mapping of {p.stat().st_size:,} bytes exceeds the "
                                     f"limit of {limit:,} (set {env_name('max_config_bytes')})")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError.one(str(p), "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(str(p), f"cannot read file: {exc}") from exc
    return parse_mapping(text, str(p))


# ---------------------------------------------------------------- reading the source grid

def _grid_frame(rows: list[list[str | None]], first_row: int) -> pl.DataFrame:
    """Rows of cells (ragged) -> columns ``c0..cN`` of text plus ``_row``."""
    width = max((len(r) for r in rows), default=0)
    cols = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
    frame = pl.DataFrame(cols, schema={c: pl.String for c in cols})
    return frame.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_row).alias("_row"))


def _read_csv_grid(path: Path, source: SourceSpec) -> pl.DataFrame:
    text = decode_text(path.read_bytes(), str(path))
    check_text_shape(text, str(path), source.delimiter)
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""),
                                        delimiter=source.delimiter)]
    return _grid_frame([[c if c != "" else None for c in r] for r in rows], 1)


def _first_used_row(path: Path, sheet: str | int) -> int:
    """The spreadsheet row of the first non-empty row (calamine starts its range there)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return 1
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if any(v is not None and str(v) != "" for v in row):
                return number
    finally:
        wb.close()
    return 1


def _read_excel_grid(path: Path, source: SourceSpec) -> pl.DataFrame:
    import fastexcel

    sheet: str | int = 0 if source.sheet is None else (
        source.sheet if isinstance(source.sheet, str) else source.sheet - 1)
    reader = fastexcel.read_excel(str(path))
    frame = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    first = _first_used_row(path, sheet)
    rows: list[list[str | None]] = [list(r) for r in frame.iter_rows()]
    return _grid_frame(rows, first)


def _read_parquet_grid(path: Path) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    text = frame.select(
        pl.col(c).dt.strftime("%Y-%m-%d") if frame.schema[c] == pl.Date
        else pl.col(c).cast(pl.String) for c in frame.columns)
    rows: list[list[str | None]] = [list(frame.columns), *(list(r) for r in text.iter_rows())]
    return _grid_frame(rows, 1)


def read_grid(path: str | Path, source: SourceSpec) -> pl.DataFrame:
    """Every cell of the source table as text: columns ``c0..cN`` and ``_row`` (the row
    number a spreadsheet shows). Empty cells are null; surrounding spaces are trimmed."""
    p = Path(path)
    suffix = p.suffix.lower()
    check_table_source(p, str(p), suffix)
    try:
        if suffix in _EXCEL_SUFFIXES:
            grid = _read_excel_grid(p, source)
        elif suffix in (".parquet", ".pq"):
            grid = _read_parquet_grid(p)
        else:
            grid = _read_csv_grid(p, source)
    except InputError:
        raise
    except FileNotFoundError as exc:
        raise InputError.one(str(p), "file not found") from exc
    except Exception as exc:  # fastexcel, openpyxl, polars and csv raise many kinds
        raise InputError.one(str(p), f"cannot read file: {exc}") from exc
    cells = [c for c in grid.columns if c != "_row"]
    return grid.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in cells)


# ---------------------------------------------------------------- header and columns

def header_key(name: str) -> str:
    """How header names are compared: NFKC, case folded, whitespace folded."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def header_names(grid: pl.DataFrame, source: SourceSpec) -> list[str]:
    """The column names: header rows joined, merged cells of upper rows filled from the
    left (a merged title spans the columns to its right)."""
    cells = [c for c in grid.columns if c != "_row"]
    first, depth = source.header_row, source.header_depth
    rows = grid.filter(pl.col("_row").is_between(first, first + depth - 1)).sort("_row")
    lines = [[" ".join((v or "").split()) for v in r] for r in rows.select(cells).iter_rows()]
    for line in lines[:-1]:
        for i in range(1, len(line)):
            if not line[i]:
                line[i] = line[i - 1]
    names = []
    for i in range(len(cells)):
        parts: list[str] = []
        for line in lines:
            if line[i] and line[i] not in parts:
                parts.append(line[i])
        names.append(source.header_join.join(parts))
    return names


def _resolve(mapping: Mapping, names: list[str], mapping_file: str, source_file: str
             ) -> tuple[dict[str, str], list[Problem]]:
    """Source column name -> grid column, for every column the mapping names."""
    by_key: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n:
            by_key.setdefault(header_key(n), []).append(i)
    wanted: list[tuple[str, str]] = [(f"exclude.{c}", c) for c in mapping.exclude]
    for fname, spec in mapping.fields.items():
        wanted += [(f"fields.{fname}", c) for c in spec.sources()]
    resolved: dict[str, str] = {}
    problems: list[Problem] = []
    rows = (f"row {mapping.source.header_row}" if mapping.source.header_depth == 1 else
            f"rows {mapping.source.header_row}-"
            f"{mapping.source.header_row + mapping.source.header_depth - 1}")
    shown = ", ".join(f"'{n}'" for n in names if n) or "(nothing)"
    for key, col in wanted:
        hits = by_key.get(header_key(col), [])
        if len(hits) == 1:
            resolved[col] = f"c{hits[0]}"
        elif not hits:
            problems.append(Problem(mapping_file, None, key,
                                    f"column '{col}' is not in the header of {source_file} "
                                    f"({rows}); the header has {shown}"))
        else:
            problems.append(Problem(mapping_file, None, key,
                                    f"column '{col}' appears {len(hits)} times in the header "
                                    f"of {source_file} ({rows})"))
    return resolved, problems


# ---------------------------------------------------------------- field expressions

def _capture(pattern: str) -> int:
    """1 when ``pattern`` has a capturing group (its first one is the value), else 0."""
    return 1 if pl.Series([""]).str.extract_groups(pattern).struct.fields else 0


def _values_of_column(col: str, part: Part) -> pl.Expr:
    """The values one source column gives a part, as a list of strings."""
    e = pl.col(col)
    for pattern in part.strip:
        e = e.str.replace_all(pattern, "")
    e = e.fill_null("")
    if part.extract:
        found = []
        for pattern in part.extract:
            all_matches = e.str.extract_all(pattern)
            if _capture(pattern):
                all_matches = all_matches.list.eval(pl.element().str.extract(pattern, 1))
            found.append(all_matches)
        return pl.concat_list(found)
    if part.split is not None:
        return e.str.replace_all(part.split, _SEP).str.split(_SEP)
    return pl.concat_list(e)


def _values_of_part(part: Part, cols: dict[str, str]) -> pl.Expr:
    if part.value is not None:
        return pl.concat_list(pl.lit(part.value, pl.String))
    return pl.concat_list([_values_of_column(cols[c], part) for c in part.sources()])


def _joined(name: str, spec: FieldSpec, cols: dict[str, str]) -> pl.Expr:
    """The field's values, cleaned, de-duplicated and joined (null when there are none)."""
    values = pl.concat_list([_values_of_part(p, cols) for p in spec.all_parts()])
    nulls = [v.strip().casefold() for v in spec.null_values]
    element = pl.element().str.strip_chars()
    if name == "name":  # '|' separates aliases in canonical entries
        element = element.str.replace_all("|", "/", literal=True)
    keep = (pl.element() != "")
    if nulls:
        keep = keep & ~pl.element().str.to_lowercase().is_in(nulls)
    cleaned = values.list.eval(element).list.eval(pl.element().filter(keep))
    joiner = spec.join if spec.join is not None else ("|" if name == "name" else " ")
    text = cleaned.list.unique(maintain_order=True).list.join(joiner)
    return pl.when(text == "").then(None).otherwise(text)


def _mapped(spec: FieldSpec, raw: pl.Expr) -> pl.Expr:
    """``raw`` through the field's ``map`` and ``default``."""
    out = raw
    if spec.map is not None:
        fallback = {"keep": raw, "error": pl.lit(None, pl.String),
                    "empty": pl.lit(None, pl.String)}[spec.unmapped]
        out = raw.replace_strict(spec.map, default=fallback, return_dtype=pl.String)
    if spec.default is not None:
        out = out.fill_null(pl.lit(spec.default))
    return out


# ---------------------------------------------------------------- evaluating rows

class _Rows:
    """The data rows being converted, with the problems found so far."""

    def __init__(self, frame: pl.DataFrame, source_file: str, labels: dict[str, str]) -> None:
        self.frame = frame
        self.file = source_file
        self.labels = labels
        self.problems: list[Problem] = []

    def report(self, condition: pl.Expr, field: str, reason: pl.Expr) -> None:
        """One problem per row where ``condition`` holds, on the field's source column."""
        hits = self.frame.filter(condition.fill_null(False)).select(
            "_row", reason.alias("_why"))
        where = self.labels.get(field, field)
        self.problems += [Problem(self.file, row, where, f"{field}: {why}")
                          for row, why in hits.iter_rows()]


def _data_rows(grid: pl.DataFrame, mapping: Mapping, cols: dict[str, str]) -> pl.DataFrame:
    """Rows from the first data row on, without empty rows and excluded rows."""
    cells = [c for c in grid.columns if c != "_row"]
    rows = grid.filter(pl.col("_row") >= mapping.source.first_data_row)
    if cells:
        rows = rows.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in cells))
    for col, values in mapping.exclude.items():
        rows = rows.filter(~pl.col(cols[col]).is_in([v.strip() for v in values])
                           .fill_null(False))
    return rows


def _labels(mapping: Mapping) -> dict[str, str]:
    """The source column to name in problems about each field (its first one)."""
    return {name: (spec.sources() or [name])[0] for name, spec in mapping.fields.items()}


def _evaluate(rows: _Rows, mapping: Mapping, cols: dict[str, str]) -> None:
    """Text of every mapped field (``_raw_<f>`` before the map, ``<f>`` after)."""
    exprs: list[pl.Expr] = []
    for name, spec in mapping.fields.items():
        if spec.hash is not None:
            continue
        raw = _joined(name, spec, cols)
        exprs += [raw.alias(f"_raw_{name}"), _mapped(spec, raw).alias(name)]
    rows.frame = rows.frame.with_columns(exprs)
    for name, spec in mapping.fields.items():
        if spec.hash is not None:
            ids = lists.stable_ids(rows.frame.select(cols[c] for c in spec.hash))
            rows.frame = rows.frame.with_columns(ids.alias(name))
        elif spec.map is not None and spec.unmapped == "error":
            raw = pl.col(f"_raw_{name}")
            known = ", ".join(f"'{k}'" for k in list(spec.map)[:8])
            rows.report(raw.is_not_null() & pl.col(name).is_null(), name,
                        pl.format(f"value '{{}}' is not in the mapping's map (known: {known})",
                                  raw))


def _parse_dates(rows: _Rows, mapping: Mapping, indefinite_ok: Callable[[str], bool]) -> None:
    """Date fields -> Date, reporting text no format reads."""
    parsed = []
    for name in mapping.date_fields():
        if name not in mapping.fields:
            continue
        formats = mapping.formats_of(name)
        parsed.append(parse_date_expr(pl.col(name), formats).alias(f"_date_{name}"))
    rows.frame = rows.frame.with_columns(parsed)
    for name in mapping.date_fields():
        if name not in mapping.fields:
            continue
        extra = " (or mark it indefinite with null_values)" if indefinite_ok(name) else ""
        rows.report(pl.col(name).is_not_null() & pl.col(f"_date_{name}").is_null(), name,
                    pl.format(f"{{}}{extra}", words_of(
                        date_problem_expr(pl.col(name), mapping.formats_of(name)))))


def _require(rows: _Rows, mapping: Mapping, names: Sequence[str]) -> None:
    """Report required fields left empty (not those whose value the map refused)."""
    for name in names:
        if name not in rows.frame.columns:
            continue
        empty = pl.col(name).is_null()
        spec = mapping.fields[name]
        if spec.map is not None and spec.unmapped == "error":
            empty = empty & pl.col(f"_raw_{name}").is_null()
        rows.report(empty, name, pl.lit("required value is empty"))


def _date_or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    col = f"_date_{name}"
    return (pl.col(col) if col in frame.columns else pl.lit(None, pl.Date)).alias(name)


def _text_or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    return (pl.col(name) if name in frame.columns else pl.lit(None, pl.String)).alias(name)


def _to_entries(rows: _Rows, mapping: Mapping) -> pl.DataFrame:
    """Canonical list entries (problems added to ``rows``)."""
    _parse_dates(rows, mapping, lambda name: name == "until")
    _require(rows, mapping, ("list", "listed_on"))
    f = rows.frame
    typed = f.select(
        _text_or_null(f, "list"), _text_or_null(f, "entry_id"),
        _text_or_null(f, "subject_id").str.to_uppercase(),
        _text_or_null(f, "name"), _text_or_null(f, "country"),
        _date_or_null(f, "listed_on"), _date_or_null(f, "until"),
        _text_or_null(f, "grounds"), _text_or_null(f, "scope"),
        _text_or_null(f, "financier"), pl.col("_row").alias("source_row"),
        pl.lit(rows.file).alias("_file"), pl.col("_row"),
    )
    checked = typed.filter(pl.col("list").is_not_null())  # an empty list is reported above
    rows.problems += lists.check_entries(checked, rows.labels)
    return typed


def _to_records(rows: _Rows, mapping: Mapping, rules: RuleSet | None,
                today: dt.date | None) -> pl.DataFrame:
    """Canonical records (problems added to ``rows``); checked against ``rules`` if given."""
    _parse_dates(rows, mapping, lambda name: False)
    _require(rows, mapping, REQUIRED)
    f = rows.frame
    typed = f.select(
        *(_date_or_null(f, c) if c in DATE_COLUMNS else _text_or_null(f, c)
          for c in RECORD_SCHEMA),
        pl.col("_row"),
    ).with_columns(pl.col("subject_id").str.to_uppercase(),
                   pl.col("subject_type").str.to_lowercase())
    if rules is not None and not rows.problems:
        _, found = check_rows(typed.with_columns(pl.lit(rows.file).alias("_file")), rules,
                              today or dt.date.today())
        rows.problems += [
            Problem(p.file, p.row, rows.labels.get(p.column or "", p.column),
                    f"{p.column}: {p.reason}") for p in found]
    return typed.drop("_row")


def convert(source_path: str | Path, mapping_path: str | Path, *,
            rules: RuleSet | None = None, today: dt.date | None = None) -> pl.DataFrame:
    """Convert a source file to canonical list entries or canonical records, as its
    mapping file says.

    List entries come with the columns of :data:`creditindex.lists.LIST_SCHEMA`
    (``source_row``: the source row); records with those of docs/semantics.md §2 (text, and
    dates as dates). With ``rules``, records are also checked as ``--records`` files
    are (identifiers, codes, dates), with source rows in the problems.

    Raises :class:`InputError` with every problem: a bad mapping (file, key, reason) or
    bad rows (source file, row as a spreadsheet shows it, source column, reason).
    """
    mapping = load_mapping(mapping_path)
    source_file, mapping_file = str(source_path), str(mapping_path)
    grid = read_grid(source_path, mapping.source)
    names = header_names(grid, mapping.source)
    cols, problems = _resolve(mapping, names, mapping_file, source_file)
    if problems:
        raise InputError(problems)
    rows = _Rows(_data_rows(grid, mapping, cols), source_file, _labels(mapping))
    _evaluate(rows, mapping, cols)
    if mapping.kind == "list":
        result = _to_entries(rows, mapping)
        if rows.problems:
            raise InputError(rows.problems)
        return lists.finish_entries(result)
    records = _to_records(rows, mapping, rules, today)
    if rows.problems:
        raise InputError(rows.problems)
    return records
