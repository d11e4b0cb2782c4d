"""The one date parser: every date a user writes (records, subjects, lists, mapping
files, command-line options, the app) is read here.

Accepted (CONTRACT §2): ISO ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYYMMDD`` and
``YYYY年M月D日`` (month and day may drop a leading zero except in ``YYYYMMDD``), and real
Excel date cells (which the readers turn into ``YYYY-MM-DD 00:00:00``). A mapping file may
name other ``strftime`` formats for its source; those are read exactly too (the value
must read back as written, so ``%Y%m%d`` never reads ``202511`` as 2025-01-01).

Never a date: a bare number in a text column (``7``, ``2025``, ``20251``, ``45000``:
Excel serial numbers are only meaningful inside Excel, where the cell says it is a date),
a month above 12 (``2026-13-02`` is refused, never read as day 13 of month 2), a day the
month does not have, an empty string.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from creditindex.reason_exprs import as_reason, reason_expr

# The formats accepted everywhere, as the readers' hints name them.
DEFAULT_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日")
FORMATS_HINT = "use YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY年M月D日"
# Shapes of the default formats: year, month, day groups. An ISO date may carry the
# midnight time of an Excel date cell read as text.
_SHAPE = (
    r"^(?:(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|(\d{4})/(\d{1,2})/(\d{1,2})"
    r"|(\d{4})(\d{2})(\d{2})"
    r"|(\d{4})年(\d{1,2})月(\d{1,2})日)$"
)
# Earliest and latest day a date may name (both inclusive).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(9999, 12, 31)


# The shape nearly every date has (ISO, zero-padded) is read by one ``strptime``; only the
# other rows go through the general shapes above (a 12-group regex, ten times slower).
_PLAIN_ISO = r"^\d{4}-\d{2}-\d{2}$"


def _in_range(parsed: pl.Expr) -> pl.Expr:
    return pl.when(parsed.is_between(pl.lit(MIN_DATE), pl.lit(MAX_DATE))).then(parsed)


def _general_shapes(text: pl.Expr) -> pl.Expr:
    """Text in any of the default shapes -> Date (null where none reads it)."""
    g = text.str.extract_groups(_SHAPE)
    year = pl.coalesce([g.struct.field(str(i)) for i in (1, 4, 7, 10)])
    month = pl.coalesce([g.struct.field(str(i)) for i in (2, 5, 8, 11)])
    day = pl.coalesce([g.struct.field(str(i)) for i in (3, 6, 9, 12)])
    iso = pl.concat_str([year, pl.lit("-"), month.str.zfill(2), pl.lit("-"), day.str.zfill(2)])
    return iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def _default_expr(text: pl.Expr) -> pl.Expr:
    # ``text`` as written: a plain ISO date has no spaces around it, so only the rows
    # the plain ISO read leaves are stripped and read by the general shapes (``slow``:
    # filtered out, read, and put back in place by position), so a column of ISO dates
    # or empty cells costs one regex and one strptime. Each step is a field of one
    # struct so that polars computes it once: an expression used twice is computed twice
    # when a frame is selected from eagerly.
    plain = pl.when(text.str.contains(_PLAIN_ISO)).then(text).str.strptime(
        pl.Date, "%Y-%m-%d", strict=False)
    slow = pl.field("slow")
    # Row i of the column: its place among the slow rows, or one past the last of them
    # (a null appended there) when it is not slow.
    place = pl.when(slow).then(slow.cum_sum() - 1).otherwise(slow.sum())
    others = _general_shapes(pl.field("text").filter(slow).str.strip_chars()).append(
        pl.lit(None, pl.Date))
    return (pl.struct(text.alias("text"), plain.alias("plain"))
            .struct.with_fields((pl.field("plain").is_null() & pl.field("text").is_not_null())
                                .alias("slow"))
            .struct.with_fields(place.alias("place"))
            .struct.with_fields(pl.coalesce(pl.field("plain"), others.gather(pl.field("place")))
                                .alias("date"))
            .struct.field("date"))


def _unpadded(expr: pl.Expr) -> pl.Expr:
    """Numbers without leading zeros, case folded: ``2025/02/01`` -> ``2025/2/1``."""
    return expr.str.replace_all(r"(^|[^0-9])0+([0-9])", "${1}${2}").str.to_lowercase()


def _custom_expr(text: pl.Expr, fmt: str) -> pl.Expr:
    """``fmt`` read exactly: the date must format back to the text (leading zeros aside)."""
    parsed = text.str.strptime(pl.Date, fmt, strict=False)
    back = parsed.dt.strftime(fmt)
    return pl.when(_unpadded(back) == _unpadded(text)).then(parsed).otherwise(None)


def parse_date_expr(expr: pl.Expr | str, formats: Sequence[str] = DEFAULT_FORMATS
                    ) -> pl.Expr:
    """Text -> Date by the first of ``formats`` that reads it exactly (the default formats
    are always read too); null when none does, including empty and bare numbers."""
    text = pl.col(expr) if isinstance(expr, str) else expr
    custom = [_custom_expr(text.str.strip_chars(), f) for f in formats
              if f not in DEFAULT_FORMATS]
    parsed = pl.coalesce([*custom, _default_expr(text)]) if custom else _default_expr(text)
    return (pl.struct(parsed.alias("parsed"))
            .struct.with_fields(_in_range(pl.field("parsed")).alias("date"))
            .struct.field("date"))


def date_problem_expr(expr: pl.Expr | str, formats: Sequence[str] = DEFAULT_FORMATS
                      ) -> pl.Expr:
    """Why each text is not a date (a reason: :func:`creditindex.reason_exprs.reason_expr`;
    null where it is one, or is null)."""
    text = (pl.col(expr) if isinstance(expr, str) else expr).str.strip_chars()
    ok = parse_date_expr(text, formats).is_not_null()
    hint = FORMATS_HINT if tuple(formats) == DEFAULT_FORMATS else (
        "formats: " + ", ".join(formats))
    shaped = text.str.contains(_SHAPE)
    return (
        pl.when(text.is_null() | ok).then(None)
        .when(text == "").then(reason_expr("problem.date_empty", "the date is empty"))
        .when(text.str.contains(r"^\d{1,7}$")).then(reason_expr("problem.not_a_date", pl.format(
            "not a date: '{}' is a bare number ({}; a number is never read as a date)",
            text, pl.lit(hint)), value=text))
        .when(shaped).then(reason_expr("problem.not_a_date", pl.format(
            "not a date: '{}' is not a real calendar day between {} and {} (month 1-12, "
            "day within the month; {})", text, pl.lit(MIN_DATE.isoformat()),
            pl.lit(MAX_DATE.isoformat()), pl.lit(FORMATS_HINT)), value=text))
        .otherwise(reason_expr("problem.not_a_date", pl.format(
            "not a date: '{}' ({})", text, pl.lit(hint)), value=text))
    )


def parse_date(text: str, formats: Sequence[str] = DEFAULT_FORMATS) -> dt.date:
    """One date (command-line options, the app): :func:`parse_date_expr` on one value.
    Raises ``ValueError`` with the reason :func:`date_problem_expr` gives."""
    frame = pl.DataFrame({"t": [str(text)]}, schema={"t": pl.String})
    value, why = frame.select(parse_date_expr("t", formats), date_problem_expr("t", formats)
                              .alias("why")).row(0)
    if value is None:
        raise ValueError(as_reason(why) if why else f"not a date: {text!r} ({FORMATS_HINT})")
    assert isinstance(value, dt.date)
    return value
