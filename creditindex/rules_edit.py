"""Working with rule sets as data: the catalogue as a table, a rule set written back to
TOML, and validated variants (what regulators tune before publishing)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from creditindex.rules import RuleSet, parse_rules

_BEHAVIOUR_KEYS = ("code", "name", "name_en", "subject_types", "points", "days",
                   "restrict_days", "basis", "restrict_min_days", "restrict_max_days",
                   "restrict_scope", "repeat_within_days", "repeat_factor", "decay",
                   "min_publish_days")


def catalogue_frame(rules: RuleSet) -> pl.DataFrame:
    """The behaviour catalogue as a table, one row per behaviour: subject types joined by
    ``,``, the scope by ``|`` (as in records), ``restrict_days`` as text (days or
    ``permanent``)."""
    rows = [{k: getattr(b, k) for k in _BEHAVIOUR_KEYS} for b in rules.behaviour]
    for r in rows:
        r["subject_types"] = ",".join(r["subject_types"])
        r["points"] = float(r["points"])
        r["repeat_factor"] = None if r["repeat_factor"] is None else float(r["repeat_factor"])
        r["restrict_days"] = None if r["restrict_days"] is None else str(r["restrict_days"])
        scope = r["restrict_scope"]
        r["restrict_scope"] = None if scope is None else "|".join(scope)
    return pl.DataFrame(rows, schema={
        "code": pl.String, "name": pl.String, "name_en": pl.String,
        "subject_types": pl.String, "points": pl.Float64, "days": pl.Int64,
        "restrict_days": pl.String, "basis": pl.String, "restrict_min_days": pl.Int64,
        "restrict_max_days": pl.Int64, "restrict_scope": pl.String,
        "repeat_within_days": pl.Int64, "repeat_factor": pl.Float64, "decay": pl.String,
        "min_publish_days": pl.Int64})


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _table(header: str, values: dict[str, Any]) -> list[str]:
    lines = [header]
    lines += [f"{k} = {_value(v)}" for k, v in values.items() if v is not None]
    return [*lines, ""]


def _render(rules: RuleSet, behaviours: list[dict[str, Any]]) -> str:
    lines = _table("[ruleset]", rules.ruleset.model_dump())
    for g in rules.grade:
        values = g.model_dump()
        if not values.get("restricted"):
            values.pop("restricted", None)
        lines += _table("[[grade]]", values)
    for values in behaviours:
        lines += _table("[[behaviour]]", {k: v for k, v in values.items()
                                          if not (k == "decay" and v == "step")})
    if rules.expert_suspension is not None:
        lines += _table("[expert_suspension]", rules.expert_suspension.model_dump())
    return "\n".join(lines)


def to_toml(rules: RuleSet) -> str:
    """The rule set as TOML text that :func:`creditindex.rules.parse_rules` reads back."""
    return _render(rules, [b.model_dump() for b in rules.behaviour])


def from_catalogue(rules: RuleSet, catalogue: pl.DataFrame, file: str = "<draft>") -> RuleSet:
    """A rule set with ``rules``' header, grades and suspension and the behaviours of an
    edited catalogue table; validated like a file (raises ``InputError`` naming entries)."""
    behaviours = []
    for row in catalogue.iter_rows(named=True):
        entry = {k: row.get(k) for k in _BEHAVIOUR_KEYS}
        types = entry["subject_types"]
        entry["subject_types"] = [t.strip() for t in str(types or "").split(",") if t.strip()]
        for k in ("days", "restrict_days", "restrict_min_days", "restrict_max_days",
                  "repeat_within_days", "min_publish_days"):
            number = entry[k]
            if (isinstance(number, float) and number.is_integer()) or \
                    (isinstance(number, str) and number.strip().lstrip("-").isdigit()):
                entry[k] = int(number)
        scope = entry["restrict_scope"]
        if isinstance(scope, str):
            entry["restrict_scope"] = [c.strip() for c in scope.split("|") if c.strip()] or None
        behaviours.append({k: v for k, v in entry.items() if v is not None and v != ""})
    return parse_rules(_render(rules, behaviours), file)


def with_behaviour(rules: RuleSet, code: str, **changes: Any) -> RuleSet:
    """A validated variant of ``rules`` with one behaviour's values changed (e.g.
    ``points=30, days=730``); its content hash is that of the variant's TOML."""
    catalogue = catalogue_frame(rules)
    if code not in catalogue.get_column("code").to_list():
        raise KeyError(f"no behaviour {code!r} in rule set {rules.ruleset.name}")
    edited = catalogue.with_columns(
        pl.when(pl.col("code") == code).then(pl.lit(v)).otherwise(pl.col(k)).alias(k)
        for k, v in changes.items())
    return from_catalogue(rules, edited, f"<{rules.ruleset.name} with {code} changed>")
