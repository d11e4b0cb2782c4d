"""Trading categories (docs/semantics.md, "Restrictions"): the five kinds of public-resource
trading a bar can cover, and scopes (sets of categories) as small bit masks.

A scope is written in files as categories separated by ``|`` (``engineering|procurement``);
``all`` stands for the five. Inside the engine a scope is an integer mask: bit ``i`` is
``CATEGORIES[i]``; :data:`ALL` holds every category.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

CATEGORIES: tuple[str, ...] = ("engineering", "procurement", "land", "property", "other")
ALL = (1 << len(CATEGORIES)) - 1
_BIT = {c: 1 << i for i, c in enumerate(CATEGORIES)}


def category_bit(category: str) -> int:
    """The mask bit of one category; ``ValueError`` naming the categories otherwise."""
    try:
        return _BIT[category.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown category {category!r} (use {', '.join(CATEGORIES)} "
                         "or all)") from None


def scope_mask(categories: Iterable[str]) -> int:
    """The mask of some categories (``all`` for the five)."""
    mask = 0
    for c in categories:
        mask |= ALL if c.strip().lower() == "all" else category_bit(c)
    return mask


def scope_mask_expr(column: str) -> pl.Expr:
    """The mask of each ``|``-separated scope of a text column (as :func:`scope_mask`): 0
    for an empty value, -1 where a part is not a category (so that callers can report the
    row)."""
    parts = pl.col(column).str.to_lowercase().str.split("|").list.eval(
        pl.element().str.strip_chars())
    bits = parts.list.eval(
        pl.element().replace_strict({**_BIT, "all": ALL}, default=-1, return_dtype=pl.Int64))
    bad = bits.list.contains(-1)
    mask = bits.list.eval(pl.element().bitwise_or()).list.first()
    return (pl.when(pl.col(column).is_null()).then(pl.lit(0, pl.Int64))
            .when(bad).then(pl.lit(-1, pl.Int64))
            .otherwise(mask)).cast(pl.Int64)


def scope_text_expr(mask: pl.Expr) -> pl.Expr:
    """The ``|``-separated categories of each mask of a column, in the order of
    :data:`CATEGORIES`."""
    parts = [pl.when((mask & _BIT[c]) != 0).then(pl.lit(c)) for c in CATEGORIES]
    return pl.concat_str(parts, separator="|", ignore_nulls=True)
