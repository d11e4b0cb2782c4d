"""A slow, obviously-correct reference implementation of docs/semantics.md §4-§8 and §10.

Written from the contract alone, independently of the engine: plain Python,
one day at a time, exact arithmetic with :class:`fractions.Fraction`. Records
are dicts with the canonical columns (dates as :class:`datetime.date`; optional
fields may be missing or ``None``). Rules are a :class:`creditindex.rules.RuleSet`.

External lists (docs/semantics.md, "External lists") are not modelled. Trading
categories are: a restriction has a scope (a set of categories); a question names one
category or none (then any restriction counts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Record = dict[str, Any]


def frac(x: float | int | Fraction) -> Fraction:
    """A number as written in the rule file (``2.5`` -> 5/2, ``0.1`` -> 1/10)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    return Fraction(str(x))


def round2(x: Fraction) -> Fraction:
    """Round half away from zero to 2 decimals, exactly."""
    scaled = x * 100
    sign = -1 if scaled < 0 else 1
    a = abs(scaled)
    n = a.numerator // a.denominator
    if a - n >= Fraction(1, 2):
        n += 1
    return Fraction(sign * n, 100)


def _get(r: Record, key: str) -> Any:
    v = r.get(key)
    return None if v == "" else v


def recorded_on(r: Record) -> dt.date:
    return _get(r, "recorded_on") or r["decided_on"]


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


# ---------------------------------------------------------------------------
# §4.1 and §7: what counts as known on K, and which copy represents an act
# ---------------------------------------------------------------------------


def counted(r: Record, known_on: dt.date) -> bool:
    """The record exists on K and was not revoked by K (it counts on every day)."""
    if recorded_on(r) > known_on:
        return False
    rev = _get(r, "revoked_on")
    return not (rev is not None and rev <= known_on)


def acts(records: Iterable[Record], known_on: dt.date) -> list[Record]:
    """The counted records, one per act: cross-source copies (same subject_id,
    subject_type, behaviour_code, decided_on and a non-empty document_no) are
    represented by the copy recorded first (tie: source, then record_id)."""
    alive = [r for r in records if counted(r, known_on)]
    groups: dict[tuple[Any, ...], list[Record]] = {}
    out: list[Record] = []
    for r in alive:
        doc = _get(r, "document_no")
        if doc is None:
            out.append(r)
            continue
        key = (r["subject_id"], r["subject_type"], r["behaviour_code"], r["decided_on"], doc)
        groups.setdefault(key, []).append(r)
    for copies in groups.values():
        out.append(min(copies, key=lambda c: (recorded_on(c), c["source"], c["record_id"])))
    return out


def effect_end(r: Record, rule: Any, known_on: dt.date) -> dt.date | None:
    """The day a known repair ends the record's effect, or None."""
    rep = _get(r, "repaired_on")
    if rep is None or rep > known_on:
        return None
    mpd = rule.min_publish_days or 0
    return max(rep, r["decided_on"] + _days(mpd))


# ---------------------------------------------------------------------------
# §4.3 repeat factor, §4.2-4.3 deductions
# ---------------------------------------------------------------------------


def repeat_multiplier(r: Record, rule: Any, all_counted: Sequence[Record]) -> Fraction:
    """``repeat_factor`` when an earlier counted record of the same subject, role and
    behaviour was decided 1..repeat_within_days days before ``r``; else 1."""
    if rule.repeat_within_days is None:
        return Fraction(1)
    for o in all_counted:
        if (o["subject_id"] == r["subject_id"] and o["subject_type"] == r["subject_type"]
                and o["behaviour_code"] == r["behaviour_code"]):
            gap = (r["decided_on"] - o["decided_on"]).days
            if 1 <= gap <= rule.repeat_within_days:
                return frac(rule.repeat_factor)
    return Fraction(1)


@dataclass(frozen=True)
class Deduction:
    record: Record
    points: Fraction          # that day's deduction: points x m x w
    full: Fraction            # points x m (no decay)
    decided_on: dt.date
    expires_on: dt.date       # first day without it (repair included)


def ref_deductions(records: Sequence[Record], rules: Any, subject_id: str,
                   subject_type: str, day: dt.date,
                   known_on: dt.date | None = None) -> list[Deduction]:
    """Every deduction of (subject_id, subject_type) counted on ``day`` known on ``known_on``."""
    k = day if known_on is None else known_on
    by_code = {b.code: b for b in rules.behaviour}
    alive = [r for r in records if counted(r, k)]
    out: list[Deduction] = []
    for r in acts(records, k):
        if r["subject_id"] != subject_id or r["subject_type"] != subject_type:
            continue
        rule = by_code[r["behaviour_code"]]
        d0 = r["decided_on"]
        end = d0 + _days(rule.days)
        rep_end = effect_end(r, rule, k)
        if rep_end is not None:
            end = min(end, rep_end)
        if not (d0 <= day < end):
            continue
        m = repeat_multiplier(r, rule, alive)
        full = frac(rule.points) * m
        linear = rule.decay == "linear"
        w = 1 - Fraction((day - d0).days, rule.days) if linear else Fraction(1)
        out.append(Deduction(r, full * w, full, d0, end))
    return out


def ref_deducted(records: Sequence[Record], rules: Any, subject_id: str, subject_type: str,
                 day: dt.date, known_on: dt.date | None = None) -> Fraction:
    """The exact sum of deductions (before the floor)."""
    return sum((d.points for d in ref_deductions(records, rules, subject_id, subject_type,
                                                 day, known_on)), Fraction(0))


def ref_index_exact(records: Sequence[Record], rules: Any, subject_id: str,
                    subject_type: str, day: dt.date,
                    known_on: dt.date | None = None) -> Fraction:
    base = frac(rules.ruleset.base)
    floor = frac(rules.ruleset.floor)
    return max(floor, base - ref_deducted(records, rules, subject_id, subject_type, day,
                                          known_on))


def ref_index(records: Sequence[Record], rules: Any, subject_id: str, subject_type: str,
              day: dt.date, known_on: dt.date | None = None) -> Fraction:
    """The rounded index (2 decimals, half away from zero), as an exact Fraction."""
    return round2(ref_index_exact(records, rules, subject_id, subject_type, day, known_on))


def grade_of(rules: Any, index: Fraction) -> Any:
    for g in rules.grade:
        if frac(g.min) <= index:
            return g
    return rules.grade[-1]


def ref_grade(records: Sequence[Record], rules: Any, subject_id: str, subject_type: str,
              day: dt.date, known_on: dt.date | None = None) -> str:
    return grade_of(rules, ref_index(records, rules, subject_id, subject_type, day,
                                     known_on)).name


# ---------------------------------------------------------------------------
# §4.7 restriction
# ---------------------------------------------------------------------------


def roles_of(records: Iterable[Record], subject_id: str) -> set[str]:
    return {r["subject_type"] for r in records if r["subject_id"] == subject_id}


CATEGORIES = ("engineering", "procurement", "land", "property", "other")
PERMANENT = dt.date(9999, 12, 31)


def bar_scope(r: Record, rule: Any) -> set[str]:
    """The categories a record's bar covers: the decision's scope, else the behaviour's,
    else all."""
    stated = _get(r, "restrict_scope")
    if stated:
        parts = {p.strip().lower() for p in str(stated).split("|")}
    elif rule.restrict_scope is not None:
        parts = {str(p) for p in rule.restrict_scope}
    else:
        return set(CATEGORIES)
    return set(CATEGORIES) if "all" in parts else parts


def behaviour_bars(records: Sequence[Record], rules: Any, subject_id: str, day: dt.date,
                   known_on: dt.date) -> set[str]:
    """The categories barred on ``day`` by the subject's records (any role)."""
    by_code = {b.code: b for b in rules.behaviour}
    out: set[str] = set()
    for r in acts(records, known_on):
        if r["subject_id"] != subject_id:
            continue
        rule = by_code[r["behaviour_code"]]
        until = _get(r, "restrict_until")
        if until is None and rule.restrict_days is None:
            continue
        d0 = r["decided_on"]
        end: dt.date | None
        if until is not None:
            end = None if until == PERMANENT else until + _days(1)
        elif rule.restrict_days == "permanent":
            end = None
        else:
            end = d0 + _days(rule.restrict_days)
        rep_end = effect_end(r, rule, known_on)
        if rep_end is not None:
            end = rep_end if end is None else min(end, rep_end)
        if d0 <= day and (end is None or day < end):
            out |= bar_scope(r, rule)
    return out


def behaviour_restricted(records: Sequence[Record], rules: Any, subject_id: str,
                         day: dt.date, known_on: dt.date, category: str | None = None
                         ) -> bool:
    bars = behaviour_bars(records, rules, subject_id, day, known_on)
    return bool(bars) if category is None else category in bars


def suspensions(records: Sequence[Record], rules: Any, subject_id: str,
                known_on: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Expert suspensions [start, end) known on K."""
    s = rules.expert_suspension
    if s is None:
        return []
    by_code = {b.code: b for b in rules.behaviour}
    alive = [r for r in records if counted(r, known_on)]
    mine = [r for r in acts(records, known_on)
            if r["subject_id"] == subject_id and r["subject_type"] == "expert"]
    weight = {}
    for i, r in enumerate(mine):
        rule = by_code[r["behaviour_code"]]
        weight[i] = frac(rule.points) * repeat_multiplier(r, rule, alive)
    out = []
    for i, r in enumerate(mine):
        d = r["decided_on"]
        total = sum((weight[j] for j, o in enumerate(mine)
                     if d - _days(s.window_days) < o["decided_on"] <= d), Fraction(0))
        if weight[i] >= frac(s.single_points) or total >= frac(s.total_points):
            out.append((d, d + _days(s.suspend_days)))
    return out


def ref_suspended(records: Sequence[Record], rules: Any, subject_id: str, day: dt.date,
                  known_on: dt.date | None = None) -> bool:
    k = day if known_on is None else known_on
    return any(a <= day < b for a, b in suspensions(records, rules, subject_id, k))


def ref_restricted_in(records: Sequence[Record], rules: Any, subject_id: str,
                      day: dt.date, known_on: dt.date | None = None) -> list[str]:
    """Every category restricted on ``day``, in the fixed order."""
    k = day if known_on is None else known_on
    everywhere = ref_suspended(records, rules, subject_id, day, k) or any(
        grade_of(rules, ref_index(records, rules, subject_id, role, day, k)).restricted
        for role in roles_of(records, subject_id))
    if everywhere:
        return list(CATEGORIES)
    bars = behaviour_bars(records, rules, subject_id, day, k)
    return [c for c in CATEGORIES if c in bars]


def ref_restricted(records: Sequence[Record], rules: Any, subject_id: str, day: dt.date,
                   known_on: dt.date | None = None, category: str | None = None) -> bool:
    """Restricted on ``day`` in every role for a question naming ``category`` (none: any):
    a behaviour's bar within its scope, a restricted grade in any role, or an expert
    suspension (external lists are not modelled)."""
    k = day if known_on is None else known_on
    if behaviour_restricted(records, rules, subject_id, day, k, category):
        return True
    for role in roles_of(records, subject_id):
        g = grade_of(rules, ref_index(records, rules, subject_id, role, day, k))
        if g.restricted:
            return True
    return ref_suspended(records, rules, subject_id, day, k)


# ---------------------------------------------------------------------------
# §4.6 rank, §4.8 consortium, compute / check / history as tables of dicts
# ---------------------------------------------------------------------------


def competition_ranks(values: Sequence[Fraction]) -> list[int]:
    """Rank by value descending; equal values share the best rank (1, 1, 3)."""
    return [1 + sum(1 for o in values if o > v) for v in values]


def ref_compute(records: Sequence[Record], rules: Any, day: dt.date,
                known_on: dt.date | None = None, category: str | None = None
                ) -> dict[tuple[str, str], dict[str, Any]]:
    """(subject_id, subject_type) -> {index, grade, watch, rank, deducted, restricted,
    restricted_in}."""
    pairs = sorted({(r["subject_id"], r["subject_type"]) for r in records})
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for sid, st in pairs:
        idx = ref_index(records, rules, sid, st, day, known_on)
        out[(sid, st)] = {
            "index": idx,
            "grade": grade_of(rules, idx).name,
            "watch": grade_of(rules, idx).watch or "",
            "deducted": ref_deducted(records, rules, sid, st, day, known_on),
            "restricted": ref_restricted(records, rules, sid, day, known_on, category),
            "restricted_in": "|".join(ref_restricted_in(records, rules, sid, day, known_on)),
        }
    for st in {st for _, st in pairs}:
        keys = [p for p in pairs if p[1] == st]
        ranks = competition_ranks([out[p]["index"] for p in keys])
        for p, rank in zip(keys, ranks, strict=True):
            out[p]["rank"] = rank
    return out


def ref_check_index(records: Sequence[Record], rules: Any, subject_id: str, day: dt.date,
                    subject_type: str | None = None,
                    known_on: dt.date | None = None) -> Fraction:
    """check's index: the role named, else the lowest over the subject's roles
    (full marks without records)."""
    if subject_type is not None:
        return ref_index(records, rules, subject_id, subject_type, day, known_on)
    roles = roles_of(records, subject_id)
    if not roles:
        return round2(frac(rules.ruleset.base))
    return min(ref_index(records, rules, subject_id, st, day, known_on) for st in roles)


def ref_consortium(records: Sequence[Record], rules: Any, members: Sequence[str],
                   day: dt.date, subject_type: str | None = None,
                   known_on: dt.date | None = None) -> tuple[bool, Fraction]:
    """(restricted, index) of a consortium: restricted when any member is; lowest index."""
    restricted = any(ref_restricted(records, rules, m, day, known_on) for m in members)
    index = min(ref_check_index(records, rules, m, day, subject_type, known_on)
                for m in members)
    return restricted, index


def ref_history(records: Sequence[Record], rules: Any, subject_id: str, subject_type: str,
                start: dt.date, end: dt.date,
                known_on: dt.date | None = None) -> list[tuple[dt.date, Fraction, str, bool]]:
    """(date, index, grade, restricted) per day; each day known on that day unless K is given."""
    out = []
    d = start
    while d <= end:
        idx = ref_index(records, rules, subject_id, subject_type, d, known_on)
        out.append((d, idx, grade_of(rules, idx).name,
                    ref_restricted(records, rules, subject_id, d, known_on)))
        d += _days(1)
    return out


# ---------------------------------------------------------------------------
# §1 identifiers, written from the contract, and valid ids for tests
# ---------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def ref_uscc_ok(code: str) -> bool:
    c = code.upper()
    if len(c) != 18 or any(ch not in USCC_ALPHABET for ch in c):
        return False
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(c[:17], USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31] == c[17]


def ref_rid_ok(number: str) -> bool:
    n = number.upper()
    if len(n) != 18 or not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        return False
    try:
        dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return False
    total = sum(int(ch) * w for ch, w in zip(n[:17], RID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == n[17]


def make_uscc(n: int) -> str:
    """A valid USCC numbered ``n`` (the check character completed)."""
    first = f"91440101MA{n:07d}"
    for ch in USCC_ALPHABET:
        if ref_uscc_ok(first + ch):
            return first + ch
    raise AssertionError("unreachable")


def make_rid(n: int, birth: str = "19800101") -> str:
    """A valid resident ID numbered ``n`` (the check character completed)."""
    first = f"440106{birth}{n:03d}"
    for ch in "0123456789X":
        if ref_rid_ok(first + ch):
            return first + ch
    raise AssertionError("unreachable")
