"""Identifier checks: unified social credit codes (GB 32100-2015) and resident
ID numbers (GB 11643-1999), as scalar functions and as vectorised polars
expressions that name the reason a value is refused."""

from __future__ import annotations

import datetime as dt

import polars as pl

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RID_CHECK = "10X98765432"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def rid_check_char(first17: str) -> str:
    """The check character for the first 17 digits of a resident ID number."""
    total = sum(int(c) * w for c, w in zip(first17, RID_WEIGHTS, strict=True))
    return RID_CHECK[total % 11]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid USCC, or ``None`` when it is."""
    c = code.strip().upper()
    if len(c) != 18:
        return f"USCC must have 18 characters, not {len(c)}"
    bad = sorted({ch for ch in c if ch not in _USCC_VALUE})
    if bad:
        return f"USCC has characters outside the GB 32100 alphabet: {''.join(bad)}"
    if uscc_check_char(c[:17]) != c[17]:
        return f"USCC check character should be {uscc_check_char(c[:17])}, not {c[17]}"
    return None


def rid_problem(number: str) -> str | None:
    """Why ``number`` is not a valid resident ID number, or ``None`` when it is."""
    n = number.strip().upper()
    if len(n) != 18:
        return f"resident ID must have 18 characters, not {len(n)}"
    if not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        return "resident ID must be 17 digits and a check digit or X"
    try:
        dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return f"resident ID birth date {n[6:14]} is not a real date"
    if rid_check_char(n[:17]) != n[17]:
        return f"resident ID check character should be {rid_check_char(n[:17])}, not {n[17]}"
    return None


def id_problem(subject_id: str) -> str | None:
    """Why ``subject_id`` is neither a valid USCC nor a valid resident ID number (``None``
    when it is one of them)."""
    c = subject_id.strip().upper()
    uscc, rid = uscc_problem(c), rid_problem(c)
    if uscc is None or rid is None:
        return None
    if len(c) == 18 and c[:17].isdigit():
        return f"not a valid code: {rid}; as a USCC: {uscc}"
    return f"not a valid code: {uscc}"


def normalise_id_expr(col: str) -> pl.Expr:
    """Trim and upper-case an identifier column."""
    return pl.col(col).str.strip_chars().str.to_uppercase()


def uscc_problem_expr(col: str) -> pl.Expr:
    """A string expression: the reason each value of ``col`` is not a USCC, else null."""
    c = normalise_id_expr(col)
    alphabet_ok = c.str.contains(f"^[{USCC_ALPHABET}]{{18}}$")
    total = pl.sum_horizontal(
        c.str.slice(i, 1).replace_strict(_USCC_VALUE, default=0, return_dtype=pl.Int64) * w
        for i, w in enumerate(USCC_WEIGHTS)
    )
    expected = ((31 - total % 31) % 31).replace_strict(
        dict(enumerate(USCC_ALPHABET)), return_dtype=pl.String)
    return (
        pl.when(c.str.len_chars() != 18)
        .then(pl.format("USCC must have 18 characters, not {}", c.str.len_chars()))
        .when(~alphabet_ok)
        .then(pl.lit("USCC has characters outside the GB 32100 alphabet"))
        .when(expected != c.str.slice(17, 1))
        .then(pl.format("USCC check character should be {}, not {}", expected,
                        c.str.slice(17, 1)))
        .otherwise(None)
    )


def rid_problem_expr(col: str) -> pl.Expr:
    """A string expression: the reason each value of ``col`` is not a resident ID, else null."""
    n = normalise_id_expr(col)
    shape_ok = n.str.contains(r"^[0-9]{17}[0-9X]$")
    birth = n.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    total = pl.sum_horizontal(
        n.str.slice(i, 1).cast(pl.Int64, strict=False).fill_null(0) * w
        for i, w in enumerate(RID_WEIGHTS)
    )
    expected = (total % 11).replace_strict(dict(enumerate(RID_CHECK)), return_dtype=pl.String)
    return (
        pl.when(n.str.len_chars() != 18)
        .then(pl.format("resident ID must have 18 characters, not {}", n.str.len_chars()))
        .when(~shape_ok)
        .then(pl.lit("resident ID must be 17 digits and a check digit or X"))
        .when(birth.is_null())
        .then(pl.format("resident ID birth date {} is not a real date", n.str.slice(6, 8)))
        .when(expected != n.str.slice(17, 1))
        .then(pl.format("resident ID check character should be {}, not {}", expected,
                        n.str.slice(17, 1)))
        .otherwise(None)
    )


def mask_rid(number: str) -> str:
    """Mask a resident ID number for public view: the birth date is hidden."""
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + "********" + number[14:]


def mask_rid_expr(col: str) -> pl.Expr:
    """Vectorised :func:`mask_rid` for the values of ``col``."""
    c = pl.col(col)
    return pl.when(c.str.len_chars() == 18).then(
        pl.concat_str([c.str.slice(0, 6), pl.lit("********"), c.str.slice(14, 4)])
    ).otherwise(pl.lit("******************"))
