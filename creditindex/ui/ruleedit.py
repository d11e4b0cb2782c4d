"""A rule set as editable tables and back to TOML text, for the regulators' table editor.

The tables are only a way of writing the TOML: the text is always what is validated
(:func:`creditindex.rules.parse_rules`), hashed and published.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

HEADER_KEYS = ("name", "version", "description", "effective_from", "base", "floor")
GRADE_COLUMNS: dict[str, pl.DataType] = {
    "name": pl.String(), "name_en": pl.String(), "min": pl.Float64(),
    "watch": pl.String(), "restricted": pl.Boolean(), "basis": pl.String(),
}
BEHAVIOUR_COLUMNS: dict[str, pl.DataType] = {
    "code": pl.String(), "name": pl.String(), "name_en": pl.String(),
    "subject_types": pl.List(pl.String()), "points": pl.Float64(), "days": pl.Int64(),
    "restrict_days": pl.String(), "basis": pl.String(), "restrict_min_days": pl.Int64(),
    "restrict_max_days": pl.Int64(), "restrict_scope": pl.List(pl.String()),
    "repeat_within_days": pl.Int64(), "repeat_factor": pl.Float64(), "decay": pl.String(),
    "min_publish_days": pl.Int64(),
}
SUSPENSION_KEYS = ("window_days", "single_points", "total_points", "suspend_days", "basis")
_INT_KEYS = frozenset({"days", "restrict_days", "repeat_within_days", "min_publish_days",
                       "window_days", "suspend_days"})


@dataclass(frozen=True)
class RuleTables:
    """A rule set as the table editor shows it."""

    header: dict[str, Any]
    grades: pl.DataFrame
    behaviours: pl.DataFrame
    suspension: dict[str, Any] | None


def to_tables(text: str) -> RuleTables:
    """Parse TOML text (valid TOML, not necessarily a valid rule set) into tables; raises
    ``tomllib.TOMLDecodeError`` for text that is not TOML."""
    data = tomllib.loads(text)
    header = dict(data.get("ruleset") or {})
    grades = [{k: g.get(k) for k in GRADE_COLUMNS} for g in data.get("grade") or []
              if isinstance(g, dict)]
    behaviours = [{k: b.get(k) for k in BEHAVIOUR_COLUMNS} for b in data.get("behaviour") or []
                  if isinstance(b, dict)]
    for row in behaviours:
        if row["decay"] is None:
            row["decay"] = "step"
        if row["restrict_days"] is not None:  # days or "permanent": text in the table
            row["restrict_days"] = str(row["restrict_days"])
    susp = data.get("expert_suspension")
    return RuleTables(
        header=header,
        grades=pl.DataFrame(grades, schema=GRADE_COLUMNS, strict=False),
        behaviours=pl.DataFrame(behaviours, schema=BEHAVIOUR_COLUMNS, strict=False),
        suspension=dict(susp) if isinstance(susp, dict) else None,
    )


def _value(key: str, value: Any) -> str:
    if key == "restrict_days" and isinstance(value, str) and value.strip().isdigit():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and (key in _INT_KEYS or value.is_integer()):
        return str(int(value)) if math.isfinite(value) else str(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(key, v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _table(name: str, rows: Mapping[str, Any], order: Sequence[str], array: bool) -> str:
    lines = [f"[[{name}]]" if array else f"[{name}]"]
    keys = [k for k in order if k in rows] + [k for k in rows if k not in order]
    for key in keys:
        value = rows[key]
        if _empty(value) or (key == "restricted" and value is False):
            continue
        lines.append(f"{key} = {_value(key, value)}")
    return "\n".join(lines)


def to_toml(tables: RuleTables) -> str:
    """The TOML text of ``tables`` (empty cells are left out)."""
    parts = [_table("ruleset", tables.header, HEADER_KEYS, array=False)]
    parts += [_table("grade", row, list(GRADE_COLUMNS), array=True)
              for row in tables.grades.iter_rows(named=True)]
    for row in tables.behaviours.iter_rows(named=True):
        if all(_empty(v) for v in row.values()):
            continue
        if row.get("decay") == "step":
            row = {**row, "decay": None}
        parts.append(_table("behaviour", row, list(BEHAVIOUR_COLUMNS), array=True))
    if tables.suspension:
        parts.append(_table("expert_suspension", tables.suspension, SUSPENSION_KEYS,
                            array=False))
    return "\n\n".join(parts) + "\n"


def content_key(text: str) -> str:
    """A short key that changes with the text (to start editors afresh)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
