"""External lists (docs/semantics.md §7): canonical list entries, reading and checking them,
name normalisation and matching entries to subjects.

A canonical entry restricts its subject everywhere from ``listed_on`` through ``until``
(inclusive; null = indefinite). It names the subject by ``subject_id`` or by ``name``
(several aliases separated by ``|``) plus ``country`` (null = any country).

Name normalisation (:func:`normalise_name_expr`), in order:

1. Unicode NFKC (full-width ``ＡＢＣ（）`` become ``ABC()``), lower case, Latin letters
   with diacritics folded to their base letter (``É`` -> ``e``, ``ß`` -> ``ss``).
2. Dots and apostrophes deleted (``S.A.`` -> ``sa``, ``XI'AN`` -> ``xian``), ``&`` read
   as ``and``, every other run of punctuation, symbols and spaces folded to one space.
3. Leading honorifics (``Mr``, ``Ms``, ``Mrs``, ``Miss``, ``Dr``, ``M/S``) removed.
4. Legal-form words removed wherever they stand: English and other Latin-script forms
   (``Co``, ``Ltd``, ``Limited``, ``LLC``, ``Inc``, ``Corp``, ``Corporation``, ``Company``,
   ``PLC``, ``GmbH``, ``S.A.``, ``JSC``, ``Pvt``, ``PT``, ...) and the Chinese forms
   ``股份有限公司``, ``有限责任公司``, ``有限公司``, ``股份公司``.
   Kept on purpose: ``集团``/``Group``, ``Holding``, ``分公司``/``Branch`` and a bare
   ``公司``: they tell apart different legal persons (a group and its subsidiary, a firm
   and its branch, a state-owned ``总公司`` and its corporatised successor).
5. Spaces next to Chinese characters removed (``河北建设集团 (宁波)`` and
   ``河北建设集团（宁波）`` agree), other spaces single, ends trimmed.

Countries are folded the same way, and every spelling of China (``China``, ``CN``,
``中国``, ``People's Republic of China``...) becomes ``cn``; a subject without a country
is in China.

A name that normalises to nothing (only legal-form words) never matches anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import polars as pl

from creditindex.categories import scope_mask_expr, scope_text_expr
from creditindex.dates import DEFAULT_FORMATS, date_problem_expr, parse_date_expr
from creditindex.errors import MISSING_COLUMN, InputError, Problem
from creditindex.identifiers import (
    rid_problem_expr,
    rid_valid_mask,
    uscc_problem_expr,
    uscc_valid_mask,
)
from creditindex.reason_exprs import as_reason, suffixed, words_of
from creditindex.records import read_table

LIST_SCHEMA: dict[str, pl.DataType] = {
    "list": pl.String(),
    "entry_id": pl.String(),
    "subject_id": pl.String(),
    "name": pl.String(),
    "country": pl.String(),
    "listed_on": pl.Date(),
    "until": pl.Date(),
    "grounds": pl.String(),
    "scope": pl.String(),       # categories barred, |-separated (empty: all)
    "financier": pl.String(),   # a lender whose own projects alone it bars (empty: any)
    "source_row": pl.Int64(),
}
MATCH_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "list": pl.String(),
    "entry_id": pl.String(),
    "matched_by": pl.String(),
    "matched_name": pl.String(),
    "listed_on": pl.Date(),
    "until": pl.Date(),
    "grounds": pl.String(),
    "scope": pl.String(),
    "financier": pl.String(),
}
ALIAS_SEPARATOR = "|"
# Values of ``until`` that mean "indefinite" besides an empty cell (compared case-folded).
INDEFINITE = ("ongoing", "indefinite", "permanent", "长期", "永久")
# Where each row came from while it is being checked.
ORIGIN = ("_file", "_row")
# Date formats read when none are given (CONTRACT §2).
DEFAULT_DATE_FORMATS = DEFAULT_FORMATS

_LATIN_LEGAL_FORMS = (
    "joint stock company", "private limited", "co ltd", "coltd", "pvtltd", "company",
    "corporation", "incorporated", "limited", "co", "corp", "inc", "ltd", "llc", "llp",
    "plc", "pvt", "pte", "gmbh", "ag", "sa", "sac", "sas", "srl", "sarl", "spa", "bv",
    "nv", "jsc", "cjsc", "ooo", "zao", "oao", "ltda", "pt",
)
_CHINESE_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "股份公司")
_HONORIFICS = ("mr", "mrs", "ms", "miss", "dr", "m s")
_CHINA = ("cn", "chn", "china", "prc", "pr china", "peoples republic of china",
          "the peoples republic of china", "mainland china", "中国", "中华人民共和国", "中国大陆")
CHINA = "cn"


# ---------------------------------------------------------------- normalisation

def _fold_table() -> dict[str, str]:
    """Characters to rewrite after NFKC and lower-casing: Latin letters with diacritics
    to their base letters, letters without a decomposition (``ß``, ``æ``, ``ø``...),
    stray combining marks deleted, dots and apostrophes deleted, ``&`` read as ``and``."""
    table: dict[str, str] = {}
    for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(cp).lower()
        base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                       if not unicodedata.combining(c))
        if base != ch and base.isascii() and base.isalpha():
            table[ch] = base.lower()
    table.update({chr(cp): "" for cp in range(0x300, 0x370)})
    table.update({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th",
                  "ı": "i", **_ASCII_FOLD})
    return table


_ASCII_FOLD = {".": "", "'": "", "`": "", "’": "", "‘": "", "´": "", "&": " and "}
_FOLD = _fold_table()
_LEGAL = (rf" ?\b(?:{'|'.join(_LATIN_LEGAL_FORMS)})\b|{'|'.join(_CHINESE_LEGAL_FORMS)}")
_LATIN_LEGAL = rf" ?\b(?:{'|'.join(_LATIN_LEGAL_FORMS)})\b"
_HONORIFIC = rf"^(?:{'|'.join(_HONORIFICS)}) "


def normalise_name_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised name normalisation (see the module docstring); null stays null."""
    return (expr.str.normalize("NFKC")
            .str.to_lowercase()
            .str.replace_many(_FOLD)
            .str.replace_all(r"[^\p{L}\p{M}\p{N}]+", " ")
            .str.strip_chars()
            .str.replace(_HONORIFIC, "")
            .str.replace_all(_LEGAL, "")
            .str.replace_all(r"(\p{Han}) ", "${1}")
            .str.replace_all(r" (\p{Han})", "${1}")
            .str.strip_chars())


def _normalise_ascii_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`normalise_name_expr` for ASCII-only text (NFKC and the non-ASCII steps
    change nothing there), several times faster."""
    return (expr.str.to_lowercase()
            .str.replace_many(_ASCII_FOLD)
            .str.replace_all(r"[^a-z0-9]+", " ")
            .str.strip_chars()
            .str.replace(_HONORIFIC, "")
            .str.replace_all(_LATIN_LEGAL, "")
            .str.strip_chars())


def normalise_names(names: pl.Series) -> pl.DataFrame:
    """Each distinct non-null name of ``names`` with its normalised form: columns
    ``name, key`` (the same result as :func:`normalise_name_expr`, computed once per
    distinct name, and on the fast path for ASCII names)."""
    distinct = pl.DataFrame({"name": names.cast(pl.String)}).drop_nulls().unique()
    ascii_only = pl.col("name").str.len_bytes() == pl.col("name").str.len_chars()
    fast = distinct.filter(ascii_only).with_columns(
        _normalise_ascii_expr(pl.col("name")).alias("key"))
    full = distinct.filter(~ascii_only).with_columns(
        normalise_name_expr(pl.col("name")).alias("key"))
    return pl.concat([fast, full], how="vertical")


def normalise_name(name: str) -> str:
    """The normalised form of one name (the same steps as :func:`normalise_name_expr`)."""
    out = pl.select(normalise_name_expr(pl.lit(name, pl.String))).item()
    return str(out) if out is not None else ""


def normalise_country_expr(expr: pl.Expr) -> pl.Expr:
    """Country names folded like names; every way of writing China becomes ``cn``.

    Hong Kong, Macao and Taiwan stay distinct: their firms are registered apart from the
    mainland's (no USCC), so ``Hong Kong SAR, China`` does not match a mainland subject.
    """
    e = (expr.str.normalize("NFKC").str.to_lowercase()
         .str.replace_all(r"[.'’]", "")
         .str.replace_all(r"[^\p{L}\p{N}]+", " ")
         .str.strip_chars())
    e = pl.when(e == "").then(None).otherwise(e)
    return pl.when(e.is_in(list(_CHINA))).then(pl.lit(CHINA)).otherwise(e)


def normalise_country(country: str | None) -> str | None:
    """The normalised form of one country (``None`` stays ``None``)."""
    out = pl.select(normalise_country_expr(pl.lit(country, pl.String))).item()
    return None if out is None else str(out)


# ---------------------------------------------------------------- canonical entries

def empty_entries() -> pl.DataFrame:
    """A canonical list-entry frame with no rows."""
    return pl.DataFrame(schema=LIST_SCHEMA)


def stable_ids(values: pl.DataFrame) -> pl.Series:
    """A stable id per row: the first 16 hex digits of the SHA-1 of the row's values
    (null as empty), with ``-2``, ``-3``... on later copies of an identical row."""
    digests = [
        hashlib.sha1("\x1f".join("" if v is None else str(v) for v in row).encode()
                     ).hexdigest()[:16]
        for row in values.iter_rows()
    ]
    frame = pl.DataFrame({"_id": digests}, schema={"_id": pl.String})
    nth = pl.int_range(1, pl.len() + 1).over("_id")
    return frame.select(
        pl.when(nth == 1).then(pl.col("_id")).otherwise(pl.format("{}-{}", pl.col("_id"), nth))
    ).to_series().alias("entry_id")


def _problems_where(frame: pl.DataFrame, condition: pl.Expr, column: str,
                    reason: pl.Expr | str, labels: Mapping[str, str]) -> list[Problem]:
    """One problem per row of ``frame`` where ``condition`` holds, on the labelled column."""
    r = reason if isinstance(reason, pl.Expr) else pl.lit(reason)
    hits = frame.filter(condition.fill_null(False)).select("_file", "_row", r.alias("_why"))
    where = labels.get(column, column)
    return [Problem(f, row, where, as_reason(why)) for f, row, why in hits.iter_rows()]


def _subject_id_problem() -> pl.Expr:
    """Why a ``subject_id`` is neither a USCC nor a resident ID number (else null)."""
    uscc = uscc_problem_expr("subject_id")
    rid = rid_problem_expr("subject_id")
    return pl.when(uscc.is_null() | rid.is_null()).then(None).otherwise(
        pl.format("'{}' is neither a valid USCC ({}) nor a valid resident ID ({})",
                  pl.col("subject_id"), words_of(uscc), words_of(rid)))


def check_entries(frame: pl.DataFrame, labels: Mapping[str, str] | None = None
                  ) -> list[Problem]:
    """Check typed entries (canonical columns plus ``_file``, ``_row``).

    ``labels`` names, per canonical column, the column a user should look at (a source
    column when the entries were converted). Dates are already parsed here; unreadable
    ones are reported by whoever parsed them.
    """
    lab = dict(labels or {})
    problems: list[Problem] = []
    problems += _problems_where(frame, pl.col("list").is_null(), "list",
                                "required value is empty", lab)
    problems += _problems_where(
        frame, pl.col("subject_id").is_null() & pl.col("name").is_null(), "name",
        "the entry needs a subject_id or a name", lab)
    ids = frame.get_column("subject_id")
    doubtful = frame.filter(pl.lit(pl.Series(~(uscc_valid_mask(ids) | rid_valid_mask(ids))))
                            & pl.col("subject_id").is_not_null())  # the rest are surely IDs
    problems += _problems_where(doubtful, _subject_id_problem().is_not_null(), "subject_id",
                                _subject_id_problem(), lab)
    problems += _problems_where(
        frame, scope_mask_expr("scope") == -1, "scope",
        pl.format("unknown category in '{}' (use engineering, procurement, land, property, "
                  "other or all, separated by |)", pl.col("scope")), lab)
    problems += _problems_where(
        frame, pl.col("until") < pl.col("listed_on"), "until",
        pl.format("until {} is before listed_on {}", pl.col("until"), pl.col("listed_on")),
        lab)
    key = ["list", "entry_id"]
    ordered = frame.with_row_index("_order").with_columns(
        pl.col("_order").first().over(key).alias("_first"),
        pl.col("_file").first().over(key).alias("_first_file"),
        pl.col("_row").first().over(key).alias("_first_row"))
    problems += _problems_where(
        ordered, pl.col("entry_id").is_not_null() & (pl.col("_order") != pl.col("_first")),
        "entry_id",
        pl.format("entry_id '{}' appears again in list '{}' (first in {} row {})",
                  pl.col("entry_id"), pl.col("list"), pl.col("_first_file"),
                  pl.col("_first_row")), lab)
    return problems


def finish_entries(frame: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns in order: missing entry ids filled with :func:`stable_ids` of
    ``list, subject_id, name, country, listed_on``; aliases trimmed."""
    frame = frame.with_columns(
        pl.when(scope_mask_expr("scope") > 0).then(
            scope_text_expr(scope_mask_expr("scope"))).otherwise(pl.col("scope")).alias("scope"),
        pl.col("financier").str.strip_chars().str.to_lowercase().replace("", None))
    if frame.get_column("entry_id").null_count():
        generated = stable_ids(frame.select("list", "subject_id", "name", "country",
                                            "listed_on"))
        frame = frame.with_columns(pl.coalesce(pl.col("entry_id"), generated))
    return frame.select(list(LIST_SCHEMA)).cast(LIST_SCHEMA)  # type: ignore[arg-type]


def _text_to_entries(raw: pl.DataFrame, file: str) -> tuple[pl.DataFrame, list[Problem]]:
    """Canonical text columns of one file -> typed entries and the problems found."""
    missing = [c for c in LIST_SCHEMA if c not in raw.columns]
    frame = raw.with_columns(*(pl.lit(None, pl.String).alias(c) for c in missing))
    if "list" in missing:
        frame = frame.with_columns(pl.lit(Path(file).stem).alias("list"))
    until_text = pl.col("until")
    indefinite = until_text.str.to_lowercase().is_in(list(INDEFINITE))
    frame = frame.with_columns(
        pl.lit(file).alias("_file"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("_row"),
        pl.col("subject_id").str.to_uppercase(),
        parse_date_expr(pl.col("listed_on")).alias("_listed_on"),
        pl.when(indefinite).then(None).otherwise(parse_date_expr(pl.col("until"))).alias("_until"),
        pl.col("source_row").cast(pl.Int64, strict=False).alias("_source_row"),
        indefinite.fill_null(False).alias("_indefinite"),
    )
    problems = _problems_where(frame, pl.col("listed_on").is_null(), "listed_on",
                               "required value is empty", {})
    problems += _problems_where(
        frame, pl.col("listed_on").is_not_null() & pl.col("_listed_on").is_null(), "listed_on",
        date_problem_expr("listed_on"), {})
    problems += _problems_where(
        frame, until_text.is_not_null() & ~pl.col("_indefinite") & pl.col("_until").is_null(),
        "until", suffixed(date_problem_expr("until"),
                          " (or leave empty or write Ongoing for indefinite)"), {})
    problems += _problems_where(
        frame, pl.col("source_row").is_not_null() & pl.col("_source_row").is_null(),
        "source_row", pl.format("not a whole number: '{}'", pl.col("source_row")), {})
    typed = frame.with_columns(
        pl.col("_listed_on").alias("listed_on"), pl.col("_until").alias("until"),
        pl.col("_source_row").alias("source_row"),
    ).select(*LIST_SCHEMA, *ORIGIN)
    return typed, problems + check_entries(typed)


def read_list_entries(paths: Iterable[str | Path]) -> pl.DataFrame:
    """Read canonical list files (CSV, Parquet or Excel) into one checked frame.

    Columns: ``list`` (defaults to the file's stem when the column is absent),
    ``entry_id`` (generated when absent or empty), ``subject_id`` and/or ``name``,
    ``country``, ``listed_on``, ``until`` (empty or ``Ongoing`` = indefinite), ``grounds``,
    ``scope`` (categories, ``|``-separated; empty = all), ``financier`` (a lender whose own
    projects alone the entry bars), ``source_row``; other columns are ignored (notes,
    addresses). Column names are case-insensitive. Every row of every file is checked;
    :class:`InputError` lists every problem (file, row with the header as row 1, column,
    reason) and nothing is returned unless all rows are good.
    """
    problems: list[Problem] = []
    parts: list[pl.DataFrame] = []
    for path in paths:
        raw = read_table(path)
        absent = [c for c in ("listed_on",) if c not in raw.columns]
        if "subject_id" not in raw.columns and "name" not in raw.columns:
            absent.append("subject_id or name")
        if absent:
            problems += [Problem(str(path), 1, c, MISSING_COLUMN) for c in absent]
            continue
        known = raw.select(c for c in raw.columns if c in LIST_SCHEMA)
        typed, found = _text_to_entries(known, str(path))
        problems += found
        parts.append(typed)
    if problems:
        raise InputError(problems)
    if not parts:
        return empty_entries()
    combined = pl.concat(parts, how="vertical")
    dup = check_entries(combined)  # the same entry_id in two files of one list
    if dup:
        raise InputError(dup)
    return finish_entries(combined)


# ---------------------------------------------------------------- matching

def _with_columns(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with every column of ``schema`` (absent ones null)."""
    missing = [pl.lit(None, t).alias(c) for c, t in schema.items() if c not in frame.columns]
    return frame.with_columns(missing) if missing else frame


def _country_keys(expr: pl.Expr, values: pl.Series) -> pl.Expr:
    """:func:`normalise_country_expr` of ``expr``, computed once per distinct value."""
    distinct = values.cast(pl.String).drop_nulls().unique()
    keys = pl.select(normalise_country_expr(pl.lit(distinct))).to_series()
    return expr.replace_strict(distinct, keys, default=None, return_dtype=pl.String)


def _entry_aliases(entries: pl.DataFrame) -> pl.DataFrame:
    """One row per (entry without subject_id, alias): ``_e, _pos, _alias, _key, _ecountry``."""
    named = entries.filter(pl.col("subject_id").is_null() & pl.col("name").is_not_null())
    exploded = named.select(
        "_e", pl.col("name").str.split(ALIAS_SEPARATOR).alias("_alias"),
        _country_keys(pl.col("country"), named.get_column("country")).alias("_ecountry"),
    ).explode("_alias").with_columns(pl.col("_alias").str.strip_chars()).with_row_index("_pos")
    keys = normalise_names(exploded.get_column("_alias")).rename(
        {"name": "_alias", "key": "_key"})
    return exploded.join(keys, on="_alias").filter(pl.col("_key") != "")


def _subject_names(subjects: pl.DataFrame) -> pl.DataFrame:
    """Distinct ``subject_id, _key, _scountry`` (a subject without country is in China)."""
    country = (_country_keys(pl.col("country"), subjects.get_column("country"))
               if "country" in subjects.columns else pl.lit(None, pl.String))
    named = subjects.filter(pl.col("subject_name").is_not_null()).select(
        "subject_id", "subject_name", country.fill_null(CHINA).alias("_scountry"))
    keys = normalise_names(named.get_column("subject_name")).rename(
        {"name": "subject_name", "key": "_key"})
    return named.join(keys, on="subject_name").filter(pl.col("_key") != "").select(
        "subject_id", "_key", "_scountry").unique()


def _match_by_name(entries: pl.DataFrame, subjects: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, _e, matched_name`` for entries matched on a normalised alias."""
    hits = _entry_aliases(entries).join(_subject_names(subjects), on="_key").filter(
        pl.col("_ecountry").is_null() | (pl.col("_ecountry") == pl.col("_scountry")))
    return hits.sort("_e", "_pos").unique(["subject_id", "_e"], keep="first").select(
        "subject_id", "_e", pl.col("_alias").alias("matched_name"),
        pl.lit("name").alias("matched_by"))


def _match_by_id(entries: pl.DataFrame, subjects: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, _e, matched_name`` for entries matched on their subject_id."""
    ids = entries.filter(pl.col("subject_id").is_not_null()).select(
        "_e", pl.col("subject_id").str.strip_chars().str.to_uppercase().alias("_id"),
        pl.col("name").str.split(ALIAS_SEPARATOR).list.first().str.strip_chars()
        .alias("matched_name"))
    subj = subjects.select(
        "subject_id", pl.col("subject_id").str.strip_chars().str.to_uppercase().alias("_id"),
    ).unique()
    return ids.join(subj, on="_id").select(
        "subject_id", "_e", "matched_name", pl.lit("subject_id").alias("matched_by"))


def match_entries(entries: pl.DataFrame, subjects: pl.DataFrame) -> pl.DataFrame:
    """Which subjects the list entries name: one row per (subject, entry) hit.

    ``subjects`` has ``subject_id`` and ``subject_name`` (several rows per subject for
    several names) and optionally ``country`` (absent or null: China). An entry with a
    ``subject_id`` matches that subject (case-insensitive); an entry without one matches
    every subject one of whose names equals one of the entry's aliases after
    :func:`normalise_name_expr`, when the entry has no country or the same country.
    Result columns: ``subject_id, list, entry_id, matched_by`` (``subject_id`` or
    ``name``), ``matched_name`` (the entry's alias that matched, the first one listed
    when several do), ``listed_on, until, grounds``.
    """
    ent = _with_columns(entries, LIST_SCHEMA).with_row_index("_e")
    subj = _with_columns(subjects, {"subject_id": pl.String(), "subject_name": pl.String()})
    subj = subj.filter(pl.col("subject_id").is_not_null())
    hits = pl.concat([_match_by_id(ent, subj), _match_by_name(ent, subj)], how="vertical")
    out = hits.join(ent.select("_e", "list", "entry_id", "listed_on", "until", "grounds",
                               "scope", "financier"), on="_e").select(list(MATCH_SCHEMA))
    return out.cast(MATCH_SCHEMA).sort(  # type: ignore[arg-type]
        "subject_id", "list", "entry_id")


def active_expr(day: dt.date) -> pl.Expr:
    """True where an entry (or a hit) restricts on ``day``: listed_on <= day <= until."""
    d = pl.lit(day, pl.Date)
    return (pl.col("listed_on") <= d) & (pl.col("until").is_null() | (pl.col("until") >= d))


def active_hits(hits: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The hits of :func:`match_entries` that restrict their subject on ``day``."""
    return hits.filter(active_expr(day))


def entries_frame(rows: Sequence[Mapping[str, object]]) -> pl.DataFrame:
    """Canonical entries from Python dicts (tests, the app); no checks, missing columns
    null, missing entry ids generated."""
    frame = pl.DataFrame([dict(r) for r in rows],
                         schema_overrides={k: v for k, v in LIST_SCHEMA.items()})
    return finish_entries(_with_columns(frame, LIST_SCHEMA))
