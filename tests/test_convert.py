"""Mapping-file conversion: the real World Bank list, a second list format, a regulator's
penalty export, and the errors for bad mappings and bad rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from creditindex.convert import convert, load_mapping, parse_mapping
from creditindex.errors import InputError
from creditindex.identifiers import uscc_check_char
from creditindex.lists import LIST_SCHEMA, active_hits, match_entries, read_list_entries
from creditindex.records import RECORD_SCHEMA, read_records
from creditindex.rules import load_rules

D = dt.date
ROOT = Path(__file__).resolve().parents[1]
MAPPINGS = ROOT / "data" / "mappings"
WB_FILE = Path(__file__).resolve().parents[2] / "shared" / "real" / \
    "worldbank_ineligible_2025-07-01.xlsx"
WB_MAPPING = MAPPINGS / "worldbank_ineligible.toml"
COURT_FILE = ROOT / "data" / "lists" / "court_defaulters_example.csv"
COURT_MAPPING = MAPPINGS / "court_defaulters_example.toml"
GZ_FILE = ROOT / "data" / "sources" / "guangzhou_housing_example.csv"
GZ_MAPPING = MAPPINGS / "guangzhou_housing_records.toml"


def uscc(seed: int) -> str:
    body = f"91130100{seed:09d}"
    return body + uscc_check_char(body)


def problems_of(err: pytest.ExceptionInfo[InputError]) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in err.value.problems}


# ---------------------------------------------------------------- the real World Bank list

@pytest.fixture(scope="module")
def worldbank() -> pl.DataFrame:
    assert WB_FILE.exists(), (
        f"the real World Bank list is missing: {WB_FILE} (see ../shared/real/README.md)")
    return convert(WB_FILE, WB_MAPPING)


def test_worldbank_list_converts_unedited(worldbank: pl.DataFrame) -> None:
    assert worldbank.schema == pl.Schema(LIST_SCHEMA)
    assert worldbank.height == 1285
    assert worldbank.get_column("list").unique().to_list() == ["worldbank"]
    assert worldbank.get_column("entry_id").n_unique() == 1285
    country = worldbank.get_column("country")
    assert (country == "China").sum() == 349
    assert country.str.contains("China").sum() == 354   # with Hong Kong SAR and Taiwan
    assert worldbank.get_column("listed_on").null_count() == 0
    assert worldbank.get_column("name").null_count() == 0
    assert worldbank.get_column("subject_id").null_count() == 1285


def test_worldbank_permanent_debarment_is_indefinite(worldbank: pl.DataFrame) -> None:
    raw = pl.read_excel(WB_FILE, has_header=False, infer_schema_length=0)
    permanent = (raw.get_column(raw.columns[5]) == "2999-12-31").sum()
    assert permanent == 649
    assert worldbank.get_column("until").null_count() == permanent


def test_worldbank_rows_are_the_rows_excel_shows(worldbank: pl.DataFrame) -> None:
    sheet = openpyxl.load_workbook(WB_FILE, read_only=True).active
    assert sheet is not None
    rows = {r[0].row: r[0].value for r in sheet.iter_rows(min_row=1, max_row=100)
            if r and r[0].value is not None}
    for firm, row in worldbank.head(80).select("name", "source_row").iter_rows():
        assert firm.split("|")[0].strip() == rows[row].strip()
    assert worldbank.get_column("source_row").min() == 4


def test_worldbank_chinese_names_are_aliases(worldbank: pl.DataFrame) -> None:
    def names_of(row: int) -> list[str]:
        return str(worldbank.filter(pl.col("source_row") == row).item(0, "name")).split("|")

    assert names_of(71) == ["HEBEI CONSTRUCTION GROUP CORPORATION LIMITED HANDAN BRANCH",
                            "河北建设集团股份有限公司邯郸分公司"]
    assert names_of(315) == ["XINJIANG COMMUNICATIONS CONSTRUCTION GROUP CO., LTD.",
                             "新疆交通建设集团股份有限公司", "新疆交建"]
    assert names_of(699) == ["FOUNDER INTERNATIONAL (BEIJING) CO., LTD.",
                             "方正国际软件（北京）有限公司"]


def test_worldbank_entry_ids_are_stable(worldbank: pl.DataFrame) -> None:
    again = convert(WB_FILE, WB_MAPPING)
    assert again.get_column("entry_id").equals(worldbank.get_column("entry_id"))


def test_a_subject_under_its_chinese_name_is_ineligible_while_listed(
        worldbank: pl.DataFrame) -> None:
    branch, clean, camc = uscc(1), uscc(2), uscc(3)
    subjects = pl.DataFrame({
        "subject_id": [branch, clean, camc],
        "subject_name": ["河北建设集团股份有限公司邯郸分公司", "河北清白建设工程有限公司",
                         "中工国际工程股份有限公司"],
    })
    hits = match_entries(worldbank, subjects)
    assert set(hits.get_column("subject_id")) == {branch, camc}
    hit = hits.filter(pl.col("subject_id") == branch).row(0, named=True)
    assert hit["matched_by"] == "name"
    assert hit["matched_name"] == "河北建设集团股份有限公司邯郸分公司"
    assert (hit["listed_on"], hit["until"]) == (D(2024, 8, 22), D(2027, 7, 22))

    def ineligible(day: dt.date) -> set[str]:
        return set(active_hits(hits, day).get_column("subject_id"))

    assert branch not in ineligible(D(2024, 8, 21))
    assert branch in ineligible(D(2024, 8, 22))
    assert branch in ineligible(D(2027, 7, 22))
    assert branch not in ineligible(D(2027, 7, 23))
    assert camc in ineligible(D(2026, 10, 26)) and camc not in ineligible(D(2026, 10, 27))
    assert clean not in ineligible(D(2025, 1, 1))


def test_english_names_and_other_spellings_match(worldbank: pl.DataFrame) -> None:
    founder, hk = uscc(4), uscc(5)
    subjects = pl.DataFrame({
        "subject_id": [founder, founder, hk],
        "subject_name": ["方正国际软件(北京)有限公司", "Founder International (Beijing) Co Ltd",
                         "Hebei Construction Group Corporation Limited"],
    })
    hits = match_entries(worldbank, subjects)
    assert hits.filter(pl.col("subject_id") == founder).get_column("until").to_list() == [None]
    # The parent's English name matches its entry (China), not the Hong Kong company.
    assert hits.filter(pl.col("subject_id") == hk).height == 1


def write_wb_layout(path: Path, rows: list[list[str | None]]) -> Path:
    """A workbook laid out like the World Bank download (title, two-row header)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Downloaded on: 07/01/2025 10:37"])
    ws.append(["Firm Name", "Additional Firm Info", "Address", "Country",
               "Ineligibility Period", None, "Grounds"])
    ws.append([None, None, None, None, "From Date", "To Date", None])
    for merged in ("A1:F1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2", "G2:G3"):
        ws.merge_cells(merged)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_ongoing_means_indefinite(tmp_path: Path) -> None:
    f = write_wb_layout(tmp_path / "wb.xlsx", [
        ["ACME CO., LTD.", "(艾克米建设有限公司) *12", "X", "China", "2025-01-02", "Ongoing",
         "Fraud"],
        ["BETA LLC", "(f/k/a Gamma LLC) *13", "Y", "Kenya", "2025-01-03", "2026-01-02",
         "Collusion"],
    ])
    got = convert(f, WB_MAPPING)
    assert got.select("name", "until", "source_row").rows() == [
        ("ACME CO., LTD.|艾克米建设有限公司", None, 4),
        ("BETA LLC|Gamma LLC", D(2026, 1, 2), 5),
    ]


def test_bad_rows_in_a_worldbank_layout(tmp_path: Path) -> None:
    f = write_wb_layout(tmp_path / "wb.xlsx", [
        ["ACME", None, "X", "China", "2025-01-02", "Ongoing", "Fraud"],
        ["BETA", None, "Y", "Kenya", "2025-02-30", "2026-01-02", "Fraud"],
        [None, None, "Z", "Peru", "2025-01-03", "2024-12-31", "Fraud"],
    ])
    with pytest.raises(InputError) as err:
        convert(f, WB_MAPPING)
    assert problems_of(err) == {(5, "Ineligibility Period / From Date"),
                                (6, "Firm Name"), (6, "Ineligibility Period / To Date")}
    bad_date = next(p for p in err.value.problems if p.row == 5)
    assert bad_date.file == str(f)
    assert "2025-02-30" in bad_date.reason and "listed_on" in bad_date.reason


# ---------------------------------------------------------------- a second list format

def test_court_defaulters_convert_with_their_own_mapping() -> None:
    got = convert(COURT_FILE, COURT_MAPPING)
    assert got.schema == pl.Schema(LIST_SCHEMA)
    assert got.select("entry_id", "listed_on", "until", "source_row").rows() == [
        ("（2024）粤0106执1234号", D(2024, 3, 5), D(2026, 3, 4), 3),
        ("（2023）粤0304执5678号", D(2023, 7, 10), None, 4),
        ("（2024）粤0604执910号", D(2024, 6, 18), None, 5),
        ("（2025）粤0402执77号", D(2025, 2, 10), D(2027, 2, 9), 7),   # row 6 withdrawn
    ]
    assert got.get_column("list").unique().to_list() == ["court_defaulters"]
    assert got.get_column("subject_id").null_count() == 1
    assert got.item(0, "grounds") == ("有履行能力而拒不履行生效法律文书确定义务；"
                                      "广州市天河区人民法院")


def test_court_defaulters_match_by_id_and_by_name() -> None:
    entries = convert(COURT_FILE, COURT_MAPPING)
    subjects = pl.DataFrame({
        "subject_id": ["91440106109031c02n", uscc(9), uscc(10)],
        "subject_name": ["别的名字有限公司", "佛山市模拟市政工程有限公司",
                         "东莞市演示园林绿化有限公司"],
    })
    hits = match_entries(entries, subjects)
    assert hits.select("subject_id", "matched_by").rows() == sorted([
        ("91440106109031c02n", "subject_id"), (uscc(9), "name")])


# ---------------------------------------------------------------- a regulator's records

def test_regulator_export_converts_to_canonical_records(tmp_path: Path) -> None:
    rules = load_rules()
    got = convert(GZ_FILE, GZ_MAPPING, rules=rules, today=D(2026, 1, 1))
    assert got.columns == list(RECORD_SCHEMA)
    assert got.height == 5
    assert got.get_column("subject_type").to_list() == [
        "bidder", "agent", "bidder", "expert", "tenderer"]
    assert got.get_column("behaviour_code").to_list() == [
        "BID-COLLUSION", "AGT-LEAK-INFO", "BID-ILLEGAL-SUBCONTRACT", "ABSENT",
        "TND-DISCRIMINATE"]
    assert got.row(2, named=True)["revoked_on"] == D(2025, 8, 1)
    assert set(got.get_column("source")) == {"gz-housing"}
    out = tmp_path / "records.csv"
    got.write_csv(out)
    back = read_records([out], rules, today=D(2026, 1, 1))
    assert back.height == 5
    assert back.row(4, named=True)["recorded_on"] == D(2025, 7, 21)


def test_records_checked_against_the_rules_name_source_rows(tmp_path: Path) -> None:
    text = GZ_FILE.read_text(encoding="utf-8-sig").replace("440106,", "4401,", 1)
    f = tmp_path / "gz.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        convert(f, GZ_MAPPING, rules=load_rules(), today=D(2026, 1, 1))
    assert problems_of(err) == {(2, "行政区划")}


def test_unmapped_values_and_empty_required_values(tmp_path: Path) -> None:
    lines = GZ_FILE.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace("招标代理机构", "监理单位")
    lines[4] = lines[4].replace("张某某", "")
    f = tmp_path / "gz.csv"
    f.write_text("\n".join(lines) + "\n", encoding="gb18030")
    with pytest.raises(InputError) as err:
        convert(f, GZ_MAPPING)
    assert problems_of(err) == {(3, "主体类别"), (5, "当事人名称")}
    unmapped = next(p for p in err.value.problems if p.row == 3)
    assert "监理单位" in unmapped.reason


# ---------------------------------------------------------------- mapping files

MINIMAL = """
kind = "list"
[source]
header_row = 2
[fields]
list = { value = "t" }
name = "名称"
listed_on = "日期"
"""


def csv_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def mapping_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_mappings_are_valid() -> None:
    for path in sorted(MAPPINGS.glob("*.toml")):
        load_mapping(path)


@pytest.mark.parametrize(("extra", "key"), [
    ("bogus = 1\n", "bogus"),
    ("[dates]\nformat = ['%Y']\n", "dates.format"),
])
def test_unknown_keys_are_refused(extra: str, key: str) -> None:
    with pytest.raises(InputError) as err:
        parse_mapping(MINIMAL + extra if extra.startswith("[") else extra + MINIMAL, "m.toml")
    assert problems_of(err) == {(None, key)}
    assert err.value.problems[0].reason == "unknown key"
    assert err.value.problems[0].file == "m.toml"


def test_unknown_key_inside_a_field() -> None:
    with pytest.raises(InputError) as err:
        parse_mapping(MINIMAL.replace('name = "名称"', 'name = { colum = "名称" }'), "m.toml")
    assert (None, "fields.name.colum") in problems_of(err)


@pytest.mark.parametrize(("change", "key", "words"), [
    ('listed_on = { column = "日期", formats = ["%Y-%m-%d %Q"] }', "fields.listed_on.formats[1]",
     "does not read back"),
    ('listed_on = { column = "日期", formats = ["%d/%m"] }', "fields.listed_on.formats[1]",
     "year"),
    ('listed_on = "日期"\nregion = "x"', "fields.region", "not a canonical list column"),
    ('listed_on = { column = "日期", value = "2025-01-01" }', "fields.listed_on",
     "exactly one"),
    ('listed_on = { column = "日期", extract = ["(unclosed"] }',
     "fields.listed_on.extract[1]", "regular expression"),
    ('listed_on = { value = 20250101 }', "fields.listed_on.value", "string"),
    ('listed_on = { column = "日期", unmapped = "drop" }', "fields.listed_on.unmapped",
     "error"),
    ('grounds = "日期"', "fields.listed_on", "required"),
    ("listed_on = 5", "fields.listed_on", "column name"),
])
def test_bad_mappings_name_the_key(change: str, key: str, words: str) -> None:
    text = MINIMAL.replace('listed_on = "日期"', change)
    with pytest.raises(InputError) as err:
        parse_mapping(text, "m.toml")
    problem = next(p for p in err.value.problems if p.column == key)
    assert words in problem.reason


@pytest.mark.parametrize(("source", "key", "words"), [
    ("sheet = 0", "source.sheet", "counting from 1"),
    ("header_row = 0", "source.header_row", "greater than 0"),
    ("header_row = 2\nheader_depth = 2\ndata_row = 3", "source.data_row", "not below"),
    ('delimiter = ";;"', "source.delimiter", "1 character"),
])
def test_bad_source_tables(source: str, key: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        parse_mapping(MINIMAL.replace("header_row = 2", source), "m.toml")
    (problem,) = err.value.problems
    assert problem.column == key and words in problem.reason


def test_bad_global_date_format() -> None:
    with pytest.raises(InputError) as err:
        parse_mapping(MINIMAL + '[dates]\nformats = ["%Y-%m-%d", "%Q"]\n', "m.toml")
    assert problems_of(err) == {(None, "dates.formats[2]")}


def test_not_toml_and_missing_mapping(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        parse_mapping('kind = "list\n', "m.toml")
    assert "TOML" in err.value.problems[0].reason
    with pytest.raises(InputError) as err:
        load_mapping(tmp_path / "nope.toml")
    assert err.value.problems[0].reason == "file not found"


def test_a_column_missing_from_the_source(tmp_path: Path) -> None:
    src = csv_file(tmp_path / "s.csv", "标题\n名称,日期\n甲公司,2025-01-01\n")
    m = mapping_file(tmp_path / "m.toml", MINIMAL.replace('"名称"', '"单位名称"'))
    with pytest.raises(InputError) as err:
        convert(src, m)
    (problem,) = err.value.problems
    assert (problem.file, problem.column) == (str(m), "fields.name")
    assert "'单位名称'" in problem.reason and "'名称'" in problem.reason


def test_bad_rows_report_source_rows_and_nothing_is_returned(tmp_path: Path) -> None:
    src = csv_file(tmp_path / "s.csv",
                   "标题,\n名称,日期\n甲公司,2025-01-01\n\n乙公司,2025/1/32\n丙公司,\n,2025-01-01\n",
                   "gbk")
    m = mapping_file(tmp_path / "m.toml", MINIMAL)
    with pytest.raises(InputError) as err:
        convert(src, m)
    assert problems_of(err) == {(5, "日期"), (6, "日期"), (7, "名称")}
    assert all(p.file == str(src) for p in err.value.problems)
    reasons = {p.row: p.reason for p in err.value.problems}
    assert "2025/1/32" in reasons[5]
    assert "required" in reasons[6]


def test_excel_rows_count_from_the_top_even_after_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["B3"] = "名称"
    ws["C3"] = "日期"
    ws["B4"] = "甲公司"
    ws["C4"] = dt.datetime(2025, 1, 2)
    ws["B6"] = "乙公司"
    ws["C6"] = "not a date"
    wb.save(path)
    m = mapping_file(tmp_path / "m.toml", MINIMAL.replace("header_row = 2", "header_row = 3"))
    with pytest.raises(InputError) as err:
        convert(path, m)
    assert problems_of(err) == {(6, "日期")}
    ws["C6"] = 45660  # a number cell, not a date cell: never read as a date
    wb.save(path)
    with pytest.raises(InputError) as err:
        convert(path, m)
    assert "'45660' is a bare number" in err.value.problems[0].reason
    ws["C6"] = dt.datetime(2025, 1, 3)
    wb.save(path)
    got = convert(path, m)
    assert got.select("listed_on", "source_row").rows() == [(D(2025, 1, 2), 4),
                                                           (D(2025, 1, 3), 6)]


def test_parts_extract_split_map_default_and_hash(tmp_path: Path) -> None:
    src = csv_file(tmp_path / "s.csv",
                   "Name;Other names;Since;Kind\n"
                   "Acme Ltd;Acme Holdings / 艾克米有限公司;05.03.2024;gp\n"
                   "Beta Ltd;;06.03.2024;tax\n"
                   "Beta Ltd;;06.03.2024;\n")
    m = mapping_file(tmp_path / "m.toml", """
kind = "list"
[source]
delimiter = ";"
[dates]
formats = ["%d.%m.%Y"]
[fields]
listed_on = "since"                      # header names are case-insensitive
entry_id = { hash = ["Name", "Since"] }
list = { column = "Kind", map = { gp = "procurement", tax = "tax" }, default = "other" }
[fields.name]
parts = [{ column = "Name" }, { column = "Other names", split = '\\s*/\\s*' }]
""")
    got = convert(src, m)
    assert got.select("list", "name", "listed_on").rows() == [
        ("procurement", "Acme Ltd|Acme Holdings|艾克米有限公司", D(2024, 3, 5)),
        ("tax", "Beta Ltd", D(2024, 3, 6)),
        ("other", "Beta Ltd", D(2024, 3, 6)),
    ]
    ids = got.get_column("entry_id").to_list()
    assert ids[2] == ids[1] + "-2"


def test_parquet_source(tmp_path: Path) -> None:
    src = tmp_path / "s.parquet"
    pl.DataFrame({"名称": ["甲公司"], "日期": [D(2025, 1, 2)]}).write_parquet(src)
    m = mapping_file(tmp_path / "m.toml", MINIMAL.replace("header_row = 2", "header_row = 1"))
    assert convert(src, m).select("name", "listed_on", "source_row").rows() == [
        ("甲公司", D(2025, 1, 2), 2)]


def test_unreadable_source(tmp_path: Path) -> None:
    m = mapping_file(tmp_path / "m.toml", MINIMAL)
    with pytest.raises(InputError) as err:
        convert(tmp_path / "missing.csv", m)
    assert err.value.problems[0].reason == "file not found"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(InputError) as err:
        convert(bad, m)
    assert "not a valid spreadsheet" in err.value.problems[0].reason


def test_converted_entries_read_back_as_canonical_lists(tmp_path: Path,
                                                       worldbank: pl.DataFrame) -> None:
    out = tmp_path / "worldbank.csv"
    worldbank.write_csv(out)
    assert read_list_entries([out]).equals(worldbank)


def test_sheet_by_name_and_a_units_row_after_the_header(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "说明"
    first["A1"] = "nothing here"
    ws = wb.create_sheet("名单")
    for row in (["名称", "日期"], ["(全称)", "(YYYY-MM-DD)"], ["甲公司", "2025-01-02"]):
        ws.append(row)
    wb.save(path)
    m = mapping_file(tmp_path / "m.toml", MINIMAL.replace(
        "header_row = 2", 'header_row = 1\ndata_row = 3\nsheet = "名单"'))
    assert convert(path, m).select("name", "source_row").rows() == [("甲公司", 3)]
    m2 = mapping_file(tmp_path / "m2.toml", MINIMAL.replace("header_row = 2", 'sheet = "无"'))
    with pytest.raises(InputError) as err:
        convert(path, m2)
    assert "无" in err.value.problems[0].reason
