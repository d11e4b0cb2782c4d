"""The rule-set schema (docs/semantics.md §3) as pydantic models: what
:func:`creditindex.rules.parse_rules` validates a rule set's TOML with, and how it words
what it refuses. Imported only to validate: a rule set already validated by this code is
read back from its canonical form without pydantic (:mod:`creditindex.rules`)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from creditindex.errors import Reason
from creditindex.rules import MAX_DAYS, PERMANENT, SubjectType, _a, _toml_type

__all__ = ["RuleSetModel", "ValidationError", "entry_name", "reason"]


def _number(value: Any) -> Any:
    """Accept a finite TOML integer or float (not a boolean, not a string) as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {_a(_toml_type(value))} ({value!r})")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value!r}")
    return value


# An integer or float (kept as written); one clear message for any other type.
Points = Annotated[int | float, BeforeValidator(_number)]
PositivePoints = Annotated[int | float, BeforeValidator(_number), Field(gt=0)]
# Every day count of a rule set: at least 1, at most MAX_DAYS (100 years; also keeps the
# engine's integer days far from overflow).
PositiveInt = Annotated[int, Field(gt=0, le=MAX_DAYS)]
Category = Literal["engineering", "procurement", "land", "property", "other", "all"]


def _restrict_days(value: Any) -> Any:
    """Accept a positive whole number of days or ``"permanent"``, with one clear message
    for anything else (rather than one per member of the union)."""
    if value == PERMANENT:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Input should be a valid integer (days) or \"{PERMANENT}\", "
                         f"not {_a(_toml_type(value))} ({value!r})")
    if value <= 0:
        raise ValueError(f"Input should be greater than 0 (got {value!r})")
    if value > MAX_DAYS:
        raise ValueError(f"Input should be less than or equal to {MAX_DAYS} (got {value!r})")
    return value


# A bar's default period: days, or "permanent" (no end).
RestrictDays = Annotated[PositiveInt | Literal["permanent"], BeforeValidator(_restrict_days)]


def _basis_text(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class RulesetHeader(_Strict):
    """The ``[ruleset]`` table: identity and scale."""

    name: str
    version: str
    base: Points = 100
    floor: Points = 0
    description: str | None = None
    effective_from: str | None = None

    @model_validator(mode="after")
    def _floor_below_base(self) -> RulesetHeader:
        if self.floor >= self.base:
            raise ValueError(f"floor ({self.floor}) must be below base ({self.base})")
        return self


class Grade(_Strict):
    """One ``[[grade]]``: a subject takes the first grade whose ``min`` it reaches."""

    name: str = Field(min_length=1)
    min: Points
    restricted: bool = False
    basis: str | None = None
    watch: str | None = None
    name_en: str | None = None

    @model_validator(mode="after")
    def _restricted_needs_basis(self) -> Grade:
        _basis_text(self.basis)
        if self.restricted and self.basis is None:
            raise ValueError("a restricted grade needs a basis naming the provision that "
                             "allows barring by grade")
        return self


class Behaviour(_Strict):
    """One ``[[behaviour]]`` of the deduction catalogue."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    name_en: str | None = None
    subject_types: list[SubjectType] = Field(min_length=1)
    points: PositivePoints
    days: PositiveInt
    restrict_days: RestrictDays | None = None
    basis: str | None = None
    restrict_min_days: PositiveInt | None = None
    restrict_max_days: PositiveInt | None = None
    restrict_scope: list[Category] | None = None
    repeat_within_days: PositiveInt | None = None
    repeat_factor: PositivePoints | None = None
    decay: Literal["step", "linear"] = "step"
    min_publish_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] | None = None

    @field_validator("code", "name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _repeat_pair(self) -> Behaviour:
        if (self.repeat_within_days is None) != (self.repeat_factor is None):
            raise ValueError("repeat_within_days and repeat_factor go together")
        return self

    @model_validator(mode="after")
    def _lawful_bar(self) -> Behaviour:
        _basis_text(self.basis)
        if self.restrict_days is not None and self.basis is None:
            raise ValueError("restrict_days needs a basis naming the legal provision")
        lo, hi = self.restrict_min_days, self.restrict_max_days
        if (lo is None) != (hi is None):
            raise ValueError("restrict_min_days and restrict_max_days go together")
        if lo is not None and hi is not None:
            if lo > hi:
                raise ValueError(f"restrict_min_days ({lo}) is above restrict_max_days ({hi})")
            rd = self.restrict_days
            if isinstance(rd, int) and not lo <= rd <= hi:
                raise ValueError(f"restrict_days ({rd}) is outside the statutory range "
                                 f"{lo}-{hi} days")
        if self.restrict_scope is not None and not self.restrict_scope:
            raise ValueError("restrict_scope must name at least one category")
        return self


class ExpertSuspension(_Strict):
    """``[expert_suspension]``: thresholds that suspend an expert from being drawn."""

    window_days: PositiveInt
    single_points: PositivePoints
    total_points: PositivePoints
    suspend_days: PositiveInt
    basis: str

    @field_validator("basis")
    @classmethod
    def _basis(cls, value: str) -> str:
        return _basis_text(value) or value


class RuleSetModel(_Strict):
    """A whole rule set, as validated (:func:`creditindex.rules.parse_rules` makes the
    plain :class:`creditindex.rules.RuleSet` of it)."""

    ruleset: RulesetHeader
    grade: list[Grade] = Field(min_length=1)
    behaviour: list[Behaviour] = Field(min_length=1)
    expert_suspension: ExpertSuspension | None = None
    content_hash: str = Field(default="", exclude=True)  # accepted, then set by parse_rules


_ARRAY_TABLES = ("grade", "behaviour")
_TABLES = ("ruleset", "expert_suspension")


def _entry_label(item: object) -> str:
    """The code (or else the name) that identifies an array-table entry, if it has one."""
    if isinstance(item, dict):
        for key in ("code", "name"):
            label = item.get(key)
            if isinstance(label, str) and label.strip():
                return f" {label}"
    return ""


def entry_name(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    """Name a rule entry the way a regulator reads the file: ``behaviour[3] BID-FRAUD.points``.

    Array-table entries and list items are numbered from 1 (``subject_types[2]``);
    tables are written as in the file (``[ruleset].floor``, ``[[grade]]``).
    """
    if not loc:
        return "rule set"
    head = str(loc[0])
    if len(loc) >= 2 and isinstance(loc[1], int):
        items = data.get(head)
        name = f"{head}[{loc[1] + 1}]"
        if isinstance(items, list) and 0 <= loc[1] < len(items):
            name += _entry_label(items[loc[1]])
        rest = loc[2:]
    else:
        if head in _ARRAY_TABLES:
            name = f"[[{head}]]"
        elif head in _TABLES or isinstance(data.get(head), dict):
            name = f"[{head}]"
        else:
            name = head
        rest = loc[1:]
    for part in rest:
        name += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return name


def reason(err: Any) -> str:
    kind = err["type"]
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        if len(loc) == 1 and loc[0] in _ARRAY_TABLES:
            return f"missing key: a rule set needs at least one [[{loc[0]}]]"
        return "missing key"
    given = err.get("input")
    if kind == "too_short" and len(loc) == 1 and loc[0] in _ARRAY_TABLES:
        return f"a rule set needs at least one [[{loc[0]}]]"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", "")).replace("'", "")
        what = ("subject type" if "subject_types" in loc
                else "category" if "restrict_scope" in loc else f"{loc[-1]}")
        return f"unknown {what} {given!r} (expected {expected})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a table, not {_a(_toml_type(given))} ({given!r})"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "int_from_float":
        msg += f", not {_a(_toml_type(given))} ({given!r})"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        msg += f" (got {given!r})"
        bound = err.get("ctx", {})
        if kind == "greater_than":
            return Reason(msg, "problem.greater_than", n=bound.get("gt"), actual=repr(given))
        if kind == "greater_than_equal":
            return Reason(msg, "problem.at_least", n=bound.get("ge"), actual=repr(given))
    return msg


