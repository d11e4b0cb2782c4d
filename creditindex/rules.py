"""Rule sets (docs/semantics.md §3): the TOML format regulators edit, its schema and its checks.

A rule set is refused with every problem named by file, entry and reason. It is validated
by the pydantic models of :mod:`creditindex.rules_schema`; what the engine reads is the
plain, frozen :class:`RuleSet` made of the validated values. A text this code has
validated once is kept in its canonical form (the validated values as JSON), keyed by the
text's hash and this code's own (:func:`canonical_cache`), and read back from it without
pydantic or TOML: a short command (``creditindex check --db``) then starts without them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from creditindex.errors import InputError, Problem

SUBJECT_TYPES: tuple[str, ...] = ("bidder", "agent", "tenderer", "expert")
SubjectType = Literal["bidder", "agent", "tenderer", "expert"]
DEFAULT_RULES = Path(__file__).resolve().parent.parent / "scoring_rules" / "default.toml"


def _toml_type(value: object) -> str:
    """The TOML name of a parsed value's type, for error messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, dt.datetime):
        return "date-time"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return type(value).__name__


def _a(noun: str) -> str:
    """``noun`` with its indefinite article."""
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


# Every day count of a rule set is at least 1, at most MAX_DAYS (100 years; also keeps the
# engine's integer days far from overflow).
MAX_DAYS = 36_500
PERMANENT = "permanent"


class _Plain:
    """What the plain rule-set classes share: pydantic's ``model_dump`` and
    ``model_copy`` (the validated models' names, kept for their callers)."""

    def model_dump(self, exclude: set[str] | None = None) -> dict[str, Any]:
        """The values as plain data, nested entries as dicts (``content_hash`` left out,
        as the validated model leaves it out)."""
        return {f.name: _dumped(getattr(self, f.name))
                for f in dataclasses.fields(self)  # type: ignore[arg-type]
                if f.name != "content_hash" and f.name not in (exclude or set())}

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        """A copy with ``update``'s values (not validated, as pydantic's)."""
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]


def _dumped(value: Any) -> Any:
    if isinstance(value, _Plain):
        return value.model_dump()
    if isinstance(value, list):
        return [_dumped(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class RulesetHeader(_Plain):
    """The ``[ruleset]`` table: identity and scale."""

    name: str
    version: str
    base: int | float = 100
    floor: int | float = 0
    description: str | None = None
    effective_from: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Grade(_Plain):
    """One ``[[grade]]``: a subject takes the first grade whose ``min`` it reaches."""

    name: str
    min: int | float
    restricted: bool = False
    basis: str | None = None
    watch: str | None = None
    name_en: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Behaviour(_Plain):
    """One ``[[behaviour]]`` of the deduction catalogue."""

    code: str
    name: str
    name_en: str | None = None
    subject_types: list[SubjectType]
    points: int | float
    days: int
    restrict_days: int | Literal["permanent"] | None = None
    basis: str | None = None
    restrict_min_days: int | None = None
    restrict_max_days: int | None = None
    restrict_scope: list[str] | None = None
    repeat_within_days: int | None = None
    repeat_factor: int | float | None = None
    decay: Literal["step", "linear"] = "step"
    min_publish_days: int | None = None

    @property
    def restricts(self) -> bool:
        """Whether the behaviour bars at all (a default period, permanent or in days)."""
        return self.restrict_days is not None

    @property
    def permanent(self) -> bool:
        """Whether the default bar has no end."""
        return self.restrict_days == PERMANENT

    def scope_mask(self) -> int:
        """The behaviour's default scope as a category mask (every category when unset)."""
        from creditindex.categories import ALL, scope_mask

        return ALL if self.restrict_scope is None else scope_mask(self.restrict_scope)

@dataclasses.dataclass(frozen=True, kw_only=True)
class ExpertSuspension(_Plain):
    """``[expert_suspension]``: thresholds that suspend an expert from being drawn."""

    window_days: int
    single_points: int | float
    total_points: int | float
    suspend_days: int
    basis: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RuleSet(_Plain):
    """A whole rule set. Build it with :func:`load_rules` or :func:`parse_rules`."""

    ruleset: RulesetHeader
    grade: list[Grade]
    behaviour: list[Behaviour]
    expert_suspension: ExpertSuspension | None = None
    content_hash: str = ""

    @property
    def base(self) -> float:
        """Full marks."""
        return float(self.ruleset.base)

    @property
    def floor(self) -> float:
        """The lowest possible index."""
        return float(self.ruleset.floor)

    def behaviour_by_code(self) -> dict[str, Behaviour]:
        """The catalogue keyed by behaviour code."""
        return {b.code: b for b in self.behaviour}

    def grade_of(self, index: float) -> Grade:
        """The first grade whose ``min`` the (rounded) index reaches."""
        for g in self.grade:
            if index >= g.min:
                return g
        return self.grade[-1]


def from_canonical(values: dict[str, Any], digest: str) -> RuleSet:
    """The rule set of validated values (``model_dump`` of the validated model, or its
    canonical JSON read back) named ``digest``."""
    suspension = values.get("expert_suspension")
    return RuleSet(ruleset=RulesetHeader(**values["ruleset"]),
                   grade=[Grade(**g) for g in values["grade"]],
                   behaviour=[Behaviour(**b) for b in values["behaviour"]],
                   expert_suspension=None if suspension is None
                   else ExpertSuspension(**suspension),
                   content_hash=digest)


def _cross_checks(rs: RuleSet) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, b in enumerate(rs.behaviour, start=1):
        if b.code in seen:
            found.append((f"behaviour[{i}] {b.code}.code",
                          f"duplicate code (first at behaviour[{seen[b.code]}])"))
        else:
            seen[b.code] = i
    for i in range(1, len(rs.grade)):
        if not rs.grade[i].min < rs.grade[i - 1].min:
            found.append((f"grade[{i + 1}] {rs.grade[i].name}.min",
                          f"grades must be strictly descending by min ({rs.grade[i].min} "
                          f"is not below grade[{i}] {rs.grade[i - 1].name}'s "
                          f"{rs.grade[i - 1].min})"))
    if not any(g.min <= rs.ruleset.floor for g in rs.grade):
        found.append(("[[grade]]", f"no grade has min <= floor ({rs.ruleset.floor}): "
                                   "an index at the floor would have no grade"))
    first_grade: dict[str, int] = {}
    for i, g in enumerate(rs.grade, start=1):
        if g.min > rs.ruleset.base:
            found.append((f"grade[{i}] {g.name}.min",
                          f"min {g.min} is above base {rs.ruleset.base}: no index can "
                          "reach this grade"))
        if g.name in first_grade:
            found.append((f"grade[{i}] {g.name}.name",
                          f"duplicate grade name (first at grade[{first_grade[g.name]}])"))
        else:
            first_grade[g.name] = i
    return found


def content_hash(text: str) -> str:
    """The content hash that names a rule set version (sha256 of its text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


CODE_FILES = ("rules.py", "rules_schema.py")  # the code that decides what a text means


def canonical_cache() -> Path | None:
    """Where validated rule sets are kept in canonical form: ``CREDITINDEX_RULES_CACHE``
    (empty: nowhere), else ``var/cache/rules`` under the project folder; one file per
    text and version of this code, ``<sha256 of the text>-<sha256 of CODE_FILES>.json``."""
    where = os.environ.get("CREDITINDEX_RULES_CACHE")
    if where is not None:
        return Path(where) if where.strip() else None
    from creditindex.store.location import project_root

    return project_root() / "var" / "cache" / "rules"


def _code_hash() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in CODE_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def _canonical_path(digest: str) -> Path | None:
    folder = canonical_cache()
    return None if folder is None else folder / f"{digest}-{_code_hash()[:32]}.json"


def _read_canonical(digest: str) -> RuleSet | None:
    """The rule set of text ``digest`` as this code validated it, if it has."""
    path = _canonical_path(digest)
    if path is None:
        return None
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("content_hash") != digest:
        return None
    return from_canonical(kept["values"], digest)


def _keep_canonical(digest: str, values: dict[str, Any]) -> None:
    """Keep a validated rule set's values (best effort: an unwritable folder keeps none)."""
    path = _canonical_path(digest)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.part")
        part.write_text(json.dumps({"content_hash": digest, "values": values},
                                   ensure_ascii=False), encoding="utf-8")
        os.replace(part, path)
    except OSError:
        return


def parse_rules(text: str, file: str = "<rules>") -> RuleSet:
    """Parse and validate rule-set TOML text; raise :class:`InputError` listing every
    problem. A text this code validated before is read from its canonical form."""
    digest = content_hash(text)
    kept = _read_canonical(digest)
    if kept is not None:
        return kept
    import tomllib

    from creditindex.rules_schema import RuleSetModel, ValidationError, entry_name, reason

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.one(file, f"not valid TOML: {exc}") from exc
    for table in ("grade", "behaviour"):
        if table in data and not isinstance(data[table], list):
            raise InputError.one(file, f"must be an array of tables ([[{table}]])",
                                 column=f"[{table}]")
    try:
        model = RuleSetModel.model_validate(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(
            Problem(file, None, entry_name(tuple(e["loc"]), data), reason(e))
            for e in exc.errors()
        ))
        raise InputError(problems) from exc
    values = model.model_dump()
    rs = from_canonical(values, digest)
    problems = [Problem(file, None, entry, why) for entry, why in _cross_checks(rs)]
    if problems:
        raise InputError(problems)
    _keep_canonical(digest, values)
    return rs


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load a rule set file (the project's default when ``path`` is ``None``)."""
    p = Path(path) if path is not None else DEFAULT_RULES
    from creditindex.limits import current, env_name

    limit = current().max_config_bytes
    if p.is_file() and p.stat().st_size > limit:
        raise InputError.one(str(p), f"a rule set of {p.stat().st_size:,} bytes exceeds the "
                                     f"limit of {limit:,} (set {env_name('max_config_bytes')})")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError.one(str(p), f"cannot read rule set: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError.one(str(p), "a rule set must be UTF-8 text (TOML); this file is "
                                     f"not (undecodable byte at offset {exc.start})") from exc
    if "\x00" in text:
        raise InputError.one(str(p), "this is a binary file, not a rule set (TOML text)")
    return parse_rules(text, str(p))
