"""Penalty records (docs/semantics.md §2): the canonical frame, reading it from CSV, Parquet or
Excel, checking every row and merging copies of the same record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from creditindex.categories import scope_mask_expr, scope_text_expr
from creditindex.dates import date_problem_expr, parse_date_expr
from creditindex.errors import InputError, Problem
from creditindex.identifiers import rid_problem_expr, uscc_problem_expr
from creditindex.readers import decode_text as decode_text
from creditindex.readers import read_table as read_table
from creditindex.rules import SUBJECT_TYPES, RuleSet

REQUIRED = ("record_id", "source", "industry", "region", "subject_id", "subject_name",
            "subject_type", "behaviour_code", "decided_on")
OPTIONAL = ("recorded_on", "document_no", "revoked_on", "repaired_on", "restrict_until",
            "restrict_scope", "authority", "basis", "publish_until")
DATE_COLUMNS = ("decided_on", "recorded_on", "revoked_on", "repaired_on", "publish_until")
# A decision's stated bar without end (``restrict_until = permanent``) is kept as this date.
PERMANENT_DATE = dt.date(9999, 12, 31)
PERMANENT_WORDS = ("permanent", "永久")
INDUSTRIES = ("housing", "municipal", "transport", "water", "procurement", "land",
              "property", "medical", "other")

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "source": pl.String(),
    "industry": pl.String(),
    "region": pl.String(),
    "subject_id": pl.String(),
    "subject_name": pl.String(),
    "subject_type": pl.String(),
    "behaviour_code": pl.String(),
    "decided_on": pl.Date(),
    "recorded_on": pl.Date(),
    "document_no": pl.String(),
    "revoked_on": pl.Date(),
    "repaired_on": pl.Date(),
    "restrict_until": pl.Date(),
    "restrict_scope": pl.String(),
    "authority": pl.String(),
    "basis": pl.String(),
    "publish_until": pl.Date(),
}
# Where each row came from, kept while checking so problems can name file and row.
ORIGIN = ("_file", "_row")


def empty_records() -> pl.DataFrame:
    """A canonical records frame with no rows."""
    return pl.DataFrame(schema=RECORD_SCHEMA)


def parse_dates_expr(col: str) -> pl.Expr:
    """Dates in any accepted format -> Date; unreadable -> null (see :mod:`creditindex.dates`)."""
    return parse_date_expr(col)


def _problems_where(frame: pl.DataFrame, condition: pl.Expr, column: str,
                    reason: pl.Expr | str) -> list[Problem]:
    """One problem per row of ``frame`` where ``condition`` holds."""
    r = reason if isinstance(reason, pl.Expr) else pl.lit(reason)
    hits = frame.filter(condition.fill_null(False)).select(
        pl.col("_file"), pl.col("_row"), r.alias("_reason")).drop_nulls("_reason")
    return [Problem(f, row, column, why) for f, row, why in hits.iter_rows()]


def check_rows(raw: pl.DataFrame, rules: RuleSet, today: dt.date) -> tuple[pl.DataFrame,
                                                                              list[Problem]]:
    """Check text rows (with origin columns) and convert them to the canonical schema."""
    problems: list[Problem] = []
    frame = raw.with_columns(
        pl.col("subject_id").str.to_uppercase(),
        pl.col("subject_type").str.to_lowercase(),
        pl.col("industry").str.to_lowercase(),
        *(parse_dates_expr(c).alias(f"_{c}") for c in DATE_COLUMNS),
    )
    for c in REQUIRED:
        problems += _problems_where(frame, pl.col(c).is_null(), c, "required value is empty")
    for c in DATE_COLUMNS:
        problems += _problems_where(
            frame, pl.col(c).is_not_null() & pl.col(f"_{c}").is_null(), c,
            date_problem_expr(c))
    st = pl.col("subject_type")
    problems += _problems_where(frame, st.is_not_null() & ~st.is_in(SUBJECT_TYPES),
                                "subject_type",
                                pl.format("unknown subject type '{}' (use bidder, agent, "
                                          "tenderer or expert)", st))
    problems += _problems_where(
        frame, st.is_in(["bidder", "agent", "tenderer"]) & pl.col("subject_id").is_not_null(),
        "subject_id", uscc_problem_expr("subject_id"))
    problems += _problems_where(
        frame, (st == "expert") & pl.col("subject_id").is_not_null(),
        "subject_id", rid_problem_expr("subject_id"))
    ind = pl.col("industry")
    problems += _problems_where(frame, ind.is_not_null() & ~ind.is_in(INDUSTRIES), "industry",
                                pl.format("unknown industry '{}' (use one of {})", ind,
                                          pl.lit(", ".join(INDUSTRIES))))
    problems += _problems_where(
        frame, pl.col("region").is_not_null() & ~pl.col("region").str.contains(r"^\d{6}$"),
        "region", pl.format("region must be a 6-digit administrative code, not '{}'",
                            pl.col("region")))
    allowed = pl.DataFrame(
        [(b.code, t) for b in rules.behaviour for t in b.subject_types],
        schema={"behaviour_code": pl.String, "_allowed_type": pl.String}, orient="row")
    known = allowed.get_column("behaviour_code").unique()
    code = pl.col("behaviour_code")
    problems += _problems_where(
        frame, code.is_not_null() & ~code.is_in(known.implode()), "behaviour_code",
        pl.format("unknown behaviour code '{}' in rule set {}", code,
                  pl.lit(f"{rules.ruleset.name} {rules.ruleset.version}")))
    pairs = frame.join(allowed.rename({"_allowed_type": "subject_type"}).with_columns(
        pl.lit(True).alias("_ok")), on=["behaviour_code", "subject_type"], how="left")
    problems += _problems_where(
        pairs, code.is_in(known.implode()) & st.is_in(SUBJECT_TYPES) & pl.col("_ok").is_null(),
        "behaviour_code", pl.format("behaviour '{}' does not apply to subject type '{}'",
                                    code, st))
    dec = pl.col("_decided_on")
    problems += _problems_where(frame, dec > pl.lit(today), "decided_on",
                                pl.format("decided_on {} is after the import day {}", dec,
                                          pl.lit(today.isoformat())))
    for c, word in (("recorded_on", "recorded"), ("revoked_on", "revoked"),
                    ("repaired_on", "repaired")):
        problems += _problems_where(frame, pl.col(f"_{c}") < dec, c,
                                    pl.format(f"{word} on {{}} is before decided_on {{}}",
                                              pl.col(f"_{c}"), dec))
    problems += _problems_where(frame, pl.col("_publish_until") < dec, "publish_until",
                                pl.format("publish_until {} is before decided_on {}",
                                          pl.col("_publish_until"), dec))
    frame, found = _check_stated_bars(frame, rules)
    problems += found
    canonical = frame.select(
        *(pl.col(c) for c in ("record_id", "source", "industry", "region", "subject_id",
                              "subject_name", "subject_type", "behaviour_code")),
        pl.col("_decided_on").alias("decided_on"),
        pl.coalesce("_recorded_on", "_decided_on").alias("recorded_on"),
        pl.col("document_no"),
        pl.col("_revoked_on").alias("revoked_on"),
        pl.col("_repaired_on").alias("repaired_on"),
        pl.col("_restrict_until").alias("restrict_until"),
        pl.col("_restrict_scope").alias("restrict_scope"),
        pl.col("authority"),
        pl.col("basis"),
        pl.col("_publish_until").alias("publish_until"),
        *ORIGIN,
    )
    return canonical, problems


def _check_stated_bars(frame: pl.DataFrame, rules: RuleSet) -> tuple[pl.DataFrame,
                                                                      list[Problem]]:
    """A decision's stated bar (``restrict_until``, ``restrict_scope``): readable, on a
    behaviour that bars, within its statutory range and no wider than its scope
    (docs/semantics.md, "Restrictions"). Adds ``_restrict_until`` (Date, permanent as
    :data:`PERMANENT_DATE`) and ``_restrict_scope`` (canonical text)."""
    problems: list[Problem] = []
    behaviours = pl.DataFrame(
        [(b.code, b.restricts, b.restrict_min_days, b.restrict_max_days, b.scope_mask())
         for b in rules.behaviour],
        schema={"behaviour_code": pl.String, "_bars": pl.Boolean, "_range_min": pl.Int64,
                "_range_max": pl.Int64, "_beh_scope": pl.Int64}, orient="row")
    until = pl.col("restrict_until")
    permanent = until.str.to_lowercase().is_in(PERMANENT_WORDS)
    frame = frame.join(behaviours, on="behaviour_code", how="left",
                       maintain_order="left").with_columns(
        pl.when(permanent).then(pl.lit(PERMANENT_DATE))
        .otherwise(parse_dates_expr("restrict_until")).alias("_restrict_until"),
        scope_mask_expr("restrict_scope").alias("_scope_mask"),
    )
    dec = pl.col("_decided_on")
    stated = pl.col("_restrict_until")
    problems += _problems_where(
        frame, until.is_not_null() & stated.is_null(), "restrict_until",
        pl.format("not a date or 'permanent': '{}' (use YYYY-MM-DD)", until))
    problems += _problems_where(
        frame, until.is_not_null() & (pl.col("_bars") == False), "restrict_until",  # noqa: E712
        pl.format("behaviour {} imposes no bar, so a decision cannot state one",
                  pl.col("behaviour_code")))
    problems += _problems_where(
        frame, pl.col("restrict_scope").is_not_null() & (pl.col("_bars") == False),  # noqa: E712
        "restrict_scope",
        pl.format("behaviour {} imposes no bar, so a decision cannot state its scope",
                  pl.col("behaviour_code")))
    problems += _problems_where(frame, stated < dec, "restrict_until",
                                pl.format("restrict_until {} is before decided_on {}",
                                          stated, dec))
    period = (stated - dec).dt.total_days() + 1
    bounded = pl.col("_range_min").is_not_null() & stated.is_not_null() & (stated >= dec)
    is_permanent = stated == pl.lit(PERMANENT_DATE)
    problems += _problems_where(
        frame, bounded & is_permanent, "restrict_until",
        pl.format("permanent is outside the statutory range {}-{} days of {}",
                  pl.col("_range_min"), pl.col("_range_max"), pl.col("behaviour_code")))
    problems += _problems_where(
        frame, bounded & ~is_permanent & ((period < pl.col("_range_min"))
                                          | (period > pl.col("_range_max"))),
        "restrict_until",
        pl.format("the stated bar of {} days is outside the statutory range {}-{} days of {}",
                  period, pl.col("_range_min"), pl.col("_range_max"),
                  pl.col("behaviour_code")))
    mask = pl.col("_scope_mask")
    problems += _problems_where(
        frame, mask == -1, "restrict_scope",
        pl.format("unknown category in '{}' (use engineering, procurement, land, property, "
                  "other or all, separated by |)", pl.col("restrict_scope")))
    problems += _problems_where(
        frame, (mask > 0) & pl.col("_beh_scope").is_not_null()
        & ((mask & ~pl.col("_beh_scope")) != 0), "restrict_scope",
        pl.format("scope '{}' is wider than behaviour {}'s scope '{}'",
                  pl.col("restrict_scope"), pl.col("behaviour_code"),
                  scope_text_expr(pl.col("_beh_scope"))))
    frame = frame.with_columns(
        pl.when(mask > 0).then(scope_text_expr(mask)).alias("_restrict_scope"))
    return frame, problems


def _with_origin(frame: pl.DataFrame, file: str) -> pl.DataFrame:
    missing = [c for c in OPTIONAL if c not in frame.columns]
    return frame.with_columns(
        *(pl.lit(None, pl.String).alias(c) for c in missing),
        pl.lit(file).alias("_file"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("_row"),
    ).select(*REQUIRED, *OPTIONAL, *ORIGIN)


def merge_copies(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Merge rows with the same (source, record_id), in order of appearance.

    A later copy may only fill in ``revoked_on`` or ``repaired_on``; any other
    difference is a conflict, reported on the later copy.
    """
    key = ["source", "record_id"]
    ordered = frame.with_row_index("_order")
    fixed = [c for c in RECORD_SCHEMA if c not in ("revoked_on", "repaired_on", *key)]
    problems: list[Problem] = []
    dup = ordered.filter(pl.len().over(key) > 1)
    if dup.height:
        firsts = dup.sort("_order").group_by(key, maintain_order=True).agg(
            *(pl.col(c).first().alias(f"_first_{c}") for c in fixed),
            *(pl.col(c).drop_nulls().first().alias(f"_first_{c}")
              for c in ("revoked_on", "repaired_on")),
            pl.col("_file").first().alias("_first_file"),
            pl.col("_row").first().alias("_first_row"),
        )
        cmp = dup.join(firsts, on=key)
        where = pl.format(" (first seen in {} row {})", pl.col("_first_file"),
                          pl.col("_first_row"))
        for c in fixed:
            problems += _problems_where(
                cmp, pl.col(c).ne_missing(pl.col(f"_first_{c}")), c,
                pl.concat_str(pl.lit(f"conflicts with an earlier copy of this record: {c} "),
                              pl.col(c).cast(pl.String).fill_null("(empty)"), pl.lit(" != "),
                              pl.col(f"_first_{c}").cast(pl.String).fill_null("(empty)"),
                              where))
        for c in ("revoked_on", "repaired_on"):
            problems += _problems_where(
                cmp, pl.col(c).is_not_null() & pl.col(f"_first_{c}").is_not_null()
                & (pl.col(c) != pl.col(f"_first_{c}")), c,
                pl.concat_str(pl.lit(f"conflicts with an earlier copy of this record: {c} "),
                              pl.col(c).cast(pl.String), pl.lit(" != "),
                              pl.col(f"_first_{c}").cast(pl.String), where))
    merged = ordered.sort("_order").group_by(key, maintain_order=True).agg(
        *(pl.col(c).first() for c in fixed),
        *(pl.col(c).drop_nulls().first() for c in ("revoked_on", "repaired_on")),
    ).select(list(RECORD_SCHEMA))
    return merged.cast(RECORD_SCHEMA), problems  # type: ignore[arg-type]


def read_records(paths: Sequence[str | Path], rules: RuleSet,
                 today: dt.date | None = None) -> pl.DataFrame:
    """Read, check and merge record files into one canonical frame.

    Raises :class:`InputError` listing every problem in every file; nothing is
    returned unless every row of every file is good.
    """
    day = today or dt.date.today()
    problems: list[Problem] = []
    parts: list[pl.DataFrame] = []
    for path in paths:
        raw = read_table(path)
        absent = [c for c in REQUIRED if c not in raw.columns]
        if absent:
            problems += [Problem(str(path), 1, c, "required column is missing") for c in absent]
            continue
        checked, found = check_rows(_with_origin(raw, str(path)), rules, day)
        problems += found
        parts.append(checked)
    if problems:
        raise InputError(problems)
    return combine(parts)


def combine(parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate checked parts (with origin columns) and merge copies of records."""
    frames = list(parts)
    if not frames:
        return empty_records()
    merged, problems = merge_copies(pl.concat(frames, how="vertical"))
    if problems:
        raise InputError(problems)
    return merged


def records_frame(rows: Iterable[dict[str, object]]) -> pl.DataFrame:
    """Canonical records from Python dicts (tests, the app): missing optional fields are empty
    and ``recorded_on`` defaults to ``decided_on``. No checks are made."""
    frame = pl.DataFrame(list(rows), schema_overrides={
        k: v for k, v in RECORD_SCHEMA.items()})
    for c, dtype in RECORD_SCHEMA.items():
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(c))
    frame = frame.with_columns(pl.coalesce("recorded_on", "decided_on").alias("recorded_on"))
    return frame.select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA)  # type: ignore[arg-type]


def read_subjects(path: str | Path) -> pl.DataFrame:
    """Read a subjects file (``subject_id, subject_type, subject_name[, country]``), checking
    every row."""
    path = str(path)
    frame = read_table(path)
    problems: list[Problem] = []
    for c in ("subject_id", "subject_type", "subject_name"):
        if c not in frame.columns:
            problems.append(Problem(path, 1, c, "required column is missing"))
    if problems:
        raise InputError(problems)
    frame = frame.with_columns(pl.col("subject_id").str.to_uppercase(),
                               pl.col("subject_type").str.to_lowercase(),
                               pl.lit(path).alias("_file"),
                               (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("_row"))
    st = pl.col("subject_type")
    for c in ("subject_id", "subject_type", "subject_name"):
        problems += _problems_where(frame, pl.col(c).is_null(), c, "required value is empty")
    problems += _problems_where(frame, st.is_not_null() & ~st.is_in(SUBJECT_TYPES),
                                "subject_type", pl.format("unknown subject type '{}'", st))
    problems += _problems_where(frame, st.is_in(["bidder", "agent", "tenderer"]),
                                "subject_id", uscc_problem_expr("subject_id"))
    problems += _problems_where(frame, st == "expert", "subject_id",
                                rid_problem_expr("subject_id"))
    if problems:
        raise InputError(problems)
    keep = [c for c in ("subject_id", "subject_type", "subject_name", "country")
            if c in frame.columns]
    return frame.select(keep)
