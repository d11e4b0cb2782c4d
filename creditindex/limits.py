"""Limits on what a stranger can send: one settings module for every face.

Every file a user gives (command line, store import, the app's uploads) is checked against
these limits *before* a reader allocates anything for it (see :mod:`creditindex.readers`),
and every request names at most :attr:`Limits.max_subjects` subjects. Each limit can be
changed with an environment variable (``CREDITINDEX_`` + the upper-cased field name, e.g.
``CREDITINDEX_MAX_ROWS=1000000``); ``docs/security.md`` lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

ENV_PREFIX = "CREDITINDEX_"


@dataclass(frozen=True)
class Limits:
    """The limits in force (defaults fit a 10M-record national file and a laptop)."""

    # Bytes of one input file as stored (CSV, Parquet, Excel).
    max_file_bytes: int = 4 * 1024**3
    # Data rows of one table (CSV, Parquet, a sheet).
    max_rows: int = 50_000_000
    # Columns of one table.
    max_columns: int = 512
    # Cells of one spreadsheet sheet (its used range: rows x columns, empty cells count:
    # the reader allocates them all).
    max_sheet_cells: int = 20_000_000
    # Bytes of one spreadsheet part once unzipped (a sheet's XML, the shared strings).
    max_unzipped_bytes: int = 2 * 1024**3
    # Subjects named in one request (check, pool, an upload in the app).
    max_subjects: int = 10_000
    # Bytes of a rule set or mapping file (TOML).
    max_config_bytes: int = 4 * 1024**2


def current() -> Limits:
    """The limits in force: defaults, each overridden by its environment variable."""
    values: dict[str, int] = {}
    for f in fields(Limits):
        raw = os.environ.get(ENV_PREFIX + f.name.upper())
        if raw is None or not raw.strip():
            continue
        try:
            value = int(raw.strip().replace("_", ""))
        except ValueError as exc:
            raise ValueError(f"{ENV_PREFIX}{f.name.upper()} must be a whole number, "
                             f"not {raw!r}") from exc
        if value < 1:
            raise ValueError(f"{ENV_PREFIX}{f.name.upper()} must be at least 1, not {value}")
        values[f.name] = value
    return Limits(**values)


def env_name(field: str) -> str:
    """The environment variable that sets the limit ``field``."""
    return ENV_PREFIX + field.upper()


def env_int(name: str, default: int) -> int:
    """A positive whole number set by the environment variable ``name``, or ``default``
    when it is unset, empty or not a positive whole number (settings of the app and the
    store: lockouts, quotas, deadlines)."""
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default
