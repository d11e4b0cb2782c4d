"""Problems found in input, reported all at once with file, row, column and reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class Reason(str):
    """Why an input is bad: its English words (what the command line, logs and the API
    show) with the catalogue key (``problem.*`` in :mod:`creditindex.i18n`) and the
    values that word it in any language (:func:`creditindex.wording.problem_text`), so
    that no face reads the English words back. A :class:`Problem`'s ``reason`` may be
    one; text composed from it (an f-string) is plain text again."""

    code: str
    params: dict[str, str]

    def __new__(cls, words: str, key: str, /, **params: object) -> Reason:
        """``words`` as a reason with catalogue key ``key`` and ``params``."""
        made = super().__new__(cls, words)
        made.code = key
        made.params = {k: str(v) for k, v in params.items()}
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reason, (str(self), self.code, self.params))


def _reason(words: str, code: str, params: dict[str, str]) -> Reason:
    return Reason(words, code, **params)


MISSING_COLUMN = Reason("required column is missing", "problem.missing_column")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place of one input.

    ``row`` counts as a spreadsheet does (the header is row 1); ``None`` when the
    problem concerns the whole file. ``column`` names the column or rule entry.
    """

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f": row {self.row}"
        if self.column:
            where += f": column {self.column}" if self.row is not None else f": {self.column}"
        return f"{where}: {self.reason}"


class InputError(Exception):
    """Bad input: carries every problem found, so the user can fix them in one go."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems, key=_sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, file: str, reason: str, row: int | None = None,
            column: str | None = None) -> InputError:
        """An error with a single problem."""
        return cls([Problem(file, row, column, reason)])


def _sort_key(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, -1 if p.row is None else p.row, p.column or "", p.reason)
