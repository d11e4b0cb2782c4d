"""Every worked example of docs/semantics.md, against the engine and the reference, with the
project's default rule set; grade, rank, consortium and roles (§4.5-4.8); and the same
examples through the command line (§5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from creditindex.cli import main
from creditindex.evaluate import CreditData, check, compute, explain, history
from creditindex.records import records_frame
from creditindex.rules import DEFAULT_RULES, load_rules, parse_rules
from tests import reference as ref
from tests.helpers import example_rules, example_rules_file

D = dt.date
# The default rule set as the examples state it (BID-COLLUSION barring 1,095 days in every
# category, as example G says); its own statutory range is tested apart.
RULES = example_rules()
RESTRICTED_D = example_rules(restricted_d=True)
EXPERT_E = ref.make_rid(1, "19750315")
BIDDER_F = ref.make_uscc(6)
BIDDER_G = ref.make_uscc(7)
BIDDER_H = ref.make_uscc(8)


def rec(rid: str, sid: str, stype: str, code: str, decided: dt.date, **extra: object
        ) -> dict[str, object]:
    row: dict[str, object] = {
        "record_id": rid, "source": extra.pop("source", "gz-ggzy"),
        "industry": extra.pop("industry", "housing"), "region": extra.pop("region", "440106"),
        "subject_id": sid, "subject_name": extra.pop("subject_name", f"subject {sid[-4:]}"),
        "subject_type": stype, "behaviour_code": code, "decided_on": decided,
    }
    row.update(extra)
    return row


E_ROWS = [rec("e1", EXPERT_E, "expert", "LATE", D(2026, 1, 10)),
          rec("e2", EXPERT_E, "expert", "ABSENT", D(2026, 3, 1))]
F_ROWS = [rec("f1", BIDDER_F, "bidder", "BID-FRAUD", D(2026, 1, 1)),
          rec("f2", BIDDER_F, "bidder", "BID-FRAUD", D(2026, 6, 1))]
G_ROWS = [rec("g1", BIDDER_G, "bidder", "BID-COLLUSION", D(2026, 2, 1), industry="transport",
              region="440106")]
LATE_ROWS = [rec("h1", BIDDER_H, "bidder", "BID-FRAUD", D(2026, 2, 1),
                 recorded_on=D(2026, 2, 20))]


def data_of(rows: list[dict[str, object]], rules=RULES) -> CreditData:  # type: ignore[no-untyped-def]
    return CreditData(records_frame(rows), rules)


def engine_row(rows, sid, stype, day, known=None, rules=RULES):  # type: ignore[no-untyped-def]
    got = compute(data_of(rows, rules), day, known).filter(
        (pl.col("subject_id") == sid) & (pl.col("subject_type") == stype))
    assert got.height == 1
    return got.row(0, named=True)


def assert_both(rows, sid, stype, day, index, known=None, grade=None, restricted=None,  # type: ignore[no-untyped-def]
                rules=RULES) -> None:
    """The engine and the reference both give ``index`` (and grade, restriction)."""
    assert ref.ref_index(rows, rules, sid, stype, day, known) == ref.frac(index)
    got = engine_row(rows, sid, stype, day, known, rules)
    assert got["index"] == pytest.approx(index, abs=1e-9)
    want_grade = ref.ref_grade(rows, rules, sid, stype, day, known)
    assert got["grade"] == want_grade
    if grade is not None:
        assert want_grade == grade
    want_restricted = ref.ref_restricted(rows, rules, sid, day, known)
    assert got["restricted"] == want_restricted
    if restricted is not None:
        assert want_restricted == restricted


def test_default_rules_keep_the_example_values() -> None:
    default = load_rules()
    b = default.behaviour_by_code()
    assert (b["LATE"].points, b["LATE"].days, b["LATE"].decay) == (10, 180, "step")
    assert (b["ABSENT"].points, b["ABSENT"].days, b["ABSENT"].decay) == (20, 365, "step")
    f = b["BID-FRAUD"]
    assert (f.points, f.days, f.repeat_within_days, f.repeat_factor) == (20, 365, 365, 2.0)
    c = b["BID-COLLUSION"]
    assert (c.points, c.days) == (30, 1095)
    # the default follows the law: a stated period of 1-2 years for tendered projects
    assert c.restrict_min_days == 365 and c.restrict_max_days is not None
    assert isinstance(c.restrict_days, int)
    assert c.restrict_min_days <= c.restrict_days <= c.restrict_max_days
    assert c.restrict_scope == ["engineering"] and c.basis and "第五十三条" in c.basis
    s = default.expert_suspension
    assert s is not None
    assert (s.window_days, s.single_points, s.total_points, s.suspend_days) == (365, 15, 25, 180)
    assert [(g.name, g.min, g.restricted, g.watch) for g in default.grade] == [
        ("A", 90, False, None), ("B", 75, False, None), ("C", 60, False, "关注"),
        ("D", 0, False, "重点关注")]


# ---------------------------------------------------------------------------
# Expert E
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "index", "grade"), [
    (D(2026, 1, 9), 100, "A"), (D(2026, 1, 10), 90, "A"), (D(2026, 3, 1), 70, "C"),
    (D(2026, 7, 9), 80, "B"), (D(2027, 3, 1), 100, "A"),
])
def test_expert_e_index(day: dt.date, index: float, grade: str) -> None:
    assert_both(E_ROWS, EXPERT_E, "expert", day, index, grade=grade)


@pytest.mark.parametrize(("day", "restricted"), [
    (D(2026, 1, 10), False), (D(2026, 2, 28), False), (D(2026, 3, 1), True),
    (D(2026, 6, 1), True), (D(2026, 8, 27), True), (D(2026, 8, 28), False),
])
def test_expert_e_suspension(day: dt.date, restricted: bool) -> None:
    assert ref.ref_restricted(E_ROWS, RULES, EXPERT_E, day) is restricted
    data = data_of(E_ROWS)
    assert engine_row(E_ROWS, EXPERT_E, "expert", day)["restricted"] is restricted
    answer = check(data, day, [EXPERT_E]).table.row(0, named=True)
    assert answer["eligible"] is (not restricted)


def test_expert_e_history_through_the_suspension() -> None:
    got = history(data_of(E_ROWS), EXPERT_E, D(2026, 8, 25), D(2026, 8, 30))
    assert got.get_column("restricted").to_list() == [True, True, True, False, False, False]
    assert got.get_column("index").to_list() == [80.0] * 6
    want = ref.ref_history(E_ROWS, RULES, EXPERT_E, "expert", D(2026, 8, 25), D(2026, 8, 30))
    assert [w[3] for w in want] == got.get_column("restricted").to_list()


# ---------------------------------------------------------------------------
# Bidder F
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "index", "grade", "watch"), [
    (D(2026, 1, 1), 80, "B", ""),
    (D(2026, 6, 1), 40, "D", "重点关注"),
    (D(2027, 1, 1), 60, "C", "关注"),
    (D(2027, 6, 1), 100, "A", ""),
])
def test_bidder_f_repeat(day: dt.date, index: float, grade: str, watch: str) -> None:
    """Grade D is a watch level: F is never restricted by its grade."""
    assert_both(F_ROWS, BIDDER_F, "bidder", day, index, grade=grade, restricted=False)
    assert engine_row(F_ROWS, BIDDER_F, "bidder", day)["watch"] == watch


@pytest.mark.parametrize(("day", "restricted"), [
    (D(2026, 5, 31), False), (D(2026, 6, 1), True), (D(2026, 12, 31), True),
    (D(2027, 1, 1), False)])
def test_bidder_f_with_a_restricted_grade(day: dt.date, restricted: bool) -> None:
    """With a rule set whose grade D is restricted (citing its basis), F is restricted in
    every category while in D."""
    assert_both(F_ROWS, BIDDER_F, "bidder", day, 100 if day < D(2026, 1, 1) else
                ref.ref_index(F_ROWS, RESTRICTED_D, BIDDER_F, "bidder", day),
                restricted=restricted, rules=RESTRICTED_D)
    for category in ("engineering", "procurement", "land", "property", "other"):
        got = compute(data_of(F_ROWS, RESTRICTED_D), day, category=category)
        assert got.row(0, named=True)["restricted"] is restricted


def test_bidder_f_deducted_and_explain() -> None:
    got = engine_row(F_ROWS, BIDDER_F, "bidder", D(2026, 6, 1))
    assert got["deducted"] == 60
    rows = explain(data_of(F_ROWS), BIDDER_F, D(2026, 6, 1))
    assert sorted(rows.get_column("points").to_list()) == [20.0, 40.0]
    by_id = {r["record_id"]: r for r in rows.iter_rows(named=True)}
    assert by_id["f1"]["expires_on"] == D(2027, 1, 1)
    assert by_id["f2"]["expires_on"] == D(2027, 6, 1)
    want = ref.ref_deductions(F_ROWS, RULES, BIDDER_F, "bidder", D(2026, 6, 1))
    assert sorted(d.points for d in want) == [20, 40]


# ---------------------------------------------------------------------------
# Bidder G: restricted everywhere
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "restricted"), [
    (D(2026, 1, 31), False), (D(2026, 2, 1), True), (D(2027, 6, 1), True),
    (D(2029, 1, 30), True), (D(2029, 1, 31), False),
])
def test_bidder_g_restricted_everywhere(day: dt.date, restricted: bool) -> None:
    # the record is from transport in 440106; the check is for a municipal project in
    # 440300: a restriction holds in every industry and region, so neither matters
    assert ref.ref_restricted(G_ROWS, RULES, BIDDER_G, day) is restricted
    data = data_of(G_ROWS)
    answer = check(data, day, [BIDDER_G]).table.row(0, named=True)
    assert answer["eligible"] is (not restricted)
    assert engine_row(G_ROWS, BIDDER_G, "bidder", day)["restricted"] is restricted


def test_bidder_g_index_while_restricted() -> None:
    assert_both(G_ROWS, BIDDER_G, "bidder", D(2027, 6, 1), 70, grade="C", restricted=True)
    assert_both(G_ROWS, BIDDER_G, "bidder", D(2029, 1, 31), 100, grade="A", restricted=False)


# ---------------------------------------------------------------------------
# Known-on
# ---------------------------------------------------------------------------


def test_late_recorded_record() -> None:
    day = D(2026, 2, 10)
    assert_both(LATE_ROWS, BIDDER_H, "bidder", day, 100, known=D(2026, 2, 10))
    assert_both(LATE_ROWS, BIDDER_H, "bidder", day, 80, known=D(2026, 2, 20))
    assert_both(LATE_ROWS, BIDDER_H, "bidder", day, 100)  # K defaults to D
    # history: as published on each day, or all as known on 2026-02-20
    data = data_of(LATE_ROWS)
    published = history(data, BIDDER_H, D(2026, 2, 1), D(2026, 2, 21))
    assert published.get_column("index").to_list() == [100.0] * 19 + [80.0, 80.0]
    revised = history(data, BIDDER_H, D(2026, 2, 1), D(2026, 2, 21), known_on=D(2026, 2, 20))
    assert revised.get_column("index").to_list() == [80.0] * 21
    assert explain(data, BIDDER_H, day).height == 0
    assert explain(data, BIDDER_H, day, known_on=D(2026, 2, 20)).height == 1


# ---------------------------------------------------------------------------
# Linear decay
# ---------------------------------------------------------------------------

LINEAR_RULES = parse_rules(DEFAULT_RULES.read_text(encoding="utf-8") + """
[[behaviour]]
code = "TEST-LINEAR"
name = "linear example"
subject_types = ["bidder"]
points = 20
days = 100
decay = "linear"
""")


def test_linear_decay() -> None:
    rows = [rec("l1", BIDDER_H, "bidder", "TEST-LINEAR", D(2026, 1, 1))]
    day = D(2026, 1, 26)  # 25 days after
    assert_both(rows, BIDDER_H, "bidder", day, 85, rules=LINEAR_RULES)
    got = explain(data_of(rows, LINEAR_RULES), BIDDER_H, day).row(0, named=True)
    assert got["points"] == 15
    assert got["expires_on"] == D(2026, 4, 11)
    assert ref.ref_deducted(rows, LINEAR_RULES, BIDDER_H, "bidder", day) == 15
    assert_both(rows, BIDDER_H, "bidder", D(2026, 4, 10), 99.8, rules=LINEAR_RULES)
    assert_both(rows, BIDDER_H, "bidder", D(2026, 4, 11), 100, rules=LINEAR_RULES)


# ---------------------------------------------------------------------------
# §4.5-4.8: grade, rank, roles, consortium
# ---------------------------------------------------------------------------


def test_rank_is_competition_ranking_within_a_type() -> None:
    a, b, c, d = (ref.make_uscc(n) for n in (11, 12, 13, 14))
    x = ref.make_rid(5)
    rows = [rec("r1", a, "bidder", "BID-FRAUD", D(2026, 1, 1)),
            rec("r2", b, "bidder", "BID-FRAUD", D(2026, 1, 2)),
            rec("r3", c, "bidder", "BID-COLLUSION", D(2026, 1, 3)),
            rec("r4", x, "expert", "LATE", D(2026, 1, 3)),
            rec("r5", d, "bidder", "BID-FRAUD", D(2020, 1, 1))]  # long expired: 100
    got = compute(data_of(rows), D(2026, 2, 1))
    ranks = {(r["subject_id"], r["subject_type"]): (r["index"], r["rank"])
             for r in got.iter_rows(named=True)}
    assert ranks == {(d, "bidder"): (100.0, 1), (a, "bidder"): (80.0, 2),
                     (b, "bidder"): (80.0, 2), (c, "bidder"): (70.0, 4),
                     (x, "expert"): (90.0, 1)}
    want = ref.ref_compute(rows, RULES, D(2026, 2, 1))
    assert {k: v["rank"] for k, v in want.items()} == {k: v[1] for k, v in ranks.items()}
    # 1, 1, 3
    rows2 = [rec("s1", a, "bidder", "BID-FRAUD", D(2026, 1, 1)),
             rec("s2", b, "bidder", "BID-FRAUD", D(2026, 1, 1)),
             rec("s3", c, "bidder", "BID-COLLUSION", D(2026, 1, 1))]
    got2 = compute(data_of(rows2), D(2026, 2, 1)).sort("subject_id")
    assert dict(zip(got2["subject_id"], got2["rank"], strict=True)) == {a: 1, b: 1, c: 3}


@pytest.mark.parametrize(("index", "grade"), [
    (100, "A"), (90, "A"), (89.99, "B"), (75, "B"), (74.99, "C"), (60, "C"), (59.99, "D"),
    (0, "D"),
])
def test_grade_is_the_first_whose_min_is_reached(index: float, grade: str) -> None:
    assert ref.grade_of(RULES, ref.frac(index)).name == grade
    assert RULES.grade_of(index).name == grade


def test_grade_comes_from_the_rounded_index() -> None:
    # 10.005 deducted: 89.995 rounds (half away from zero) to 90.00, grade A
    rules = parse_rules(DEFAULT_RULES.read_text(encoding="utf-8") + """
[[behaviour]]
code = "TEST-HALF"
name = "half a cent"
subject_types = ["bidder"]
points = 10.005
days = 10
""")
    rows = [rec("h1", BIDDER_H, "bidder", "TEST-HALF", D(2026, 1, 1))]
    assert_both(rows, BIDDER_H, "bidder", D(2026, 1, 1), 90, grade="A", rules=rules)
    assert engine_row(rows, BIDDER_H, "bidder", D(2026, 1, 1), rules=rules)["deducted"] == (
        pytest.approx(10.01))


def test_floor_and_deducted_before_the_floor() -> None:
    rows = [rec(f"c{i}", BIDDER_H, "bidder", "BID-COLLUSION", D(2026, 1, 1) + dt.timedelta(i))
            for i in range(4)]
    got = engine_row(rows, BIDDER_H, "bidder", D(2026, 2, 1))
    assert (got["index"], got["deducted"], got["grade"]) == (0.0, 120.0, "D")
    assert ref.ref_deducted(rows, RULES, BIDDER_H, "bidder", D(2026, 2, 1)) == 120
    assert_both(rows, BIDDER_H, "bidder", D(2026, 2, 1), 0, grade="D", restricted=True)


def test_a_firm_with_two_roles_has_two_indices_and_one_restriction() -> None:
    firm = ref.make_uscc(21)
    rows = [rec("b1", firm, "bidder", "BID-COLLUSION", D(2026, 1, 1)),
            rec("a1", firm, "agent", "AGT-PROCEDURE", D(2026, 2, 1))]
    day = D(2026, 3, 1)
    got = compute(data_of(rows), day).filter(pl.col("subject_id") == firm).sort("subject_type")
    assert got.get_column("subject_type").to_list() == ["agent", "bidder"]
    assert got.get_column("index").to_list() == [90.0, 70.0]
    assert got.get_column("restricted").to_list() == [True, True]  # restricted as agent too
    assert ref.ref_index(rows, RULES, firm, "agent", day) == 90
    assert ref.ref_index(rows, RULES, firm, "bidder", day) == 70
    assert ref.ref_restricted(rows, RULES, firm, day)
    data = data_of(rows)
    for stype, index in (("agent", 90.0), ("bidder", 70.0), (None, 70.0)):
        answer = check(data, day, [firm], subject_type=stype).table.row(0, named=True)
        assert answer["eligible"] is False
        assert answer["index"] == index


def test_a_restricted_grade_in_one_role_restricts_the_other() -> None:
    firm = ref.make_uscc(22)
    rows = [rec("b1", firm, "bidder", "BID-FRAUD", D(2026, 1, 1)),
            rec("b2", firm, "bidder", "BID-FRAUD", D(2026, 6, 1)),   # bidder: 40, grade D
            rec("a1", firm, "agent", "AGT-PROCEDURE", D(2026, 6, 1))]  # agent: 90, grade A
    day = D(2026, 6, 2)
    got = compute(data_of(rows, RESTRICTED_D), day).filter(pl.col("subject_id") == firm
                                                           ).sort("subject_type")
    assert got.select("subject_type", "grade", "restricted").rows() == [
        ("agent", "A", True), ("bidder", "D", True)]
    answer = check(data_of(rows, RESTRICTED_D), day, [firm], subject_type="agent"
                   ).table.row(0, named=True)
    assert (answer["eligible"], answer["index"], answer["grade"]) == (False, 90.0, "A")
    assert ref.ref_restricted(rows, RESTRICTED_D, firm, day)
    # with the default's watch levels, neither role is restricted
    assert not compute(data_of(rows), day).get_column("restricted").any()


def test_consortium() -> None:
    clean = ref.make_uscc(31)
    rows = [*G_ROWS, *F_ROWS, rec("c1", clean, "bidder", "GEN-OBSTRUCT", D(2020, 1, 1))]
    data = data_of(rows)
    day = D(2026, 3, 1)  # G restricted (collusion, 70); F 80; clean 100
    one = check(data, day, [clean, BIDDER_F], consortium=True).table
    assert one.height == 1
    row = one.row(0, named=True)
    assert (row["eligible"], row["index"]) == (True, 80.0)
    assert ref.ref_consortium(rows, RULES, [clean, BIDDER_F], day) == (False, 80)
    row = check(data, day, [clean, BIDDER_F, BIDDER_G], consortium=True).table.row(0, named=True)
    assert (row["eligible"], row["index"], row["grade"]) == (False, 70.0, "C")
    assert ref.ref_consortium(rows, RULES, [clean, BIDDER_F, BIDDER_G], day) == (True, 70)
    # a member without any record: full marks, and it does not help the others
    nobody = ref.make_uscc(32)
    row = check(data, day, [nobody, BIDDER_G], consortium=True).table.row(0, named=True)
    assert (row["eligible"], row["index"]) == (False, 70.0)


def test_check_without_records_is_full_marks_and_eligible() -> None:
    nobody = ref.make_uscc(33)
    row = check(data_of(F_ROWS), D(2026, 6, 1), [nobody]).table.row(0, named=True)
    assert (row["subject_id"], row["eligible"], row["index"], row["grade"]) == (
        nobody, True, 100.0, "A")


# ---------------------------------------------------------------------------
# §5 the command line, on the same examples
# ---------------------------------------------------------------------------

COLUMNS = ["record_id", "source", "industry", "region", "subject_id", "subject_name",
           "subject_type", "behaviour_code", "decided_on", "recorded_on", "document_no",
           "revoked_on", "repaired_on"]


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    lines = [",".join(COLUMNS)]
    for r in rows:
        lines.append(",".join("" if r.get(c) is None else str(r[c]) for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def records_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "records.csv", [*E_ROWS, *F_ROWS, *G_ROWS, *LATE_ROWS])


def run(*args: str):  # type: ignore[no-untyped-def]
    """The command line with the examples' rule set (unless ``--rules`` is given)."""
    argv = [str(a) for a in args]
    if argv[0] in ("compute", "history", "explain", "check", "pool") and "--rules" not in argv:
        argv[1:1] = ["--rules", example_rules_file(_RULES_DIR)]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


_RULES_DIR = Path(__import__("tempfile").mkdtemp(prefix="ci-example-rules-"))


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_cli_compute(records_csv: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"scores{suffix}"
    result = run("compute", "--records", records_csv, "--on", "2026-06-01", "--out", out)
    assert result.exit_code == 0, result.output
    if suffix == ".csv":
        frame = pl.read_csv(out)
    elif suffix == ".parquet":
        frame = pl.read_parquet(out)
    else:
        frame = pl.DataFrame(json.loads(out.read_text(encoding="utf-8")))
    assert frame.columns == ["subject_id", "subject_type", "subject_name", "index", "grade",
                             "watch", "rank", "deducted", "restricted", "restricted_in",
                             "reasons"]
    got = {(r["subject_id"], r["subject_type"]): (r["index"], r["grade"], r["restricted"])
           for r in frame.iter_rows(named=True)}
    assert got == {
        (EXPERT_E, "expert"): (70.0, "C", True),
        (BIDDER_F, "bidder"): (40.0, "D", False),
        (BIDDER_G, "bidder"): (70.0, "C", True),
        (BIDDER_H, "bidder"): (80.0, "B", False),
    }
    bidder_ranks = {r["subject_id"]: r["rank"] for r in frame.iter_rows(named=True)
                    if r["subject_type"] == "bidder"}
    assert bidder_ranks == {BIDDER_H: 1, BIDDER_G: 2, BIDDER_F: 3}


def test_cli_compute_known_on(records_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "k.csv"
    for known, index in (("2026-02-10", 100.0), ("2026-02-20", 80.0)):
        result = run("compute", "--records", records_csv, "--on", "2026-02-10",
                     "--known-on", known, "--out", out)
        assert result.exit_code == 0, result.output
        frame = pl.read_csv(out, schema_overrides={"subject_id": pl.String})
        row = frame.filter(pl.col("subject_id") == BIDDER_H).row(0, named=True)
        assert row["index"] == index


def test_cli_compute_table_on_stdout(records_csv: Path) -> None:
    result = run("compute", "--records", records_csv, "--on", "2026-06-01")
    assert result.exit_code == 0, result.output
    assert BIDDER_F in result.stdout


def test_cli_history(records_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "h.csv"
    result = run("history", "--records", records_csv, "--subject", EXPERT_E, "--type", "expert",
                 "--from", "2026-08-26", "--to", "2026-08-29", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, try_parse_dates=True)
    assert frame.columns == ["date", "index", "grade", "restricted"]
    assert frame.rows() == [(D(2026, 8, 26), 80.0, "B", True), (D(2026, 8, 27), 80.0, "B", True),
                            (D(2026, 8, 28), 80.0, "B", False),
                            (D(2026, 8, 29), 80.0, "B", False)]
    # without --known-on each day as known then; with it, as known on K
    result = run("history", "--records", records_csv, "--subject", BIDDER_H, "--from",
                 "2026-02-18", "--to", "2026-02-21", "--out", out)
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).get_column("index").to_list() == [100.0, 100.0, 80.0, 80.0]
    result = run("history", "--records", records_csv, "--subject", BIDDER_H, "--from",
                 "2026-02-18", "--to", "2026-02-21", "--known-on", "2026-02-20", "--out", out)
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).get_column("index").to_list() == [80.0] * 4


def test_cli_explain(records_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = run("explain", "--records", records_csv, "--subject", BIDDER_F, "--on",
                 "2026-06-01", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, try_parse_dates=True)
    assert frame.columns[:9] == ["record_id", "source", "industry", "region", "behaviour_code",
                                 "points", "decided_on", "expires_on", "document_no"]
    assert sorted(frame.select("record_id", "points", "expires_on").rows()) == [
        ("f1", 20.0, D(2027, 1, 1)), ("f2", 40.0, D(2027, 6, 1))]
    result = run("explain", "--records", records_csv, "--subject", BIDDER_F, "--on",
                 "2026-06-01")
    assert result.exit_code == 0, result.output
    assert "BID-FRAUD" in result.stdout


def test_cli_check_exit_zero_when_ineligible(records_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    clean = ref.make_uscc(40)
    result = run("check", "--records", records_csv, "--on", "2027-06-01", "--subjects",
                 f"{BIDDER_G},{clean}", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns == ["subject_id", "subject_name", "eligible", "index", "grade",
                             "watch", "restricted_in", "reasons"]
    got = {r["subject_id"]: (r["eligible"], r["index"]) for r in frame.iter_rows(named=True)}
    assert got == {BIDDER_G: (False, 70.0), clean: (True, 100.0)}
    result = run("check", "--records", records_csv, "--on", "2026-03-01", "--subjects",
                 f"{BIDDER_G},{clean}", "--consortium", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.height == 1
    assert frame.row(0, named=True)["eligible"] is False
    result = run("check", "--records", records_csv, "--on", "2026-03-01", "--subjects",
                 EXPERT_E)
    assert result.exit_code == 0, result.output


def test_cli_validate_rules(tmp_path: Path) -> None:
    result = run("validate-rules", DEFAULT_RULES)
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[ruleset]\nname = "x"\nversion = "1"\nbase = 100\nfloor = 0\n'
                   '[[grade]]\nname = "A"\nmin = 0\n'
                   '[[behaviour]]\ncode = "X"\nname = "x"\nsubject_types = ["bidder"]\n'
                   'points = -1\ndays = 10\n', encoding="utf-8")
    result = run("validate-rules", bad)
    assert result.exit_code == 2
    assert "bad.toml" in result.stderr
    assert "points" in result.stderr


def test_cli_bad_records(tmp_path: Path) -> None:
    rows = [*F_ROWS,
            rec("x1", BIDDER_F[:-1] + ("0" if BIDDER_F[-1] != "0" else "1"), "bidder",
                "BID-FRAUD", D(2026, 1, 1)),                       # row 4: bad check char
            rec("x2", BIDDER_G, "bidder", "NO-SUCH-CODE", D(2026, 1, 1))]  # row 5
    bad = write_csv(tmp_path / "bad.csv", rows)
    out = tmp_path / "never.csv"
    result = run("compute", "--records", bad, "--on", "2026-06-01", "--out", out)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2, result.stderr
    assert all("bad.csv" in line for line in lines)
    assert "row 4" in lines[0] and "subject_id" in lines[0]
    assert "row 5" in lines[1] and "behaviour_code" in lines[1]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "bad.csv"] == []


def test_cli_compute_subjects_without_records(records_csv: Path, tmp_path: Path) -> None:
    nobody, expert = ref.make_uscc(50), ref.make_rid(50)
    subjects = tmp_path / "subjects.csv"
    subjects.write_text("subject_id,subject_type,subject_name\n"
                        f"{nobody},bidder,无记录公司\n{expert},expert,李四\n", encoding="utf-8")
    out = tmp_path / "all.csv"
    result = run("compute", "--records", records_csv, "--on", "2026-06-01", "--subjects",
                 subjects, "--out", out)
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.height == 6
    added = frame.filter(pl.col("subject_id").is_in([nobody, expert])).sort("subject_type")
    assert added.select("subject_type", "index", "grade", "restricted").rows() == [
        ("bidder", 100.0, "A", False), ("expert", 100.0, "A", False)]
    # ranks are over the whole set: the new bidder at full marks is first
    assert added.get_column("rank").to_list() == [1, 1]


# ---------------------------------------------------------------------------
# §7 precisions, one by one (engine and reference)
# ---------------------------------------------------------------------------

PRECISION_RULES = parse_rules(DEFAULT_RULES.read_text(encoding="utf-8") + """
[[behaviour]]
code = "TEST-REPEAT"
name = "repeat example"
subject_types = ["bidder"]
points = 10
days = 100
repeat_within_days = 30
repeat_factor = 2.0
min_publish_days = 5
restrict_days = 50
basis = "《招标投标法》第五十三条"
""")
X = ref.make_uscc(60)
EXP = ref.make_rid(60)


def both_index(rows, sid, stype, day, known=None, rules=PRECISION_RULES) -> float:  # type: ignore[no-untyped-def]
    want = ref.ref_index(rows, rules, sid, stype, day, known)
    got = engine_row(rows, sid, stype, day, known, rules)
    assert got["index"] == pytest.approx(float(want), abs=1e-9)
    assert got["restricted"] == ref.ref_restricted(rows, rules, sid, day, known)
    return float(want)


def copy_of(row: dict[str, object], **changes: object) -> dict[str, object]:
    new = dict(row)
    new.update(changes)
    return new


LATE_E = rec("p1", EXP, "expert", "LATE", D(2026, 1, 1), source="A",
             recorded_on=D(2026, 1, 5), document_no="穗评罚〔2026〕1号")


@pytest.mark.parametrize(("rows", "index"), [
    # two sources, same act: deducts once
    ([LATE_E, copy_of(LATE_E, record_id="q1", source="B", recorded_on=D(2026, 1, 3))], 90),
    # the copy recorded first represents it: its repair ends the deduction
    ([LATE_E, copy_of(LATE_E, record_id="q1", source="B", recorded_on=D(2026, 1, 3),
                      repaired_on=D(2026, 1, 20))], 100),
    # a later copy's repair does not
    ([copy_of(LATE_E, repaired_on=D(2026, 1, 20)),
      copy_of(LATE_E, record_id="q1", source="B", recorded_on=D(2026, 1, 3))], 90),
    # recorded the same day: the source decides (A before B)
    ([copy_of(LATE_E, recorded_on=D(2026, 1, 3), repaired_on=D(2026, 1, 20)),
      copy_of(LATE_E, record_id="q1", source="B", recorded_on=D(2026, 1, 3))], 100),
    # a revoked copy does not represent the act: the other one counts
    ([copy_of(LATE_E, repaired_on=D(2026, 1, 20)),
      copy_of(LATE_E, record_id="q1", source="B", recorded_on=D(2026, 1, 3),
              revoked_on=D(2026, 1, 15))], 100),
    ([LATE_E, copy_of(LATE_E, record_id="q1", source="B", recorded_on=D(2026, 1, 3),
                      revoked_on=D(2026, 1, 15))], 90),
    # without a document number two records are two acts
    ([copy_of(LATE_E, document_no=None),
      copy_of(LATE_E, record_id="q1", source="B", document_no=None)], 80),
    ([copy_of(LATE_E, document_no=""),
      copy_of(LATE_E, record_id="q1", source="B", document_no="")], 80),
    # different document numbers: two acts
    ([LATE_E, copy_of(LATE_E, record_id="q1", source="B", document_no="other")], 80),
])
def test_cross_source_copies(rows: list[dict[str, object]], index: float) -> None:
    assert both_index(rows, EXP, "expert", D(2026, 2, 1)) == index


def _rep(rid: str, decided: dt.date, **extra: object) -> dict[str, object]:
    return rec(rid, X, "bidder", "TEST-REPEAT", decided, **extra)


@pytest.mark.parametrize(("rows", "day", "known", "index"), [
    # the same day is not earlier
    ([_rep("a", D(2026, 1, 1)), _rep("b", D(2026, 1, 1))], D(2026, 1, 1), None, 80),
    # 1 day before and 30 days before escalate; 31 days do not
    ([_rep("a", D(2026, 1, 1)), _rep("b", D(2026, 1, 2))], D(2026, 1, 2), None, 70),
    ([_rep("a", D(2026, 1, 1)), _rep("b", D(2026, 1, 31))], D(2026, 1, 31), None, 70),
    ([_rep("a", D(2026, 1, 1)), _rep("b", D(2026, 2, 1))], D(2026, 2, 1), None, 80),
    # the factor applies once: no compounding
    ([_rep("a", D(2026, 1, 1)), _rep("b", D(2026, 1, 11)), _rep("c", D(2026, 1, 21))],
     D(2026, 1, 21), None, 50),
    # a repair (of the earlier one) does not undo the escalation
    ([_rep("a", D(2026, 1, 1), repaired_on=D(2026, 1, 3)), _rep("b", D(2026, 1, 11))],
     D(2026, 1, 11), None, 80),
    # a revoked earlier record does not escalate (known revoked) ...
    ([_rep("a", D(2026, 1, 1), revoked_on=D(2026, 1, 5)), _rep("b", D(2026, 1, 11))],
     D(2026, 1, 11), None, 90),
    # ... but does while the revocation is not yet known
    ([_rep("a", D(2026, 1, 1), revoked_on=D(2026, 1, 15)), _rep("b", D(2026, 1, 11))],
     D(2026, 1, 11), None, 70),
    # an earlier record not yet recorded does not escalate
    ([_rep("a", D(2026, 1, 1), recorded_on=D(2026, 1, 20)), _rep("b", D(2026, 1, 11))],
     D(2026, 1, 11), None, 90),
    ([_rep("a", D(2026, 1, 1), recorded_on=D(2026, 1, 20)), _rep("b", D(2026, 1, 11))],
     D(2026, 1, 11), D(2026, 1, 20), 70),
    # an expired earlier record still escalates (decided within 30 days)
    ([_rep("a", D(2026, 1, 1), repaired_on=D(2026, 1, 1)), _rep("b", D(2026, 1, 20))],
     D(2026, 1, 20), None, 80),
])
def test_repeat_escalation(rows, day, known, index) -> None:  # type: ignore[no-untyped-def]
    assert both_index(rows, X, "bidder", day, known) == index


@pytest.mark.parametrize(("repaired", "known", "day", "index", "restricted"), [
    # a repair takes effect from max(repaired_on, decided_on + min_publish_days = 01-06)
    (D(2026, 1, 3), None, D(2026, 1, 5), 90, True),
    (D(2026, 1, 3), None, D(2026, 1, 6), 100, False),
    (D(2026, 1, 10), None, D(2026, 1, 9), 90, True),
    (D(2026, 1, 10), None, D(2026, 1, 10), 100, False),
    # not yet known: no effect
    (D(2026, 1, 10), D(2026, 1, 9), D(2026, 1, 12), 90, True),
    # known later, it applies to earlier days too (as known on K)
    (D(2026, 1, 10), D(2026, 1, 30), D(2026, 1, 12), 100, False),
])
def test_repair(repaired, known, day, index, restricted) -> None:  # type: ignore[no-untyped-def]
    rows = [_rep("a", D(2026, 1, 1), repaired_on=repaired)]
    assert both_index(rows, X, "bidder", day, known) == index
    assert ref.ref_restricted(rows, PRECISION_RULES, X, day, known) is restricted


@pytest.mark.parametrize(("known", "day", "index"), [
    (D(2026, 1, 9), D(2026, 1, 5), 90),    # revocation not known yet
    (D(2026, 1, 10), D(2026, 1, 5), 100),  # known revoked: never counted, on any day
    (None, D(2026, 1, 9), 90),
    (None, D(2026, 1, 10), 100),
])
def test_revocation(known, day, index) -> None:  # type: ignore[no-untyped-def]
    rows = [_rep("a", D(2026, 1, 1), revoked_on=D(2026, 1, 10))]
    assert both_index(rows, X, "bidder", day, known) == index


def _late(rid: str, decided: dt.date, **extra: object) -> dict[str, object]:
    return rec(rid, EXP, "expert", "LATE", decided, **extra)


@pytest.mark.parametrize(("rows", "day", "restricted"), [
    # 3 x 10 within 365 days (the window ending on the third decision) reaches 25
    ([_late("a", D(2026, 1, 1)), _late("b", D(2026, 6, 1)), _late("c", D(2026, 12, 31))],
     D(2026, 12, 31), True),
    ([_late("a", D(2026, 1, 1)), _late("b", D(2026, 6, 1)), _late("c", D(2026, 12, 31))],
     D(2027, 6, 28), True),   # 12-31 + 180 days = 2027-06-29, the first free day
    ([_late("a", D(2026, 1, 1)), _late("b", D(2026, 6, 1)), _late("c", D(2026, 12, 31))],
     D(2027, 6, 29), False),
    ([_late("a", D(2026, 1, 1)), _late("b", D(2026, 6, 1)), _late("c", D(2026, 12, 31))],
     D(2026, 12, 30), False),
    # 365 days before is outside the window (d - 365, d]
    ([_late("a", D(2026, 1, 1)), _late("b", D(2026, 6, 1)), _late("c", D(2027, 1, 1))],
     D(2027, 1, 1), False),
    # revoked records do not count
    ([_late("a", D(2026, 1, 1)), _late("b", D(2026, 6, 1), revoked_on=D(2026, 7, 1)),
      _late("c", D(2026, 12, 31))], D(2026, 12, 31), False),
    # a repair does not shorten a suspension (and repaired records still count)
    ([_late("a", D(2026, 1, 1), repaired_on=D(2026, 1, 2)), _late("b", D(2026, 6, 1)),
      _late("c", D(2026, 12, 31), repaired_on=D(2026, 12, 31))], D(2027, 6, 1), True),
])
def test_expert_suspension_window(rows, day, restricted) -> None:  # type: ignore[no-untyped-def]
    assert ref.ref_restricted(rows, RULES, EXP, day) is restricted
    assert engine_row(rows, EXP, "expert", day)["restricted"] is restricted
    assert check(data_of(rows), day, [EXP]).table.row(0, named=True)["eligible"] is (
        not restricted)
