"""External list entries: name normalisation, matching, reading canonical list files."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest

from creditindex.errors import InputError
from creditindex.identifiers import uscc_check_char
from creditindex.lists import (
    LIST_SCHEMA,
    MATCH_SCHEMA,
    active_hits,
    entries_frame,
    match_entries,
    normalise_country,
    normalise_name,
    normalise_name_expr,
    normalise_names,
    read_list_entries,
)

D = dt.date


def uscc(seed: int) -> str:
    """A valid unified social credit code."""
    body = f"91440106{seed:09d}"
    return body + uscc_check_char(body)


FIRM_A, FIRM_B, FIRM_C = uscc(1), uscc(2), uscc(3)


# ---------------------------------------------------------------- normalisation

@pytest.mark.parametrize(("a", "b"), [
    ("China CAMC Engineering Co., Ltd.", "CHINA CAMC ENGINEERING COMPANY LIMITED"),
    ("Acme Co.,Ltd", "ACME CO LTD"),
    ("Acme Co.Ltd.", "acme"),
    ("Acme Corp.", "Acme Corporation"),
    ("Acme, Inc.", "ACME INCORPORATED"),
    ("Acme LLC", "Acme L.L.C."),
    ("Acme GmbH", "acme"),
    ("Acme S.A.", "ACME SA"),
    ("Nishan Engineers (Pvt) Limited", "NISHAN ENGINEERS PVT. LTD."),
    ("Road & Bridge Co.", "Road and Bridge Company"),
    ("XI'AN JIAXIANG CO. LTD.", "Xian Jiaxiang"),
    ("MR. PEDRO CÉSAR LAZO MONTEJO", "Pedro Cesar Lazo Montejo"),
    ("Straße Bau GmbH", "STRASSE BAU"),
    ("河北建设集团股份有限公司", "河北建设集团"),
    ("贵州天泽建筑工程有限责任公司", "贵州天泽建筑工程有限公司"),
    ("河北绿建投资股份公司", "河北绿建投资"),
    ("ＡＢＣ（北京）科技有限公司", "ABC(北京)科技有限公司"),
    ("方正国际软件（北京）有限公司", "方正国际软件 (北京) 有限公司"),
    ("河南省地矿建设工程（集团）有限公司", "河南省地矿建设工程(集团)有限公司"),
    ("  Hebei   Construction\tGroup  ", "hebei construction group"),
    ("Ｈｅｂｅｉ　Ｃｏｎｓｔｒｕｃｔｉｏｎ", "hebei construction"),
])
def test_names_that_normalise_equal(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


@pytest.mark.parametrize(("a", "b"), [
    ("湖南建设集团有限公司", "湖南建设有限公司"),               # 集团 is kept
    ("Hunan Construction Group Co., Ltd.", "Hunan Construction Co., Ltd."),
    ("河北建设集团股份有限公司", "河北建设集团股份有限公司邯郸分公司"),  # a branch
    ("Acme Holdings Ltd", "Acme Ltd"),
])
def test_names_that_stay_different(a: str, b: str) -> None:
    assert normalise_name(a) != normalise_name(b)


@pytest.mark.parametrize(("name", "expected"), [
    ("HEBEI CONSTRUCTION GROUP CORPORATION LIMITED", "hebei construction group"),
    ("河北建设集团股份有限公司邯郸分公司", "河北建设集团邯郸分公司"),
    ("ABC (北京) 有限公司", "abc北京"),
    ("Mr. Li Yi", "li yi"),
    ("M/S RKD CONSTRUCTION PVT. LTD.", "rkd construction"),
    ("Co., Ltd.", ""),
    ("", ""),
])
def test_normalised_forms(name: str, expected: str) -> None:
    assert normalise_name(name) == expected


def test_fast_path_agrees_with_the_expression() -> None:
    names = ["HEBEI CONSTRUCTION GROUP CO., LTD.", "Road & Bridge (Pvt) Ltd.", "Mr. X",
             "河北建设集团股份有限公司", "Công ty Việt Nam JSC", "ＡＢＣ Co.", "a.k.a. Foo-Bar",
             "O'Neil & Sons, Inc.", "S.A.", "  ", "ß GmbH"]
    fast = normalise_names(pl.Series(names)).sort("name")
    full = pl.DataFrame({"name": names}).unique().with_columns(
        normalise_name_expr(pl.col("name")).alias("key")).sort("name")
    assert fast.to_dicts() == full.to_dicts()


@pytest.mark.parametrize("country", ["China", "CN", "chn", "中国", "People's Republic of China",
                                     "PEOPLES REPUBLIC OF CHINA", "中华人民共和国", " china "])
def test_china_in_any_spelling(country: str) -> None:
    assert normalise_country(country) == "cn"


def test_hong_kong_and_taiwan_are_not_the_mainland() -> None:
    assert normalise_country("Hong Kong SAR, China") != "cn"
    assert normalise_country("Taiwan, China") != "cn"
    assert normalise_country(None) is None
    assert normalise_country("Viet Nam") == normalise_country("VIET  NAM")


# ---------------------------------------------------------------- matching

def entry(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"list": "test", "listed_on": D(2025, 1, 1)}
    base.update(kw)
    return base


def subjects(*rows: tuple[str, str] | tuple[str, str, str | None]) -> pl.DataFrame:
    if any(len(r) == 3 for r in rows):
        return pl.DataFrame([(*r, None)[:3] for r in rows], orient="row",
                            schema={"subject_id": pl.String, "subject_name": pl.String,
                                    "country": pl.String})
    return pl.DataFrame(rows, orient="row",
                        schema={"subject_id": pl.String, "subject_name": pl.String})


def test_match_by_subject_id_is_case_insensitive() -> None:
    ents = entries_frame([entry(entry_id="e1", subject_id=FIRM_A.lower(), name="Whatever")])
    hits = match_entries(ents, subjects((FIRM_A, "广州示例有限公司")))
    assert hits.select("subject_id", "entry_id", "matched_by", "matched_name").rows() == [
        (FIRM_A, "e1", "subject_id", "Whatever")]
    assert hits.schema == pl.Schema(MATCH_SCHEMA)


def test_an_entry_with_a_subject_id_does_not_match_by_name() -> None:
    ents = entries_frame([entry(entry_id="e1", subject_id=FIRM_B, name="广州示例有限公司")])
    assert match_entries(ents, subjects((FIRM_A, "广州示例有限公司"))).height == 0


def test_match_by_name_reports_the_alias_that_matched() -> None:
    ents = entries_frame([entry(entry_id="e1",
                                name="GUANGZHOU EXAMPLE CO., LTD.|广州示例股份有限公司")])
    hits = match_entries(ents, subjects((FIRM_A, "广州示例股份有限公司"),
                                        (FIRM_B, "Guangzhou Example Company Limited")))
    assert hits.select("subject_id", "matched_by", "matched_name").rows() == [
        (FIRM_A, "name", "广州示例股份有限公司"),
        (FIRM_B, "name", "GUANGZHOU EXAMPLE CO., LTD."),
    ]


def test_one_hit_per_subject_and_entry_with_the_first_alias() -> None:
    ents = entries_frame([entry(entry_id="e1", name="Acme Ltd|ACME LIMITED|Acme Co")])
    hits = match_entries(ents, subjects((FIRM_A, "Acme"), (FIRM_A, "ACME Ltd.")))
    assert hits.select("subject_id", "matched_name").rows() == [(FIRM_A, "Acme Ltd")]


def test_any_name_of_a_subject_matches() -> None:
    ents = entries_frame([entry(entry_id="e1", name="旧名称建设有限公司")])
    hits = match_entries(ents, subjects((FIRM_A, "新名称建设有限公司"),
                                        (FIRM_A, "旧名称建设有限公司")))
    assert hits.get_column("subject_id").to_list() == [FIRM_A]


def test_country_rules() -> None:
    ents = entries_frame([
        entry(entry_id="cn", name="Acme", country="People's Republic of China"),
        entry(entry_id="vn", name="Acme", country="Viet Nam"),
        entry(entry_id="hk", name="Acme", country="Hong Kong SAR, China"),
        entry(entry_id="any", name="Acme"),
    ])
    subj = subjects((FIRM_A, "Acme Co., Ltd.", None), (FIRM_B, "ACME", "CN"),
                    (FIRM_C, "Acme Ltd", "Viet Nam"))
    hits = {(s, e) for s, e in match_entries(ents, subj).select("subject_id", "entry_id").rows()}
    assert hits == {(FIRM_A, "cn"), (FIRM_A, "any"), (FIRM_B, "cn"), (FIRM_B, "any"),
                    (FIRM_C, "vn"), (FIRM_C, "any")}


def test_subjects_without_a_country_column_are_in_china() -> None:
    ents = entries_frame([entry(entry_id="cn", name="Acme", country="中国"),
                          entry(entry_id="us", name="Acme", country="United States")])
    hits = match_entries(ents, subjects((FIRM_A, "ACME INC.")))
    assert hits.get_column("entry_id").to_list() == ["cn"]


def test_names_made_only_of_legal_forms_match_nothing() -> None:
    ents = entries_frame([entry(entry_id="e1", name="Co., Ltd.|有限公司")])
    assert match_entries(ents, subjects((FIRM_A, "Company Limited"), (FIRM_B, "有限公司"))
                         ).height == 0


def test_no_entries_or_no_subjects() -> None:
    assert match_entries(entries_frame([]), subjects((FIRM_A, "x"))).height == 0
    ents = entries_frame([entry(entry_id="e1", name="x")])
    assert match_entries(ents, subjects()).height == 0


def test_active_on_both_ends_inclusive() -> None:
    ents = entries_frame([entry(entry_id="e1", name="Acme", listed_on=D(2025, 1, 10),
                                until=D(2025, 3, 31)),
                          entry(entry_id="e2", name="Beta", listed_on=D(2025, 1, 10))])
    hits = match_entries(ents, subjects((FIRM_A, "acme"), (FIRM_B, "beta")))

    def active(day: dt.date) -> set[str]:
        return set(active_hits(hits, day).get_column("subject_id"))

    assert active(D(2025, 1, 9)) == set()
    assert active(D(2025, 1, 10)) == {FIRM_A, FIRM_B}
    assert active(D(2025, 3, 31)) == {FIRM_A, FIRM_B}
    assert active(D(2025, 4, 1)) == {FIRM_B}
    assert active(D(2099, 1, 1)) == {FIRM_B}


def test_matching_100k_entries_against_10k_subjects_finds_every_alias() -> None:
    # Timing belongs to bench/, not here: this checks the answer at a realistic size.
    rnd = random.Random(7)
    words = ["hebei", "road", "bridge", "water", "power", "tianjin", "huaxin", "lugang"]
    n = 100_000
    names = [f"{rnd.choice(words)} {rnd.choice(words)} {i} Co., Ltd.|测试{i}有限公司"
             for i in range(n)]
    ents = pl.DataFrame({"list": ["big"] * n, "entry_id": [str(i) for i in range(n)],
                         "name": names, "listed_on": [D(2025, 1, 1)] * n})
    subj = pl.DataFrame({"subject_id": [f"S{i}" for i in range(10_000)],
                         "subject_name": [f"测试{i * 10}有限公司" for i in range(10_000)]})
    hits = match_entries(ents, subj)
    assert hits.height == 10_000
    assert sorted(hits.get_column("entry_id").cast(pl.Int64).to_list()) == [
        i * 10 for i in range(10_000)]


# ---------------------------------------------------------------- canonical list files

def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_read_a_canonical_list(tmp_path: Path) -> None:
    f = write(tmp_path / "lists.csv",
              "list,entry_id,subject_id,name,country,listed_on,until,grounds\n"
              f"court,c1,{FIRM_A},,,2025-01-01,2025-06-30,拒不履行\n"
              "worldbank,w1,,ACME LTD|艾克米有限公司,China,2024/08/22,Ongoing,Fraud\n"
              "worldbank,w2,,Beta,,20240101,,\n")
    got = read_list_entries([f])
    assert got.schema == pl.Schema(LIST_SCHEMA)
    assert got.select("entry_id", "listed_on", "until").rows() == [
        ("c1", D(2025, 1, 1), D(2025, 6, 30)),
        ("w1", D(2024, 8, 22), None),
        ("w2", D(2024, 1, 1), None),
    ]


def test_gbk_list_without_optional_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "court.csv", "list,name,listed_on\n法院,某某建设有限公司,2025年3月5日\n",
              "gbk")
    got = read_list_entries([f])
    assert got.get_column("name").to_list() == ["某某建设有限公司"]
    assert got.get_column("entry_id").null_count() == 0
    assert got.get_column("until").to_list() == [None]


def test_generated_entry_ids_are_stable(tmp_path: Path) -> None:
    text = "list,name,country,listed_on\nwb,Acme,China,2025-01-01\nwb,Acme,China,2025-01-01\n"
    first = read_list_entries([write(tmp_path / "a.csv", text)])
    again = read_list_entries([write(tmp_path / "b.csv", text)])
    ids = first.get_column("entry_id").to_list()
    assert ids == again.get_column("entry_id").to_list()
    assert ids[1] == ids[0] + "-2"


def test_list_defaults_to_the_file_name_and_other_columns_are_ignored(tmp_path: Path) -> None:
    f = write(tmp_path / "tax_violators.csv",
              f"subject_id,listed_on,until,address\n{FIRM_A},2025-01-01,,某地\n")
    got = read_list_entries([f])
    assert got.get_column("list").to_list() == ["tax_violators"]
    assert "address" not in got.columns


def test_excel_list(tmp_path: Path) -> None:
    path = tmp_path / "lists.xlsx"
    pl.DataFrame({"list": ["gp"], "subject_id": [FIRM_A], "listed_on": [D(2025, 2, 1)],
                  "until": [D(2026, 1, 31)]}).write_excel(path)
    got = read_list_entries([path])
    assert got.select("listed_on", "until").row(0) == (D(2025, 2, 1), D(2026, 1, 31))


def test_every_bad_row_is_reported_and_nothing_returned(tmp_path: Path) -> None:
    f = write(tmp_path / "bad.csv",
              "list,entry_id,subject_id,name,listed_on,until,source_row\n"
              f"a,1,{FIRM_A},,2025-01-01,,\n"             # row 2 good
              "a,2,,Acme,2025-13-01,,\n"                    # row 3 bad date
              "a,3,,,2025-01-01,,\n"                        # row 4 no id, no name
              "a,4,91440106000000000X,,2025-01-01,,\n"      # row 5 bad USCC
              "a,5,,Beta,2025-02-01,2025-01-31,\n"          # row 6 until before listed_on
              "a,1,,Gamma,2025-01-01,someday,x\n"           # row 7 dup id, bad until, source_row
              ",6,,Delta,,,\n")                             # row 8 no list, no listed_on
    with pytest.raises(InputError) as err:
        read_list_entries([f])
    got = {(p.row, p.column) for p in err.value.problems}
    assert got == {(3, "listed_on"), (4, "name"), (5, "subject_id"), (6, "until"),
                   (7, "entry_id"), (7, "until"), (7, "source_row"), (8, "list"),
                   (8, "listed_on")}
    assert all(p.file == str(f) for p in err.value.problems)
    reasons = {p.row: p.reason for p in err.value.problems if p.column != "entry_id"}
    assert "2025-13-01" in reasons[3]
    assert "first in" in next(p.reason for p in err.value.problems if p.column == "entry_id")


def test_duplicate_entry_ids_across_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "list,entry_id,name,listed_on\nx,1,Acme,2025-01-01\n")
    b = write(tmp_path / "b.csv", "list,entry_id,name,listed_on\nx,1,Beta,2025-01-01\n")
    with pytest.raises(InputError) as err:
        read_list_entries([a, b])
    (problem,) = err.value.problems
    assert (problem.file, problem.row, problem.column) == (str(b), 2, "entry_id")
    assert str(a) in problem.reason


def test_missing_required_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", "list,country\nx,China\n")
    with pytest.raises(InputError) as err:
        read_list_entries([f])
    assert {p.column for p in err.value.problems} == {"listed_on", "subject_id or name"}
    assert {p.row for p in err.value.problems} == {1}
