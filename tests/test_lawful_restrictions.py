"""Restrictions grounded in law and in the decision (docs/semantics.md, "Restrictions"):
stated periods and scopes, statutory ranges, permanent bars, trading categories, watch
levels, lender lists; every refusal names file, row or entry, column and reason. Through
the command line, as a user meets them."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from creditindex.cli import main
from creditindex.rules import parse_rules

try:
    from .helpers import rid, uscc
except ImportError:  # tests/ is not a package
    from tests.helpers import rid, uscc  # type: ignore[no-redef]

BIDDER_G = uscc(7)
BIDDER_H = uscc(8)
BIDDER_J = uscc(9)
EXPERT = rid(5, "19750315")

GRADES = """
[ruleset]
name = "lawful"
version = "1"
base = 100
floor = 0
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

BEHAVIOURS = """
[[behaviour]]
code = "BID-COLLUSION"
name = "串通投标"
subject_types = ["bidder"]
points = 30
days = 1095
restrict_days = 1095
basis = "《招标投标法》第五十三条"

[[behaviour]]
code = "BID-COLLUSION-RANGED"
name = "串通投标（法定期间）"
subject_types = ["bidder"]
points = 30
days = 1095
restrict_days = 365
basis = "《招标投标法》第五十三条"
restrict_min_days = 365
restrict_max_days = 730
restrict_scope = ["engineering"]

[[behaviour]]
code = "BID-FRAUD"
name = "弄虚作假骗取中标"
subject_types = ["bidder"]
points = 20
days = 365
repeat_within_days = 365
repeat_factor = 2.0

[[behaviour]]
code = "EXP-BRIBE"
name = "收受投标人财物"
subject_types = ["expert"]
points = 50
days = 1095
restrict_days = "permanent"
basis = "《招标投标法实施条例》第七十二条"
"""

HEADER = ("record_id,source,industry,region,subject_id,subject_name,subject_type,"
          "behaviour_code,decided_on,restrict_until,restrict_scope,document_no")


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def rules_file(tmp: Path, extra: str = "") -> str:
    return write(tmp, "rules.toml", GRADES + BEHAVIOURS + extra)


def records_file(tmp: Path, *rows: str) -> str:
    return write(tmp, "records.csv", "\n".join([HEADER, *rows]) + "\n")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def compute_rows(rules: str, records: str, on: str, *extra: str) -> list[dict[str, str]]:
    result = run("compute", "--rules", rules, "--records", records, "--on", on, *extra,
                 "--out", str(Path(records).with_name(f"out-{on}.csv")))
    assert result.exit_code == 0, result.output
    with Path(records).with_name(f"out-{on}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def check_rows(rules: str, records: str, on: str, *extra: str) -> list[dict[str, object]]:
    out = Path(records).with_name(f"check-{on}.json")
    result = run("check", "--rules", rules, "--records", records, "--on", on, *extra,
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(out.read_text(encoding="utf-8"))
    return rows


# ---------------------------------------------------------------------------------------
# Worked examples
# ---------------------------------------------------------------------------------------


def test_bidder_h_stated_period_and_scope(tmp_path: Path) -> None:
    """H: collusion decided 2026-02-01, bar stated through 2026-12-31 for engineering."""
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"h1,gz,transport,440106,{BIDDER_H},H公司,bidder,"
                                     "BID-COLLUSION,2026-02-01,2026-12-31,engineering,穗建罚1号")
    last = compute_rows(rules, records, "2026-12-31", "--category", "engineering")[0]
    assert (last["restricted"], last["restricted_in"]) == ("true", "engineering")
    assert compute_rows(rules, records, "2026-12-31")[0]["restricted"] == "true"
    procurement = compute_rows(rules, records, "2026-06-01", "--category", "procurement")[0]
    assert (procurement["restricted"], procurement["restricted_in"]) == ("false", "engineering")
    after = compute_rows(rules, records, "2027-01-01")[0]
    assert (after["restricted"], after["restricted_in"], after["index"]) == ("false", "", "70.0")
    for category in ("engineering", "procurement", "land", "property", "other"):
        row = check_rows(rules, records, "2027-01-01", "--subjects", BIDDER_H,
                         "--category", category)[0]
        assert row["eligible"] is True
    refused = check_rows(rules, records, "2026-12-31", "--subjects", BIDDER_H,
                         "--category", "engineering")[0]
    assert refused["eligible"] is False and refused["restricted_in"] == "engineering"
    assert "穗建罚1号" in str(refused["reasons"])


def test_bidder_g_restricted_everywhere_until_the_bar_ends(tmp_path: Path) -> None:
    """G: a bar without stated scope holds in every category, region and industry."""
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"g1,gz,transport,440106,{BIDDER_G},G公司,bidder,"
                                     "BID-COLLUSION,2026-02-01,,,")
    during = check_rows(rules, records, "2027-06-01", "--subjects", BIDDER_G,
                        "--category", "engineering")[0]
    assert during["eligible"] is False
    assert during["restricted_in"] == "engineering|procurement|land|property|other"
    assert check_rows(rules, records, "2029-01-31", "--subjects", BIDDER_G)[0]["eligible"]


def test_grade_d_is_a_watch_level_not_a_bar(tmp_path: Path) -> None:
    """F: two frauds make grade D with the watch label 重点关注, and bar nothing."""
    rules = rules_file(tmp_path)
    f = uscc(6)
    records = records_file(tmp_path,
                           f"f1,gz,housing,440106,{f},F公司,bidder,BID-FRAUD,2026-01-01,,,",
                           f"f2,gz,housing,440106,{f},F公司,bidder,BID-FRAUD,2026-06-01,,,")
    row = compute_rows(rules, records, "2026-06-01")[0]
    assert (row["index"], row["grade"], row["watch"], row["restricted"]) == (
        "40.0", "D", "重点关注", "false")
    assert compute_rows(rules, records, "2027-01-01")[0]["watch"] == "关注"


def test_a_restricted_grade_with_basis_bars_everywhere(tmp_path: Path) -> None:
    f = uscc(6)
    rules = write(tmp_path, "strict.toml", GRADES.replace(
        'watch = "重点关注"', 'watch = "重点关注"\nrestricted = true\n'
        'basis = "某省公共资源交易信用管理办法第二十条"') + BEHAVIOURS)
    records = records_file(tmp_path,
                           f"f1,gz,housing,440106,{f},F公司,bidder,BID-FRAUD,2026-01-01,,,",
                           f"f2,gz,housing,440106,{f},F公司,bidder,BID-FRAUD,2026-06-01,,,")
    for category in ("engineering", "procurement", "land", "property", "other"):
        row = compute_rows(rules, records, "2026-06-01", "--category", category)[0]
        assert row["restricted"] == "true"
    assert compute_rows(rules, records, "2026-05-31")[0]["restricted"] == "false"


def test_permanent_bar_has_no_end(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    records = write(tmp_path, "records.csv",
                    "record_id,source,industry,region,subject_id,subject_name,subject_type,"
                    "behaviour_code,decided_on\n"
                    f"x1,gz,housing,440106,{EXPERT},专家X,expert,EXP-BRIBE,2026-01-05\n")
    for day in ("2026-01-05", "2030-01-01", "2090-12-31"):
        assert check_rows(rules, records, day, "--subjects", EXPERT)[0]["eligible"] is False
    assert check_rows(rules, records, "2026-01-04", "--subjects", EXPERT)[0]["eligible"]


def test_stated_permanent_bar_is_kept(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"g1,gz,housing,440106,{BIDDER_G},G公司,bidder,"
                                     "BID-COLLUSION,2026-02-01,permanent,,")
    assert check_rows(rules, records, "2060-01-01", "--subjects", BIDDER_G)[0][
        "eligible"] is False


def test_world_bank_entry_bars_only_bank_financed_projects(tmp_path: Path) -> None:
    """J: a World Bank entry matched by name restricts only when the question names the
    Bank as financier."""
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"j1,gz,housing,440106,{BIDDER_J},"
                                     "Jiangnan Construction Co. Ltd.,bidder,BID-FRAUD,"
                                     "2026-01-01,,,")
    lists = write(tmp_path, "wb.csv", "list,name,country,listed_on,until,financier,grounds\n"
                  "worldbank,JIANGNAN CONSTRUCTION CO LTD,China,2025-01-01,,worldbank,Fraud\n")
    plain = check_rows(rules, records, "2026-03-01", "--subjects", BIDDER_J, "--lists", lists)
    assert plain[0]["eligible"] is True
    asked = check_rows(rules, records, "2026-03-01", "--subjects", BIDDER_J, "--lists", lists,
                       "--financier", "worldbank")[0]
    assert asked["eligible"] is False
    assert "worldbank" in str(asked["reasons"])
    other_lender = check_rows(rules, records, "2026-03-01", "--subjects", BIDDER_J,
                              "--lists", lists, "--financier", "adb")[0]
    assert other_lender["eligible"] is True
    computed = compute_rows(rules, records, "2026-03-01", "--lists", lists,
                            "--financier", "worldbank")[0]
    assert computed["restricted"] == "true"
    assert compute_rows(rules, records, "2026-03-01", "--lists", lists)[0][
        "restricted"] == "false"


def test_list_entry_scope_limits_the_bar(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"j1,gz,housing,440106,{BIDDER_J},J公司,bidder,BID-FRAUD,"
                                     "2026-01-01,,,")
    lists = write(tmp_path, "court.csv", "list,subject_id,listed_on,until,scope\n"
                  f"court_defaulters,{BIDDER_J},2025-01-01,,engineering|procurement\n")
    land = check_rows(rules, records, "2026-03-01", "--subjects", BIDDER_J, "--lists", lists,
                      "--category", "land")[0]
    assert land["eligible"] is True
    assert land["restricted_in"] == "engineering|procurement"
    procurement = check_rows(rules, records, "2026-03-01", "--subjects", BIDDER_J,
                             "--lists", lists, "--category", "procurement")[0]
    assert procurement["eligible"] is False


def test_a_firm_without_records_named_on_a_list_is_not_certified(tmp_path: Path) -> None:
    """The subjects file names the firm; the list entry has no code, only the name."""
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"g1,gz,housing,440106,{BIDDER_G},G公司,bidder,"
                                     "BID-FRAUD,2026-01-01,,,")
    lists = write(tmp_path, "court.csv", "list,name,listed_on,until\n"
                  "court_defaulters,广州市示例建筑工程有限公司,2025-01-01,\n")
    clean = uscc(11)
    subjects = write(tmp_path, "asked.csv", "subject_id,subject_name\n"
                     f"{clean},广州市示例建筑工程有限公司\n")
    row = check_rows(rules, records, "2026-03-01", "--subjects-file", subjects,
                     "--lists", lists)[0]
    assert row["eligible"] is False
    assert row["subject_name"] == "广州市示例建筑工程有限公司"
    assert "court_defaulters" in str(row["reasons"])


def test_check_refuses_codes_that_fail_their_check(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"g1,gz,housing,440106,{BIDDER_G},G公司,bidder,"
                                     "BID-COLLUSION,2026-02-01,,,")
    typo = BIDDER_G[:-1] + ("0" if BIDDER_G[-1] != "0" else "1")
    out = tmp_path / "answer.csv"
    for bad in ("NOT-AN-ID", typo):
        result = CliRunner().invoke(main, ["check", "--rules", rules, "--records", records,
                                           "--on", "2026-03-01", "--subjects",
                                           f"{uscc(3)},{bad}", "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert (bad in result.output and "check character" in result.output) or (
            "18 characters" in result.output)
        assert not out.exists()


# ---------------------------------------------------------------------------------------
# Refusals: the rule set
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "entry", "reason"), [
    ('[[behaviour]]\ncode = "X"\nname = "x"\nsubject_types = ["bidder"]\npoints = 1\n'
     'days = 10\nrestrict_days = 30\n', "behaviour[5] X", "needs a basis"),
    ('[[behaviour]]\ncode = "X"\nname = "x"\nsubject_types = ["bidder"]\npoints = 1\n'
     'days = 10\nrestrict_days = 30\nbasis = "法"\nrestrict_min_days = 10\n',
     "behaviour[5] X", "go together"),
    ('[[behaviour]]\ncode = "X"\nname = "x"\nsubject_types = ["bidder"]\npoints = 1\n'
     'days = 10\nrestrict_days = 30\nbasis = "法"\nrestrict_min_days = 40\n'
     'restrict_max_days = 20\n', "behaviour[5] X", "above restrict_max_days"),
    ('[[behaviour]]\ncode = "X"\nname = "x"\nsubject_types = ["bidder"]\npoints = 1\n'
     'days = 10\nrestrict_days = 30\nbasis = "法"\nrestrict_min_days = 365\n'
     'restrict_max_days = 730\n', "behaviour[5] X", "outside the statutory range"),
    ('[[behaviour]]\ncode = "X"\nname = "x"\nsubject_types = ["bidder"]\npoints = 1\n'
     'days = 10\nrestrict_days = 30\nbasis = "法"\nrestrict_scope = ["roads"]\n',
     "behaviour[5] X.restrict_scope[1]", "unknown category"),
    ('[[behaviour]]\ncode = "X"\nname = "x"\nsubject_types = ["bidder"]\npoints = 1\n'
     'days = 10\nrestrict_days = 30\nbasis = "  "\n', "behaviour[5] X", "blank"),
    ('[expert_suspension]\nwindow_days = 365\nsingle_points = 15\ntotal_points = 25\n'
     'suspend_days = 180\n', "[expert_suspension].basis", "missing key"),
])
def test_rule_set_refusals(tmp_path: Path, extra: str, entry: str, reason: str) -> None:
    path = rules_file(tmp_path, extra)
    result = run("validate-rules", path)
    assert result.exit_code == 2
    assert f"{path}: {entry}" in result.output and reason in result.output, result.output


def test_restricted_grade_needs_a_basis(tmp_path: Path) -> None:
    path = write(tmp_path, "r.toml", GRADES.replace('watch = "重点关注"',
                                                    'watch = "重点关注"\nrestricted = true')
                 + BEHAVIOURS)
    result = run("validate-rules", path)
    assert result.exit_code == 2
    assert "grade[4] D" in result.output and "needs a basis" in result.output


def test_default_rule_set_bars_nothing_by_grade_and_cites_every_bar() -> None:
    rules = parse_rules(Path("scoring_rules/default.toml").read_text(encoding="utf-8"))
    assert not any(g.restricted for g in rules.grade)
    assert {g.name: g.watch for g in rules.grade if g.watch} == {"C": "关注", "D": "重点关注"}
    assert all(b.basis for b in rules.behaviour if b.restrict_days is not None)
    assert any(b.restrict_days == "permanent" for b in rules.behaviour
               if "expert" in b.subject_types)
    assert rules.expert_suspension is not None and rules.expert_suspension.basis


# ---------------------------------------------------------------------------------------
# Refusals: stated bars in records (nothing is written)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "column", "reason"), [
    ("BID-COLLUSION,2026-02-01,2026-01-31,,", "restrict_until", "before decided_on"),
    ("BID-COLLUSION-RANGED,2026-02-01,2026-12-31,,", "restrict_until",
     "outside the statutory range 365-730"),
    ("BID-COLLUSION-RANGED,2026-02-01,permanent,,", "restrict_until",
     "permanent is outside the statutory range"),
    ("BID-FRAUD,2026-02-01,2026-12-31,,", "restrict_until", "imposes no bar"),
    ("BID-FRAUD,2026-02-01,,engineering,", "restrict_scope", "imposes no bar"),
    ("BID-COLLUSION,2026-02-01,,roads,", "restrict_scope", "unknown category"),
    ("BID-COLLUSION-RANGED,2026-02-01,2027-01-31,engineering|procurement,", "restrict_scope",
     "wider than"),
    ("BID-COLLUSION,2026-02-01,2026-13-01,,", "restrict_until", "not a date"),
])
def test_bad_stated_bars_are_refused(tmp_path: Path, row: str, column: str,
                                     reason: str) -> None:
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"r1,gz,housing,440106,{BIDDER_G},G公司,bidder,{row}")
    out = tmp_path / "answer.csv"
    result = CliRunner().invoke(main, ["compute", "--rules", rules, "--records", records,
                                       "--on", "2026-03-01", "--out", str(out)])
    assert result.exit_code == 2
    assert f"{records}: row 2: column {column}: " in result.output
    assert reason in result.output, result.output
    assert not out.exists()


def test_stated_bar_inside_the_range_is_accepted(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"r1,gz,housing,440106,{BIDDER_G},G公司,bidder,"
                                     "BID-COLLUSION-RANGED,2026-02-01,2027-01-31,,")
    row = compute_rows(rules, records, "2027-01-31")[0]
    assert (row["restricted"], row["restricted_in"]) == ("true", "engineering")
    assert compute_rows(rules, records, "2027-02-01")[0]["restricted"] == "false"


def test_list_with_unknown_category_is_refused(tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    records = records_file(tmp_path, f"g1,gz,housing,440106,{BIDDER_G},G公司,bidder,"
                                     "BID-FRAUD,2026-01-01,,,")
    lists = write(tmp_path, "l.csv", "list,subject_id,listed_on,scope\n"
                  f"court,{BIDDER_G},2025-01-01,roads\n")
    result = run("compute", "--rules", rules, "--records", records, "--lists", lists,
                 "--on", "2026-03-01")
    assert result.exit_code == 2
    assert f"{lists}: row 2: column scope: unknown category" in result.output


def test_a_check_carries_only_the_asked_subjects_grounds(tmp_path: Path) -> None:
    """A list names J by code; a check of G alone must not carry J's list ground (it would
    reach G's certificate, evidence and credit report)."""
    from creditindex.evaluate import CreditData, check
    from creditindex.lists import read_list_entries
    from creditindex.records import read_records

    rules = parse_rules(Path(rules_file(tmp_path)).read_text(encoding="utf-8"))
    records = read_records([records_file(
        tmp_path, f"g1,gz,housing,440106,{BIDDER_G},G公司,bidder,BID-FRAUD,2026-01-01,,,")],
        rules)
    lists = read_list_entries([write(tmp_path, "court.csv",
                                     "list,entry_id,subject_id,listed_on,until\n"
                                     f"court_defaulters,c1,{BIDDER_J},2025-01-01,\n")])
    data = CreditData(records=records, rules=rules, lists=lists)
    asked_g = check(data, dt.date(2026, 3, 1), [BIDDER_G])
    assert set(asked_g.grounds.get_column("subject_id")) <= {BIDDER_G}
    assert asked_g.table.get_column("eligible").to_list() == [True]
    asked_j = check(data, dt.date(2026, 3, 1), [BIDDER_J])
    assert asked_j.grounds.select("subject_id", "cause").rows() == [(BIDDER_J, "list")]
