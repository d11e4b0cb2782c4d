"""Identifier checks: unified social credit codes (GB 32100-2015) and resident
ID numbers (GB 11643-1999), as scalar functions and as vectorised polars
expressions that name the reason a value is refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex.errors import Reason
from creditindex.reason_exprs import reason_expr

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
        return Reason(f"USCC must have 18 characters, not {len(c)}", "problem.uscc_length",
                      n=len(c))
    bad = sorted({ch for ch in c if ch not in _USCC_VALUE})
    if bad:
        return Reason(f"USCC has characters outside the GB 32100 alphabet: {''.join(bad)}",
                      "problem.uscc_alphabet", chars="".join(bad))
    if uscc_check_char(c[:17]) != c[17]:
        want = uscc_check_char(c[:17])
        return Reason(f"USCC check character should be {want}, not {c[17]}",
                      "problem.uscc_check", want=want, got=c[17])
    return None


def rid_problem(number: str) -> str | None:
    """Why ``number`` is not a valid resident ID number, or ``None`` when it is."""
    n = number.strip().upper()
    if len(n) != 18:
        return Reason(f"resident ID must have 18 characters, not {len(n)}",
                      "problem.rid_length", n=len(n))
    if not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        return Reason("resident ID must be 17 digits and a check digit or X",
                      "problem.rid_digits")
    try:
        dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return Reason(f"resident ID birth date {n[6:14]} is not a real date",
                      "problem.rid_date", date=n[6:14])
    if rid_check_char(n[:17]) != n[17]:
        want = rid_check_char(n[:17])
        return Reason(f"resident ID check character should be {want}, not {n[17]}",
                      "problem.rid_check", want=want, got=n[17])
    return None


def subject_id_problem(subject_id: str, subject_type: str | None = None) -> str | None:
    """Why ``subject_id`` cannot name a subject of ``subject_type`` (an expert: a resident
    ID; a bidder, agent or tenderer: a USCC; no type: either), or ``None`` when it can."""
    if subject_type == "expert":
        return rid_problem(subject_id)
    if subject_type is not None:
        return uscc_problem(subject_id)
    uscc, rid = uscc_problem(subject_id), rid_problem(subject_id)
    if uscc is None or rid is None:
        return None
    return f"neither a valid USCC ({uscc}) nor a valid resident ID ({rid})"


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


def _fixed_width_bytes(values: pl.Series, width: int) -> tuple[npt.NDArray[np.bool_],
                                                               npt.NDArray[np.uint8]]:
    """Which values are exactly ``width`` bytes, and those values as an (n, width) matrix,
    one row per value (their bytes read in place by polars, no text joined and encoded
    again)."""
    fits = (values.str.len_bytes() == width).fill_null(False)
    matrix = (values.filter(fits).cast(pl.Binary)
              .bin.reinterpret(dtype=pl.Array(pl.UInt8, width)).to_numpy())
    return fits.to_numpy(), matrix.reshape(-1, width)


def _lookup(alphabet: str) -> npt.NDArray[np.int8]:
    table = np.full(256, -1, dtype=np.int8)
    table[np.frombuffer(alphabet.encode(), dtype=np.uint8)] = np.arange(len(alphabet))
    return table


def _weighted(alphabet: str, weights: Sequence[int], modulus: int) -> npt.NDArray[np.int16]:
    """Per character position, each byte's weighted value modulo ``modulus`` (-1 for a
    byte outside ``alphabet``): a (len(weights), 256) table."""
    value = _lookup(alphabet).astype(np.int16)
    w = np.array(weights, dtype=np.int16)[:, None]
    return np.where(value >= 0, value * w % modulus, -1).astype(np.int16)


_USCC_LOOKUP = _lookup(USCC_ALPHABET)
_DIGIT_LOOKUP = _lookup("0123456789")
_USCC_WEIGHTED = _weighted(USCC_ALPHABET, USCC_WEIGHTS, 31)
_RID_WEIGHTED = _weighted("0123456789", RID_WEIGHTS, 11)
_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _weighted_sum(matrix: npt.NDArray[np.uint8], table: npt.NDArray[np.int16]
                  ) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """The sum over the first ``len(table)`` character positions (``matrix``: one row per
    value) of each byte's weighted value, and whether every byte had one. Position by
    position (``np.take`` of one column: no (n, 18) temporaries; a column read in place
    costs less than the whole matrix transposed first), in 16 bits (a weighted value is
    below 31, -1 where there is none)."""
    total = np.zeros(matrix.shape[0], dtype=np.int16)
    lowest = np.zeros(matrix.shape[0], dtype=np.int16)
    for position, weighted in enumerate(table):
        v = np.take(weighted, matrix[:, position])
        np.minimum(lowest, v, out=lowest)
        total += v
    return total, lowest >= 0


def uscc_valid_mask(values: pl.Series) -> npt.NDArray[np.bool_]:
    """True where a value is surely a valid USCC as written (18 characters of the alphabet,
    upper case, right check character): a fast pre-check of many values, which
    :func:`uscc_problem_expr` words for the others (False never means invalid)."""
    fits, rows = _fixed_width_bytes(values, 18)
    total, known = _weighted_sum(rows, _USCC_WEIGHTED)
    last = np.take(_USCC_LOOKUP, rows[:, 17])
    ok = known & (last == (31 - total % 31) % 31)
    out = np.zeros(len(fits), dtype=np.bool_)
    out[fits] = ok
    return out


def rid_valid_mask(values: pl.Series) -> npt.NDArray[np.bool_]:
    """True where a value is surely a valid resident ID number as written (17 digits, a
    birth date between 1800 and 2199 that exists, right check character): a fast
    pre-check, like :func:`uscc_valid_mask`."""
    fits, rows = _fixed_width_bytes(values, 18)
    total, digits = _weighted_sum(rows, _RID_WEIGHTED)

    def number(first: int, last: int) -> npt.NDArray[np.int32]:
        out = np.zeros(rows.shape[0], dtype=np.int32)
        for position in range(first, last):
            out = out * 10 + np.maximum(np.take(_DIGIT_LOOKUP, rows[:, position]), 0)
        return out

    year, month, day = number(6, 10), number(10, 12), number(12, 14)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = _DAYS_IN_MONTH[np.clip(month, 0, 12)] - ((month == 2) & ~leap)
    real = (year >= 1800) & (year < 2200) & (month >= 1) & (month <= 12) & (day >= 1) & (
        day <= last)
    check = np.frombuffer(RID_CHECK.encode(), dtype=np.uint8)[total % 11]
    ok = digits & real & (rows[:, 17] == check)
    out = np.zeros(len(fits), dtype=np.bool_)
    out[fits] = ok
    return out


def normalise_id_expr(col: str) -> pl.Expr:
    """Trim and upper-case an identifier column."""
    return pl.col(col).str.strip_chars().str.to_uppercase()


def uscc_problem_expr(col: str) -> pl.Expr:
    """The reason (:func:`creditindex.reason_exprs.reason_expr`) each value of ``col`` is
    not a USCC, else null."""
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
        .then(reason_expr("problem.uscc_length", pl.format(
            "USCC must have 18 characters, not {}", c.str.len_chars()), n=c.str.len_chars()))
        .when(~alphabet_ok)
        .then(reason_expr("problem.uscc_alphabet",
                          "USCC has characters outside the GB 32100 alphabet",
                          chars=c.str.replace_all(f"[{USCC_ALPHABET}]", "")))
        .when(expected != c.str.slice(17, 1))
        .then(reason_expr("problem.uscc_check", pl.format(
            "USCC check character should be {}, not {}", expected, c.str.slice(17, 1)),
            want=expected, got=c.str.slice(17, 1)))
        .otherwise(None)
    )


def rid_problem_expr(col: str) -> pl.Expr:
    """The reason (:func:`creditindex.reason_exprs.reason_expr`) each value of ``col`` is
    not a resident ID, else null."""
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
        .then(reason_expr("problem.rid_length", pl.format(
            "resident ID must have 18 characters, not {}", n.str.len_chars()),
            n=n.str.len_chars()))
        .when(~shape_ok)
        .then(reason_expr("problem.rid_digits",
                          "resident ID must be 17 digits and a check digit or X"))
        .when(birth.is_null())
        .then(reason_expr("problem.rid_date", pl.format(
            "resident ID birth date {} is not a real date", n.str.slice(6, 8)),
            date=n.str.slice(6, 8)))
        .when(expected != n.str.slice(17, 1))
        .then(reason_expr("problem.rid_check", pl.format(
            "resident ID check character should be {}, not {}", expected, n.str.slice(17, 1)),
            want=expected, got=n.str.slice(17, 1)))
        .otherwise(None)
    )


# ---------------------------------------------------------------- the one masking rule
#
# A resident ID number shown to anyone is masked: its birth date (characters 7-14) is
# hidden, so ``110105194912310021`` shows as ``110105********0021``. What counts as one:
# any identifier of an expert, and any value (or any token inside a text: reasons,
# consortium IDs ``A+B``, a document number) with the shape of a resident ID -- 17 digits
# and a digit or X, characters 7-14 a plausible birth date -- whether or not its check
# character is right (a mistyped ID is still a person's). Every face uses these functions:
# the command line's tables and spreadsheets, the evidence report, the stored checks and
# the app.

_BIRTH = r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
RID_PATTERN = f"^[0-9]{{6}}{_BIRTH}[0-9]{{3}}[0-9X]$"
_RID_IN_TEXT = re.compile(f"(?<![0-9A-Z])([0-9]{{6}}){_BIRTH}([0-9]{{3}}[0-9X])(?![0-9A-Z])")
_RID_IN_TEXT_EXPR = (f"(^|[^0-9A-Z])([0-9]{{6}}){_BIRTH}([0-9]{{3}}[0-9X])($|[^0-9A-Z])")
MASK = "********"


def looks_personal(value: str | None) -> bool:
    """Whether ``value`` has the shape of a resident ID number (see the rule above)."""
    return re.match(RID_PATTERN, (value or "").strip().upper()) is not None


def looks_personal_expr(col: str = "subject_id") -> pl.Expr:
    """Vectorised :func:`looks_personal`."""
    return normalise_id_expr(col).str.contains(RID_PATTERN).fill_null(False)


def mask_rid(number: str) -> str:
    """Mask one resident ID number: the birth date is hidden (any other length: all
    hidden)."""
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + MASK + number[14:]


def mask_rid_expr(col: str) -> pl.Expr:
    """Vectorised :func:`mask_rid` for the values of ``col``."""
    c = pl.col(col)
    return pl.when(c.str.len_chars() == 18).then(
        pl.concat_str([c.str.slice(0, 6), pl.lit(MASK), c.str.slice(14, 4)])
    ).otherwise(pl.lit("******************"))


def mask_text(text: str) -> str:
    """``text`` with every resident ID number in it masked."""
    if len(text) < 18:  # too short to hold one (most values: codes, grades, dates)
        return text
    return _RID_IN_TEXT.sub(lambda m: m.group(1) + MASK + m.group(2), text)


def mask_text_expr(col: str) -> pl.Expr:
    """Vectorised :func:`mask_text` (applied twice: two IDs may share one separator)."""
    once = pl.col(col).str.replace_all(_RID_IN_TEXT_EXPR, f"${{1}}${{2}}{MASK}${{3}}${{4}}")
    return once.str.replace_all(_RID_IN_TEXT_EXPR, f"${{1}}${{2}}{MASK}${{3}}${{4}}")


def public_id(subject_id: str, subject_type: str | None = None) -> str:
    """An identifier as shown to anyone: an expert's (or any resident-ID-shaped value)
    masked; a consortium's ``A+B`` member by member."""
    if "+" in subject_id:
        return "+".join(public_id(p, subject_type) for p in subject_id.split("+"))
    if subject_type == "expert" or looks_personal(subject_id):
        return mask_rid(subject_id)
    return subject_id


def public_id_expr(col: str = "subject_id", type_col: str | None = "subject_type") -> pl.Expr:
    """Vectorised :func:`public_id`."""
    personal = looks_personal_expr(col)
    if type_col is not None:
        personal = personal | (pl.col(type_col) == "expert").fill_null(False)
    return pl.when(personal).then(mask_rid_expr(col)).otherwise(mask_text_expr(col))


def mask_frame(frame: pl.DataFrame, columns: Sequence[str] = ("subject_id",)
               ) -> pl.DataFrame:
    """A frame fit for anyone's eyes: identifiers of ``columns`` by :func:`public_id`
    (by ``subject_type`` when the frame has it) and every other text by
    :func:`mask_text`."""
    type_col = "subject_type" if "subject_type" in frame.columns else None
    ids = [c for c in columns if c in frame.columns]
    text = [n for n, d in frame.schema.items() if d == pl.String and n not in ids]
    return frame.with_columns(*(public_id_expr(c, type_col).alias(c) for c in ids),
                              *(mask_text_expr(c).alias(c) for c in text))


def mask_value(value: Any) -> Any:
    """Any plain value (str, list, dict, as in a JSON payload) with every resident ID
    number in its texts masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value
