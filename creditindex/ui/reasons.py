"""The engine's reasons and grounds in the session's language: :mod:`creditindex.wording`
with the language of the running session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from creditindex import wording
from creditindex.ui.i18n import current_lang


def scope_words(scope: str | None, lang: str | None = None) -> str:
    """``engineering|procurement`` as ``工程建设、政府采购`` (empty: every category)."""
    return wording.scope_words(scope, lang or current_lang())


def ground_text(row: Mapping[str, Any], names: Mapping[str, str],
                lang: str | None = None) -> str:
    """One restriction ground as a sentence (:func:`creditindex.wording.ground_text`)."""
    return wording.ground_text(row, names, lang or current_lang())


def grounds_frame(grounds: pl.DataFrame, names: Mapping[str, str],
                  lang: str | None = None) -> pl.DataFrame:
    """Grounds with ``detail`` in words (:func:`creditindex.wording.grounds_frame`)."""
    return wording.grounds_frame(grounds, names, lang or current_lang())


def reasons_column(rows: pl.DataFrame, grounds: pl.DataFrame, names: Mapping[str, str],
                   lang: str | None = None) -> pl.Series:
    """Reasons of ranking or check rows in words (:func:`creditindex.wording.reasons_column`)."""
    return wording.reasons_column(rows, grounds, names, lang or current_lang())


def problem_text(reason: str, lang: str | None = None) -> str:
    """A bad-input message in words (:func:`creditindex.wording.problem_text`)."""
    return wording.problem_text(reason, lang or current_lang())
