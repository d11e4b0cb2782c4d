"""Rule sets (docs/semantics.md §3, §3.1): the shipped files, and every refusal case.

Each refusal test builds a small TOML rule set, checks that it is refused with
an :class:`InputError`, and that the problem names the file, the entry (e.g.
``behaviour[2] X-TWO.points``) and a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from creditindex.errors import InputError, Problem
from creditindex.rules import (
    DEFAULT_RULES,
    SUBJECT_TYPES,
    RuleSet,
    content_hash,
    load_rules,
    parse_rules,
)

RULES_DIR = DEFAULT_RULES.parent
STRICT_DRAFT = RULES_DIR / "strict-draft.toml"
FILE = "draft-rules.toml"

HEADER = """\
[ruleset]
name = "t"
version = "1"
base = 100
floor = 0
"""

GRADES = """\
[[grade]]
name = "A"
min = 90
[[grade]]
name = "B"
min = 75
[[grade]]
name = "C"
min = 60
watch = "关注"
[[grade]]
name = "D"
min = 0
watch = "重点关注"
"""

# A grade D that bars by grade, as a rule set may only have it: with a basis.
RESTRICTED_D = """\
[[grade]]
name = "D"
min = 0
restricted = true
basis = "某省社会信用条例第三十条"
"""

SUSPENSION = """\
[expert_suspension]
window_days = 365
single_points = 15
total_points = 25
suspend_days = 180
basis = "青海省评标专家管理办法"
"""

_DEFAULT_FIELDS = {
    "code": '"X-TWO"',
    "name": '"测试行为"',
    "subject_types": '["bidder"]',
    "points": "5",
    "days": "30",
}


def behaviour(**fields: str | None) -> str:
    """One ``[[behaviour]]`` with raw TOML values; a field set to ``None`` is left out."""
    values: dict[str, str | None] = {**_DEFAULT_FIELDS, **fields}
    lines = [f"{key} = {raw}" for key, raw in values.items() if raw is not None]
    return "[[behaviour]]\n" + "\n".join(lines) + "\n"


FIRST = behaviour(code='"OK-ONE"', name='"正常行为"')


def rules_text(*behaviours: str, top: str = "", header: str = HEADER, grades: str = GRADES,
               tail: str = "") -> str:
    """A whole rule set: one valid behaviour first, then ``behaviours``."""
    return top + header + grades + FIRST + "".join(behaviours) + tail


def refused(text: str) -> list[Problem]:
    """The problems of a refused rule set; each must name the file."""
    with pytest.raises(InputError) as info:
        parse_rules(text, FILE)
    problems = info.value.problems
    assert problems
    for p in problems:
        assert p.file == FILE
        assert p.reason
        assert str(p).startswith(f"{FILE}: ")
    return problems


def refused_once(text: str, entry: str, *reason_parts: str) -> Problem:
    """Exactly one problem, at ``entry``, whose reason contains every part."""
    problems = refused(text)
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.column == entry, p
    for part in reason_parts:
        assert part in p.reason, p
    assert entry in str(p)
    return p


# --------------------------------------------------------------------------
# The shipped rule sets
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def draft() -> RuleSet:
    return load_rules(STRICT_DRAFT)


def test_default_loads(default: RuleSet) -> None:
    assert default.ruleset.name == "default"
    assert default.base == 100
    assert default.floor == 0
    assert default.content_hash == content_hash(DEFAULT_RULES.read_text(encoding="utf-8"))


def test_default_loads_via_explicit_path(default: RuleSet) -> None:
    assert load_rules(DEFAULT_RULES) == default


def test_strict_draft_loads(draft: RuleSet, default: RuleSet) -> None:
    assert draft.ruleset.name != default.ruleset.name
    assert draft.content_hash != default.content_hash


def test_default_has_a_full_catalogue(default: RuleSet) -> None:
    assert len(default.behaviour) >= 40


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
def test_every_subject_type_has_five_behaviours(default: RuleSet, subject_type: str) -> None:
    covering = [b for b in default.behaviour if subject_type in b.subject_types]
    assert len(covering) >= 5


def test_every_behaviour_has_chinese_and_english_names(default: RuleSet,
                                                       draft: RuleSet) -> None:
    for rs in (default, draft):
        for b in rs.behaviour:
            assert re.search(r"[\u4e00-\u9fff]", b.name), b.code
            assert b.name_en, b.code
            assert b.name_en.isascii() and re.search(r"[A-Za-z]", b.name_en), b.code


def test_codes_are_upper_kebab_ascii(default: RuleSet) -> None:
    for b in default.behaviour:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*", b.code), b.code


def test_default_grades_and_suspension(default: RuleSet) -> None:
    # grades only watch: a low grade bars nothing (国办发〔2020〕49号, 发改办财金〔2023〕860号)
    assert [(g.name, g.min, g.restricted, g.watch) for g in default.grade] == [
        ("A", 90, False, None), ("B", 75, False, None), ("C", 60, False, "关注"),
        ("D", 0, False, "重点关注")]
    s = default.expert_suspension
    assert s is not None
    assert (s.window_days, s.single_points, s.total_points, s.suspend_days) == (365, 15, 25, 180)
    assert "第七十一条" in s.basis and "青海" in s.basis


def test_worked_example_behaviours_are_unchanged(default: RuleSet) -> None:
    by_code = default.behaviour_by_code()
    collusion = by_code["BID-COLLUSION"]
    assert collusion.subject_types == ["bidder"]
    assert (collusion.points, collusion.days) == (30, 1095)
    # v2: the default bar is the statutory minimum of 招标投标法第五十三条 (1-2 years)
    assert (collusion.restrict_days, collusion.restrict_min_days,
            collusion.restrict_max_days) == (365, 365, 731)
    assert collusion.restrict_scope == ["engineering"]
    assert collusion.basis is not None and "第五十三条" in collusion.basis
    assert collusion.repeat_within_days is None and collusion.repeat_factor is None
    assert collusion.decay == "step"
    fraud = by_code["BID-FRAUD"]
    assert fraud.subject_types == ["bidder"]
    assert (fraud.points, fraud.days, fraud.restrict_days) == (20, 365, None)
    assert (fraud.repeat_within_days, fraud.repeat_factor) == (365, 2.0)
    assert fraud.decay == "step"
    late = by_code["LATE"]
    assert (late.subject_types, late.points, late.days, late.decay) == (["expert"], 10, 180, "step")
    assert late.restrict_days is None and late.repeat_factor is None
    assert late.min_publish_days is None
    absent = by_code["ABSENT"]
    assert (absent.subject_types, absent.points, absent.days, absent.decay) == (
        ["expert"], 20, 365, "step")
    assert absent.restrict_days is None and absent.repeat_factor is None
    assert absent.min_publish_days is None


def test_default_catalogue_is_coherent(default: RuleSet) -> None:
    decays = Counter(b.decay for b in default.behaviour)
    assert 2 <= decays["linear"] <= 4
    for b in default.behaviour:
        if b.min_publish_days is not None:
            # the repair regime: published at least 3 months, at most 3 years
            assert 90 <= b.min_publish_days <= min(b.days, 1095), b.code
        assert b.days <= 1095, b.code
    # grave kinds of bidders, agents and experts bar (BID-FRAUD is fixed by the contract;
    # AGT-FORGERY and AGT-BRIBERY have no provision that disqualifies an agent)
    grave = re.compile(r"COLLUSION|RIGGING|BRIBE|FORGERY")
    for b in default.behaviour:
        if grave.search(b.code) and b.code not in ("AGT-FORGERY", "AGT-BRIBERY") and \
                b.subject_types != ["tenderer"]:
            assert b.restrict_days is not None, b.code


# The statutory ranges (days: a year is 365 or 366 days) and scopes of the provisions the
# default cites, the most specific first: a bar citing the provision has exactly these.
STATUTES: list[tuple[str, int | None, int | None, str]] = [
    ("《政府采购法实施条例》第七十五条", None, None, "procurement"),
    ("《政府采购法实施条例》第七十三条", 365, 1096, "procurement"),
    ("《政府采购法》第七十二条、第七十八条", 365, 1096, "procurement"),
    ("《政府采购法》第七十七条", 365, 1096, "procurement"),
    ("《招标投标法》第五十六条", None, None, "engineering"),
    ("《招标投标法实施条例》第七十一条", None, None, "engineering"),
    ("《招标投标法》第五十三条", 365, 731, "engineering"),
    ("《招标投标法》第五十四条", 365, 1096, "engineering"),
    ("《招标投标法》第五十条", 365, 731, "engineering"),
    ("《招标投标法》第六十条", 730, 1827, "engineering"),
]


def _statute(basis: str) -> tuple[str, int | None, int | None, str]:
    for statute in STATUTES:
        if statute[0] in basis:
            return statute
    raise AssertionError(f"basis {basis!r} cites no provision the default is known to use")


def test_every_default_bar_cites_its_statute_range_and_scope(default: RuleSet) -> None:
    bars = [b for b in default.behaviour if b.restrict_days is not None]
    assert len(bars) >= 25
    for b in bars:
        assert b.basis, b.code
        _, lo, hi, scope = _statute(b.basis)
        assert b.restrict_scope == [scope], b.code
        assert (b.restrict_min_days, b.restrict_max_days) == (lo, hi), b.code
        if lo is None:
            # experts: permanent disqualification, or a period the law leaves open
            assert b.subject_types == ["expert"], b.code
        else:
            # the default bar is the statutory minimum, and a repair cannot cut it shorter
            assert b.restrict_days == lo, b.code
            assert b.min_publish_days is not None
            assert b.min_publish_days >= min(lo, b.days), b.code
        assert b.code.endswith("-GP") == (scope == "procurement"), b.code
    by_code = default.behaviour_by_code()
    for code in ("EXP-BRIBE", "EXP-BRIBE-GP", "EXP-LEAK"):
        assert by_code[code].restrict_days == "permanent", code


def test_tendering_and_procurement_law_have_separate_codes(default: RuleSet) -> None:
    by_code = default.behaviour_by_code()
    gp = [c for c in by_code if c.endswith("-GP")]
    assert len(gp) >= 10
    for code in gp:
        b = by_code[code]
        assert b.restrict_scope == ["procurement"], code
        base = by_code.get(code.removesuffix("-GP"))
        if base is not None:
            assert base.subject_types == b.subject_types, code
            assert base.restrict_scope in (None, ["engineering"]), code
    assert by_code["BID-COLLUSION-GP"].restrict_max_days == 1096
    assert by_code["BID-COLLUSION"].restrict_max_days == 731


def test_no_bar_without_a_provision_that_allows_it(default: RuleSet) -> None:
    # a tenderer is not disqualified (its staff are punished); these provisions allow
    # fines, warnings or void awards only
    for b in default.behaviour:
        if b.subject_types == ["tenderer"]:
            assert b.restrict_days is None, b.code
    by_code = default.behaviour_by_code()
    for code in ("BID-LEND-QUAL", "BID-TRANSFER", "BID-REFUSE-CONTRACT", "BID-FALSE-MATERIAL",
                 "AGT-FORGERY", "AGT-BRIBERY", "TND-COLLUSION", "TND-LEAK", "TND-BRIBERY"):
        assert by_code[code].restrict_days is None, code


def test_strict_draft_is_stricter_with_the_same_codes(default: RuleSet, draft: RuleSet) -> None:
    d_codes = default.behaviour_by_code()
    s_codes = draft.behaviour_by_code()
    assert list(d_codes) == list(s_codes)
    assert [(g.name, g.min, g.watch) for g in draft.grade] == [
        (g.name, g.min, g.watch) for g in default.grade]
    # the draft bars by grade D, which a rule set may only do with a basis
    restricted = [g for g in draft.grade if g.restricted]
    assert [g.name for g in restricted] == ["D"] and restricted[0].basis
    for code, d in d_codes.items():
        s = s_codes[code]
        assert s.subject_types == d.subject_types, code
        assert s.points >= d.points and s.days >= d.days, code
        assert (s.basis, s.restrict_scope) == (d.basis, d.restrict_scope), code
        assert (s.restrict_min_days, s.restrict_max_days) == (
            d.restrict_min_days, d.restrict_max_days), code
        if d.restrict_days == "permanent":
            assert s.restrict_days == "permanent", code
        else:
            assert s.restrict_days == "permanent" or \
                (s.restrict_days or 0) >= (d.restrict_days or 0), code
        assert (s.min_publish_days or 0) >= (d.min_publish_days or 0), code
    for code in ("BID-COLLUSION", "BID-FRAUD"):
        assert 1.25 <= s_codes[code].points / d_codes[code].points <= 1.5
    assert sum(b.points for b in draft.behaviour) > sum(b.points for b in default.behaviour)


def test_minimal_snippet_is_accepted() -> None:
    rs = parse_rules(rules_text(behaviour(), tail=SUSPENSION), FILE)
    assert [b.code for b in rs.behaviour] == ["OK-ONE", "X-TWO"]
    assert rs.behaviour[1].decay == "step"  # decay defaults to step
    assert rs.behaviour[1].min_publish_days is None
    assert rs.expert_suspension is not None


def test_optional_fields_are_accepted() -> None:
    rs = parse_rules(rules_text(behaviour(
        subject_types='["agent", "tenderer"]', points="2.5", restrict_days="10",
        basis='"《招标投标法》第五十条"', restrict_min_days="5", restrict_max_days="10",
        restrict_scope='["engineering", "procurement"]',
        repeat_within_days="20", repeat_factor="1.5", decay='"linear"',
        min_publish_days="0")), FILE)
    b = rs.behaviour[1]
    assert (b.points, b.restrict_days, b.repeat_within_days, b.repeat_factor) == (2.5, 10, 20, 1.5)
    assert b.decay == "linear" and b.min_publish_days == 0
    assert (b.basis, b.restrict_min_days, b.restrict_max_days) == ("《招标投标法》第五十条", 5, 10)
    assert b.restrict_scope == ["engineering", "procurement"]


def test_permanent_bar_and_restricted_grade_with_basis_are_accepted() -> None:
    rs = parse_rules(rules_text(behaviour(restrict_days='"permanent"',
                                          basis='"《招标投标法实施条例》第七十二条"'),
                                grades=_with_restricted_d(), tail=SUSPENSION), FILE)
    b = rs.behaviour[1]
    assert b.restrict_days == "permanent" and b.permanent
    assert rs.grade[3].restricted and rs.grade[3].basis == "某省社会信用条例第三十条"


# --------------------------------------------------------------------------
# Refusals: docs/semantics.md §3.1
# --------------------------------------------------------------------------


def test_unknown_top_level_key() -> None:
    refused_once(rules_text(top='colour = "red"\n'), "colour", "unknown key")


def test_unknown_key_in_ruleset_table() -> None:
    refused_once(HEADER + 'owner = "x"\n' + GRADES + FIRST, "[ruleset].owner", "unknown key")


def test_unknown_key_in_behaviour() -> None:
    refused_once(rules_text(behaviour(colour='"red"')), "behaviour[2] X-TWO.colour",
                 "unknown key")


def test_unknown_key_in_grade() -> None:
    grades = GRADES.replace('name = "B"\nmin = 75', 'name = "B"\nmin = 75\ncolour = "blue"')
    refused_once(rules_text(grades=grades), "grade[2] B.colour", "unknown key")


def test_unknown_key_in_expert_suspension() -> None:
    refused_once(rules_text(tail=SUSPENSION + "months = 6\n"), "[expert_suspension].months",
                 "unknown key")


def test_behaviour_without_code() -> None:
    # no code: the entry is named by its position and its name
    refused_once(rules_text(behaviour(code=None)), "behaviour[2] 测试行为.code", "missing key")


def test_behaviour_without_name() -> None:
    refused_once(rules_text(behaviour(name=None)), "behaviour[2] X-TWO.name", "missing key")


def test_behaviour_without_points() -> None:
    refused_once(rules_text(behaviour(points=None)), "behaviour[2] X-TWO.points", "missing key")


def test_behaviour_without_days() -> None:
    refused_once(rules_text(behaviour(days=None)), "behaviour[2] X-TWO.days", "missing key")


def test_behaviour_without_subject_types() -> None:
    refused_once(rules_text(behaviour(subject_types=None)), "behaviour[2] X-TWO.subject_types",
                 "missing key")


def test_grade_without_min() -> None:
    grades = GRADES.replace('name = "C"\nmin = 60\n', 'name = "C"\n')
    refused_once(rules_text(grades=grades), "grade[3] C.min", "missing key")


def test_ruleset_without_version() -> None:
    refused_once(HEADER.replace('version = "1"\n', "") + GRADES + FIRST, "[ruleset].version",
                 "missing key")


def test_rule_set_without_ruleset_table() -> None:
    refused_once(GRADES + FIRST, "[ruleset]", "missing key")


def test_rule_set_without_behaviours() -> None:
    refused_once(HEADER + GRADES, "[[behaviour]]", "missing key", "at least one [[behaviour]]")


def test_expert_suspension_missing_key() -> None:
    refused_once(rules_text(tail=SUSPENSION.replace("suspend_days = 180\n", "")),
                 "[expert_suspension].suspend_days", "missing key")


@pytest.mark.parametrize("points", ["0", "-5", "-0.5", "0.0"])
def test_points_not_positive(points: str) -> None:
    refused_once(rules_text(behaviour(points=points)), "behaviour[2] X-TWO.points",
                 "greater than 0", points)


@pytest.mark.parametrize("days", ["0", "-1"])
def test_days_not_positive(days: str) -> None:
    refused_once(rules_text(behaviour(days=days)), "behaviour[2] X-TWO.days",
                 "greater than 0", days)


def test_duplicate_code() -> None:
    refused_once(rules_text(behaviour(code='"OK-ONE"', name='"重复"')),
                 "behaviour[2] OK-ONE.code", "duplicate code", "behaviour[1]")


def test_duplicate_code_reports_each_repeat() -> None:
    problems = refused(rules_text(behaviour(), behaviour(), behaviour(code='"OK-ONE"')))
    assert [p.column for p in problems] == [
        "behaviour[3] X-TWO.code", "behaviour[4] OK-ONE.code"]
    assert "first at behaviour[2]" in problems[0].reason
    assert "first at behaviour[1]" in problems[1].reason


def test_grades_ascending() -> None:
    grades = GRADES.replace("min = 75", "min = 95")
    refused_once(rules_text(grades=grades), "grade[2] B.min", "strictly descending", "grade[1] A")


def test_grades_equal_mins() -> None:
    grades = GRADES.replace("min = 60", "min = 75")
    refused_once(rules_text(grades=grades), "grade[3] C.min", "strictly descending")


def test_no_grade_reaches_the_floor() -> None:
    grades = GRADES.replace("min = 0", "min = 10")
    refused_once(rules_text(grades=grades), "[[grade]]", "no grade has min <= floor", "0")


def test_no_grade_reaches_a_raised_floor() -> None:
    header = HEADER.replace("floor = 0", "floor = 20")
    refused_once(rules_text(header=header, grades=GRADES.replace("min = 0", "min = 30")),
                 "[[grade]]", "no grade has min <= floor (20)")
    # a lowest grade below the floor is fine: it is reached at the floor
    assert parse_rules(rules_text(header=header), FILE).floor == 20


@pytest.mark.parametrize("floor", ["100", "150"])
def test_floor_not_below_base(floor: str) -> None:
    refused_once(rules_text(header=HEADER.replace("floor = 0", f"floor = {floor}")),
                 "[ruleset]", f"floor ({floor}) must be below base (100)")


def test_unknown_subject_type() -> None:
    refused_once(rules_text(behaviour(subject_types='["judge"]')),
                 "behaviour[2] X-TWO.subject_types[1]", "unknown subject type", "'judge'")


def test_unknown_subject_type_later_in_the_list() -> None:
    # list items are numbered from 1, whatever their position
    refused_once(rules_text(behaviour(subject_types='["bidder", "agent", "Bidder"]')),
                 "behaviour[2] X-TWO.subject_types[3]", "unknown subject type", "'Bidder'")


def test_empty_subject_types() -> None:
    refused_once(rules_text(behaviour(subject_types="[]")), "behaviour[2] X-TWO.subject_types",
                 "at least 1 item")


def test_duplicate_grade_name() -> None:
    grades = GRADES.replace('name = "C"', 'name = "B"')
    refused_once(rules_text(grades=grades), "grade[3] B.name", "duplicate grade name",
                 "grade[2]")


# --------------------------------------------------------------------------
# Refusals: docs/semantics.md §3.1 (value types, pairs)
# --------------------------------------------------------------------------


def test_points_as_string() -> None:
    refused_once(rules_text(behaviour(points='"5"')), "behaviour[2] X-TWO.points",
                 "must be a number", "string")


def test_points_as_boolean() -> None:
    refused_once(rules_text(behaviour(points="true")), "behaviour[2] X-TWO.points",
                 "must be a number", "boolean")


@pytest.mark.parametrize("points", ["inf", "nan"])
def test_points_not_finite(points: str) -> None:
    refused_once(rules_text(behaviour(points=points)), "behaviour[2] X-TWO.points",
                 "finite number")


def test_days_as_float() -> None:
    refused_once(rules_text(behaviour(days="30.0")), "behaviour[2] X-TWO.days",
                 "valid integer", "float")


def test_days_as_boolean() -> None:
    refused_once(rules_text(behaviour(days="true")), "behaviour[2] X-TWO.days",
                 "valid integer", "boolean")


def test_days_as_string() -> None:
    refused_once(rules_text(behaviour(days='"30"')), "behaviour[2] X-TWO.days",
                 "valid integer", "string")


def test_subject_types_as_string() -> None:
    refused_once(rules_text(behaviour(subject_types='"bidder"')),
                 "behaviour[2] X-TWO.subject_types", "valid list", "string")


def test_code_as_integer() -> None:
    refused_once(rules_text(behaviour(code="7")), "behaviour[2] 测试行为.code",
                 "valid string", "integer")


def test_blank_name() -> None:
    refused_once(rules_text(behaviour(name='"  "')), "behaviour[2] X-TWO.name", "blank")


def test_grade_min_as_string() -> None:
    grades = GRADES.replace("min = 75", 'min = "75"')
    refused_once(rules_text(grades=grades), "grade[2] B.min", "must be a number", "string")


def _with_restricted_d(restricted: str = "true") -> str:
    """The test grades with grade D barring by grade (explicit rule text, with a basis)."""
    head = GRADES[:GRADES.index('[[grade]]\nname = "D"')]
    return head + RESTRICTED_D.replace("restricted = true", f"restricted = {restricted}")


def test_grade_restricted_as_string() -> None:
    refused_once(rules_text(grades=_with_restricted_d('"yes"')), "grade[4] D.restricted",
                 "valid boolean")


def test_version_as_number() -> None:
    header = HEADER.replace('version = "1"', "version = 2026.1")
    refused_once(rules_text(header=header), "[ruleset].version", "valid string", "float")


def test_base_as_string() -> None:
    header = HEADER.replace("base = 100", 'base = "100"')
    refused_once(rules_text(header=header), "[ruleset].base", "must be a number")


def test_ruleset_not_a_table() -> None:
    refused_once('ruleset = "default"\n' + GRADES + FIRST, "[ruleset]", "must be a table")


def test_behaviour_as_a_single_table() -> None:
    text = HEADER + GRADES + '[behaviour]\ncode = "X"\n'
    refused_once(text, "[behaviour]", "array of tables", "[[behaviour]]")


@pytest.mark.parametrize("decay", ['"exponential"', '"Step"', '""'])
def test_unknown_decay(decay: str) -> None:
    refused_once(rules_text(behaviour(decay=decay)), "behaviour[2] X-TWO.decay",
                 "unknown decay", "step or linear")


@pytest.mark.parametrize("value", ["0", "-30"])
def test_restrict_days_not_positive(value: str) -> None:
    refused_once(rules_text(behaviour(restrict_days=value)), "behaviour[2] X-TWO.restrict_days",
                 "greater than 0")


def test_restrict_days_as_float() -> None:
    refused_once(rules_text(behaviour(restrict_days="365.5")),
                 "behaviour[2] X-TWO.restrict_days", "valid integer")


@pytest.mark.parametrize("value", ["0", "-365"])
def test_repeat_within_days_not_positive(value: str) -> None:
    refused_once(rules_text(behaviour(repeat_within_days=value, repeat_factor="2.0")),
                 "behaviour[2] X-TWO.repeat_within_days", "greater than 0")


@pytest.mark.parametrize("value", ["0", "0.0", "-2.0"])
def test_repeat_factor_not_positive(value: str) -> None:
    refused_once(rules_text(behaviour(repeat_within_days="365", repeat_factor=value)),
                 "behaviour[2] X-TWO.repeat_factor", "greater than 0")


def test_repeat_factor_as_string() -> None:
    refused_once(rules_text(behaviour(repeat_within_days="365", repeat_factor='"2"')),
                 "behaviour[2] X-TWO.repeat_factor", "must be a number")


def test_repeat_within_days_without_repeat_factor() -> None:
    refused_once(rules_text(behaviour(repeat_within_days="365")), "behaviour[2] X-TWO",
                 "repeat_within_days and repeat_factor go together")


def test_repeat_factor_without_repeat_within_days() -> None:
    refused_once(rules_text(behaviour(repeat_factor="2.0")), "behaviour[2] X-TWO",
                 "repeat_within_days and repeat_factor go together")


def test_negative_min_publish_days() -> None:
    refused_once(rules_text(behaviour(min_publish_days="-1")),
                 "behaviour[2] X-TWO.min_publish_days", "greater than or equal to 0")


@pytest.mark.parametrize("key", ["window_days", "single_points", "total_points", "suspend_days"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_suspension_value_not_positive(key: str, value: str) -> None:
    tail = re.sub(rf"^{key} = \d+$", f"{key} = {value}", SUSPENSION, flags=re.M)
    refused_once(rules_text(tail=tail), f"[expert_suspension].{key}", "greater than 0")


def test_suspension_days_as_float() -> None:
    tail = SUSPENSION.replace("window_days = 365", "window_days = 365.0")
    refused_once(rules_text(tail=tail), "[expert_suspension].window_days", "valid integer")


def test_rule_set_without_grades() -> None:
    refused_once(rules_text(grades=""), "[[grade]]", "missing key", "at least one [[grade]]")


def test_rule_set_with_empty_grade_list() -> None:
    refused_once(rules_text(top="grade = []\n", grades=""), "[[grade]]",
                 "at least one [[grade]]")


def test_malformed_toml() -> None:
    problems = refused(rules_text(behaviour(points="= 5")))
    assert len(problems) == 1
    assert problems[0].column is None
    assert "not valid TOML" in problems[0].reason
    assert "line" in problems[0].reason  # the TOML parser's position


def test_malformed_toml_duplicate_key() -> None:
    problems = refused(rules_text(behaviour(points="5\npoints = 6")))
    assert len(problems) == 1 and "not valid TOML" in problems[0].reason


# --------------------------------------------------------------------------
# Refusals: docs/semantics.md §3.1, §6.3 (bars grounded in law)
# --------------------------------------------------------------------------


def test_restrict_days_without_basis() -> None:
    refused_once(rules_text(behaviour(restrict_days="365")), "behaviour[2] X-TWO",
                 "restrict_days needs a basis")


def test_permanent_without_basis() -> None:
    refused_once(rules_text(behaviour(restrict_days='"permanent"')), "behaviour[2] X-TWO",
                 "restrict_days needs a basis")


def test_blank_basis() -> None:
    refused_once(rules_text(behaviour(restrict_days="365", basis='"  "')), "behaviour[2] X-TWO",
                 "blank")


def test_restricted_grade_without_basis() -> None:
    grades = _with_restricted_d().replace('basis = "某省社会信用条例第三十条"\n', "")
    refused_once(rules_text(grades=grades), "grade[4] D", "restricted grade needs a basis")


def test_expert_suspension_without_basis() -> None:
    tail = SUSPENSION.replace('basis = "青海省评标专家管理办法"\n', "")
    refused_once(rules_text(tail=tail), "[expert_suspension].basis", "missing key")


@pytest.mark.parametrize("value", ['"perm"', '"Permanent"', "true", "[365]"])
def test_restrict_days_neither_days_nor_permanent(value: str) -> None:
    # one problem naming both accepted forms, not one per member of the type union
    refused_once(rules_text(behaviour(restrict_days=value, basis='"x"')),
                 "behaviour[2] X-TWO.restrict_days", "valid integer (days) or \"permanent\"")


def test_unknown_category_in_scope() -> None:
    refused_once(rules_text(behaviour(restrict_days="365", basis='"x"',
                                      restrict_scope='["engineering", "mining"]')),
                 "behaviour[2] X-TWO.restrict_scope[2]", "unknown", "'mining'")


def test_empty_scope() -> None:
    refused_once(rules_text(behaviour(restrict_days="365", basis='"x"', restrict_scope="[]")),
                 "behaviour[2] X-TWO", "at least one category")


@pytest.mark.parametrize("key", ["restrict_min_days", "restrict_max_days"])
def test_range_bound_alone(key: str) -> None:
    refused_once(rules_text(behaviour(restrict_days="365", basis='"x"', **{key: "365"})),
                 "behaviour[2] X-TWO", "restrict_min_days and restrict_max_days go together")


def test_range_out_of_order() -> None:
    refused_once(rules_text(behaviour(restrict_days="365", basis='"x"',
                                      restrict_min_days="731", restrict_max_days="365")),
                 "behaviour[2] X-TWO", "restrict_min_days (731) is above restrict_max_days")


@pytest.mark.parametrize("days", ["364", "732"])
def test_restrict_days_outside_the_range(days: str) -> None:
    refused_once(rules_text(behaviour(restrict_days=days, basis='"《招标投标法》第五十三条"',
                                      restrict_min_days="365", restrict_max_days="731")),
                 "behaviour[2] X-TWO", f"restrict_days ({days}) is outside the statutory range",
                 "365-731")


def test_default_restrict_days_refused_without_basis_names_the_entry() -> None:
    # the shipped default with one basis removed is refused at that entry
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    text = text.replace('basis = "《招标投标法》第六十条"\n', "", 1)
    problems = refused(text)
    assert [p.column for p in problems] == [
        f"behaviour[{_position('BID-NONPERFORMANCE')}] BID-NONPERFORMANCE"]


def _position(code: str) -> int:
    return [b.code for b in load_rules().behaviour].index(code) + 1


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def test_every_problem_is_reported_at_once() -> None:
    problems = refused(rules_text(
        behaviour(points="0", decay='"wave"'),
        behaviour(code='"X-THREE"', subject_types='["judge"]', colour="1"),
    ))
    assert {(p.column, p.reason.split(" ")[0]) for p in problems} == {
        ("behaviour[2] X-TWO.points", "Input"),
        ("behaviour[2] X-TWO.decay", "unknown"),
        ("behaviour[3] X-THREE.subject_types[1]", "unknown"),
        ("behaviour[3] X-THREE.colour", "unknown"),
    }


def test_error_message_names_file_entry_and_reason() -> None:
    with pytest.raises(InputError) as info:
        parse_rules(rules_text(behaviour(points="-3")), FILE)
    assert str(info.value) == (
        f"{FILE}: behaviour[2] X-TWO.points: Input should be greater than 0 (got -3)")


def test_load_rules_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(rules_text(behaviour(days="0")), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rules(path)
    [p] = info.value.problems
    assert p.file == str(path)
    assert p.column == "behaviour[2] X-TWO.days"


def test_load_rules_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(InputError) as info:
        load_rules(path)
    [p] = info.value.problems
    assert p.file == str(path)
    assert "cannot read rule set" in p.reason
