"""Reasons worded per row by polars (vectorised checks): a reason is a struct of its
English ``words``, its catalogue ``code`` and its ``params`` (JSON), and becomes a
:class:`~creditindex.errors.Reason` when a :class:`~creditindex.errors.Problem` is made
of it; only the rows that have a problem are worded."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from creditindex.errors import Reason

REASON_FIELDS = ("words", "code", "params")


def reason_expr(key: str, words: pl.Expr | str, /, **params: pl.Expr | str) -> pl.Expr:
    """A reason per row: ``words`` (English) with catalogue key ``key`` and ``params``
    (expressions or constants, as text)."""
    w = pl.lit(words) if isinstance(words, str) else words
    values = [(pl.lit(v) if isinstance(v, str) else v).cast(pl.String).alias(k)
              for k, v in params.items()]
    encoded = pl.struct(values).struct.json_encode() if values else pl.lit("{}")
    return pl.struct(w.alias("words"), pl.lit(key).alias("code"), encoded.alias("params"))


def words_of(reason: pl.Expr) -> pl.Expr:
    """The English words of a reason expression (plain text passes as it is)."""
    return reason.struct.field("words")


def suffixed(reason: pl.Expr, suffix: str) -> pl.Expr:
    """A reason expression with ``suffix`` added to its words (its code and values
    kept)."""
    return pl.struct(pl.format(f"{{}}{suffix}", reason.struct.field("words")).alias("words"),
                     reason.struct.field("code"), reason.struct.field("params"))


def as_reason(value: Any) -> str:
    """A reason read from a frame's row: a :class:`Reason` from a struct of
    :func:`reason_expr`, plain text as it is."""
    if isinstance(value, dict):
        return Reason(value["words"], value["code"], **json.loads(value["params"]))
    return str(value)
