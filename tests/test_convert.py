"""Mapping-file conversion: the World Bank list (the committed excerpt always, the full
download where this machine has it), a second list format, a regulator's penalty export,
and the errors for bad mappings and bad rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

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
# A few dozen rows of the World Bank's download, unedited (see tests/fixtures/README.md).
WB_EXCERPT = ROOT / "tests" / "fixtures" / "worldbank_ineligible_excerpt.xlsx"
WB_FULL_NAME = "worldbank_ineligible_2025-07-01.xlsx"
WB_MAPPING = MAPPINGS / "worldbank_ineligible.toml"
COURT_FILE = ROOT / "data" / "lists" / "court_defaulters_example.csv"
COURT_MAPPING = MAPPINGS / "court_defaulters_example.toml"
GZ_FILE = ROOT / "data" / "sources" / "guangzhou_housing_example.csv"
GZ_MAPPING = MAPPINGS / "guangzhou_housing_records.toml"
FIRST_DATA_ROW = 4   # below the "Downloaded on" title and the two-row header
PERMANENT = "2999-12-31"


def real_list() -> Path | None:
    """The full 2025-07-01 download where this machine has it (../shared/real beside the
    checkout, or /work/shared/real); it is not part of the project, so a fresh clone has
    none and the tests that need the whole list skip there."""
    for where in (ROOT.parent / "shared" / "real", Path("/work/shared/real")):
        if (where / WB_FULL_NAME).is_file():
            return where / WB_FULL_NAME
    return None


def uscc(seed: int) -> str:
    body = f"91130100{seed:09d}"
    return body + uscc_check_char(body)


def problems_of(err: pytest.ExceptionInfo[InputError]) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in err.value.problems}


def sheet_rows(path: Path) -> dict[int, tuple[Any, ...]]:
    """Every non-empty row of the first sheet as Excel numbers it (A..G)."""
    sheet = openpyxl.load_workbook(path).worksheets[0]
    return {n: row for n, row in enumerate(
        sheet.iter_rows(min_row=1, max_col=7, values_only=True), start=1)
        if any(v is not None for v in row)}


def data_rows(path: Path) -> dict[int, tuple[Any, ...]]:
    return {n: r for n, r in sheet_rows(path).items() if n >= FIRST_DATA_ROW}


# ---------------------------------------------------------------- the World Bank list

@pytest.fixture(scope="module")
def worldbank() -> pl.DataFrame:
    """The committed excerpt, converted: every behaviour test runs on it."""
    return convert(WB_EXCERPT, WB_MAPPING)


@pytest.fixture(scope="module")
def worldbank_full() -> pl.DataFrame:
    """The whole download, converted (skips where this machine does not have it)."""
    path = real_list()
    if path is None:
        pytest.skip(f"the full World Bank download {WB_FULL_NAME} is not on this machine "
                    "(../shared/real, /work/shared/real); the committed excerpt "
                    "tests/fixtures/worldbank_ineligible_excerpt.xlsx covers the behaviour")
    return convert(path, WB_MAPPING)


@pytest.fixture(scope="module", params=["excerpt", "full"])
def any_worldbank(request: pytest.FixtureRequest) -> pl.DataFrame:
    """The excerpt, then the whole download where present: matching must find the same
    subjects in both (no other entry of the whole list may match them)."""
    name = "worldbank" if request.param == "excerpt" else "worldbank_full"
    frame: pl.DataFrame = request.getfixturevalue(name)
    return frame


def names_of(entries: pl.DataFrame, firm: str) -> list[str]:
    """The names of the entry whose first name is ``firm``."""
    (name,) = entries.filter(pl.col("name").str.split("|").list.first() == firm
                             ).get_column("name").unique().to_list()
    return str(name).split("|")


def test_worldbank_excerpt_converts_unedited(worldbank: pl.DataFrame) -> None:
    rows = data_rows(WB_EXCERPT)
    assert worldbank.schema == pl.Schema(LIST_SCHEMA)
    assert worldbank.height == len(rows) >= 30
    assert worldbank.get_column("list").unique().to_list() == ["worldbank"]
    # CONTRACT v2 §6: a Bank debarment bars the firm from the Bank's own projects only.
    assert worldbank.get_column("financier").unique().to_list() == ["worldbank"]
    assert worldbank.get_column("scope").null_count() == worldbank.height
    assert worldbank.get_column("entry_id").n_unique() == worldbank.height
    assert worldbank.get_column("listed_on").null_count() == 0
    assert worldbank.get_column("name").null_count() == 0
    assert worldbank.get_column("subject_id").null_count() == worldbank.height
    country = worldbank.get_column("country")
    assert (country == "China").sum() == sum(r[3] == "China" for r in rows.values()) >= 10
    assert {"Hong Kong SAR, China", "Taiwan, China"} <= set(country)


def test_worldbank_permanent_debarment_is_indefinite(worldbank: pl.DataFrame) -> None:
    rows = data_rows(WB_EXCERPT)
    permanent = {n for n, r in rows.items() if r[5] in (PERMANENT, "Ongoing")}
    assert len(permanent) >= 5
    assert set(worldbank.filter(pl.col("until").is_null()).get_column("source_row")) == \
        permanent
    for row, until in worldbank.filter(pl.col("until").is_not_null()
                                       ).select("source_row", "until").iter_rows():
        assert until == dt.date.fromisoformat(rows[row][5])


def test_worldbank_rows_are_the_rows_excel_shows(worldbank: pl.DataFrame) -> None:
    rows = data_rows(WB_EXCERPT)
    assert worldbank.get_column("source_row").to_list() == sorted(rows)
    assert worldbank.get_column("source_row").min() == FIRST_DATA_ROW
    for name, country, listed_on, row in worldbank.select(
            "name", "country", "listed_on", "source_row").iter_rows():
        firm, _info, _address, cell_country, since, _to, _grounds = rows[row]
        assert name.split("|")[0] in firm     # a leading "A.K.A." or trailing alias cut off
        assert (country, listed_on) == (cell_country, dt.date.fromisoformat(since))


def test_worldbank_chinese_names_are_aliases(worldbank: pl.DataFrame) -> None:
    assert names_of(worldbank, "HEBEI CONSTRUCTION GROUP CORPORATION LIMITED HANDAN BRANCH") \
        == ["HEBEI CONSTRUCTION GROUP CORPORATION LIMITED HANDAN BRANCH",
            "河北建设集团股份有限公司邯郸分公司"]
    # Two names in one bracket, separated by a comma.
    assert names_of(worldbank, "XINJIANG COMMUNICATIONS CONSTRUCTION GROUP CO., LTD.") == [
        "XINJIANG COMMUNICATIONS CONSTRUCTION GROUP CO., LTD.", "新疆交通建设集团股份有限公司",
        "新疆交建"]
    # Nested full-width brackets kept; the Tax ID and the *536 left out.
    assert names_of(worldbank, "FOUNDER INTERNATIONAL (BEIJING) CO., LTD.") == [
        "FOUNDER INTERNATIONAL (BEIJING) CO., LTD.", "方正国际软件（北京）有限公司"]
    assert names_of(worldbank, "HEBEI CONSTRUCTION GROUP (NINGBO) SUPPLY CHAIN MANAGEMENT CO., "
                               "LTD.")[1] == "河北建设集团（宁波）供应链管理有限公司"
    # A bracketed USCC, "(ID: ...)" and the cross-reference are not names.
    assert names_of(worldbank, "HETIAN LAND PORT HUB CENTER MANAGEMENT CO., LTD.") == [
        "HETIAN LAND PORT HUB CENTER MANAGEMENT CO., LTD.", "和田陆港枢纽中心管理有限公司"]
    # A Chinese name and a d/b/a name in one cell.
    assert names_of(worldbank, "TENGWANGGE CONSTRUCTION ENGINEERING GROUP CO., LTD.") == [
        "TENGWANGGE CONSTRUCTION ENGINEERING GROUP CO., LTD.", "滕王阁建工集团股份有限公司",
        "Jiangxi Tengwangge Construction Engineering Group. Co. Ltd."]


@pytest.mark.parametrize(("firm", "aliases"), [
    ("TAIHAN ELECTRIC WIRE CO., LTD.", ["Taihan Cable & Solution Co., Ltd."]),      # aka
    ("CONSTRUCCIONES DEL SIGLO 21 S.A.S.", ["Constructora Fajardo Nieto Ltda."]),    # f.k.a
    ("XINJINZHU MUNICIPAL LANDSCAPING ENGINEERING CO., LTD.",                         # f/k/a
     ["Henan Xinjinzhu Landscaping Engineering Co., Ltd."]),
    ("INTERNATIONAL REAL ESTATE CONSULTING AND INVESTMENT JOINT STOCK COMPANY",     # FORMERLY
     ["HANOITC EXPERT JOINT STOCK COMPANY"]),                                        # KNOWN AS
    ("PROJECTPLAN CONSULTORIA E PROJETOS LTDA", ["MC Consulting Ltda."]),            # formerly
    ("LOTTE DATA COMMUNICATIONS COMPANY LIMITED", ["Lotte Innovate Company, Limited"]),
    ("A2Z POWERTECH LTD.", ["RISHIKESH WASTE MANAGEMENT LTD."]),                     # Now known as
    ("FLOWBIRD TRANSPORT LIMITED", ["Parkeon Transit Limited"]),     # formerly operating as:
    ("DAGI LLC", ["Ltd Dagi"]),                                                      # also d/b/a
    ("MR. JORAM OPALA OTIENO", ["Mr. Joram OPALA"]),                                 # a.k.a
    ("URALKOTLOSERVICE PKF ZAO (TAMBOV)",
     ["UralKotloservice Commercial Production Firm Closed Joint-Stock Co."]),        # also known as
    # An alias inside the firm name, its bracket left open by the Bank's 80-character cut.
    ("XINJIANG JIAOTONG LOGISTICS CO., LTD.", ["XCCG LOGISTICS CO., LTD.", "新疆交建物流有限公司"]),
    ("INDRALAL GUNATHILAKE", []),                       # a firm-name cell "A.K.A. ..."
    # Numbers, remarks and a Khmer name are not names.
    ("MR. RUFAT MAJIDOV", []),                          # *677
    ("EVSIS AMERICA LLC", []),                          # (Reg. No. ...) *623
    ("BAXODIR LOG’ON TEKSIL", []),                      # (TIN No. ...)
    ("INVEPAR CONSTRUTORA LTDA - ME", []),              # (CNPJ: ...)
    ("EGIS WATER AND MARITIME", []),                    # (BUT ONLY FOR ITS BUSINESS ...)
    ("HEBEI CONSTRUCTION GROUP CORPORATION LIMITED CAMBODIA BRANCH", []),
])
def test_worldbank_other_names_are_aliases(worldbank: pl.DataFrame, firm: str,
                                           aliases: list[str]) -> None:
    assert names_of(worldbank, firm) == [firm, *aliases]


def test_worldbank_entry_ids_are_stable(worldbank: pl.DataFrame) -> None:
    again = convert(WB_EXCERPT, WB_MAPPING)
    assert again.get_column("entry_id").equals(worldbank.get_column("entry_id"))
    # The same name, country and date listed twice: the later copy gets "-2".
    hunan = worldbank.filter(pl.col("name").str.starts_with("HUNAN CONSTRUCTION GROUP"))
    first, second = hunan.sort("source_row").get_column("entry_id").to_list()
    assert second == first + "-2"


def test_a_subject_under_its_chinese_name_is_ineligible_while_listed(
        any_worldbank: pl.DataFrame) -> None:
    branch, clean, camc = uscc(1), uscc(2), uscc(3)
    subjects = pl.DataFrame({
        "subject_id": [branch, clean, camc],
        "subject_name": ["河北建设集团股份有限公司邯郸分公司", "河北清白建设工程有限公司",
                         "中工国际工程股份有限公司"],
    })
    hits = match_entries(any_worldbank, subjects)
    assert set(hits.get_column("subject_id")) == {branch, camc}
    # The Handan branch only: not the parent, not the Yongnian district branch in Handan.
    (hit,) = hits.filter(pl.col("subject_id") == branch).iter_rows(named=True)
    assert hit["matched_by"] == "name"
    assert hit["matched_name"] == "河北建设集团股份有限公司邯郸分公司"
    assert (hit["listed_on"], hit["until"]) == (D(2024, 8, 22), D(2027, 7, 22))
    assert hits.get_column("financier").unique().to_list() == ["worldbank"]

    def ineligible(day: dt.date) -> set[str]:
        return set(active_hits(hits, day).get_column("subject_id"))

    assert branch not in ineligible(D(2024, 8, 21))
    assert branch in ineligible(D(2024, 8, 22))      # both ends inclusive
    assert branch in ineligible(D(2027, 7, 22))
    assert branch not in ineligible(D(2027, 7, 23))
    assert camc in ineligible(D(2026, 10, 26)) and camc not in ineligible(D(2026, 10, 27))
    assert clean not in ineligible(D(2025, 1, 1))


def test_english_names_and_other_spellings_match(any_worldbank: pl.DataFrame) -> None:
    founder, parent = uscc(4), uscc(5)
    subjects = pl.DataFrame({
        "subject_id": [founder, founder, parent],
        "subject_name": ["方正国际软件(北京)有限公司", "Founder International (Beijing) Co Ltd",
                         "Hebei Construction Group Corporation Limited"],
    })
    hits = match_entries(any_worldbank, subjects)
    # Permanently debarred (2999-12-31): indefinite, whichever spelling matched.
    assert hits.filter(pl.col("subject_id") == founder).get_column("until").to_list() == [None]
    # The parent's English name matches its own entry (China), not the Hong Kong company
    # nor any branch.
    (hit,) = hits.filter(pl.col("subject_id") == parent).iter_rows(named=True)
    assert hit["matched_name"] == "HEBEI CONSTRUCTION GROUP CORPORATION LIMITED"


# ---------------------------------------------------------------- the whole download

def test_full_worldbank_list_converts_unedited(worldbank_full: pl.DataFrame) -> None:
    assert worldbank_full.schema == pl.Schema(LIST_SCHEMA)
    assert worldbank_full.height == 1285
    assert worldbank_full.get_column("list").unique().to_list() == ["worldbank"]
    assert worldbank_full.get_column("financier").unique().to_list() == ["worldbank"]
    assert worldbank_full.get_column("entry_id").n_unique() == 1285
    country = worldbank_full.get_column("country")
    assert (country == "China").sum() == 349
    assert country.str.contains("China").sum() == 354   # with Hong Kong SAR and Taiwan
    assert worldbank_full.get_column("listed_on").null_count() == 0
    assert worldbank_full.get_column("name").null_count() == 0
    assert worldbank_full.get_column("subject_id").null_count() == 1285


def test_full_worldbank_permanent_debarment_is_indefinite(
        worldbank_full: pl.DataFrame) -> None:
    path = real_list()
    assert path is not None
    raw = pl.read_excel(path, has_header=False, infer_schema_length=0)
    permanent = (raw.get_column(raw.columns[5]) == PERMANENT).sum()
    assert permanent == 649
    assert worldbank_full.get_column("until").null_count() == permanent


def test_full_worldbank_rows_are_the_rows_excel_shows(worldbank_full: pl.DataFrame) -> None:
    path = real_list()
    assert path is not None
    rows = sheet_rows(path)
    for firm, row in worldbank_full.head(80).select("name", "source_row").iter_rows():
        assert firm.split("|")[0].strip() == rows[row][0].strip()
    assert worldbank_full.get_column("source_row").min() == FIRST_DATA_ROW

    def names_at(row: int) -> list[str]:
        return str(worldbank_full.filter(pl.col("source_row") == row).item(0, "name")
                   ).split("|")

    assert names_at(71) == ["HEBEI CONSTRUCTION GROUP CORPORATION LIMITED HANDAN BRANCH",
                            "河北建设集团股份有限公司邯郸分公司"]
    assert names_at(315) == ["XINJIANG COMMUNICATIONS CONSTRUCTION GROUP CO., LTD.",
                             "新疆交通建设集团股份有限公司", "新疆交建"]
    assert names_at(699) == ["FOUNDER INTERNATIONAL (BEIJING) CO., LTD.",
                             "方正国际软件（北京）有限公司"]


def test_the_excerpt_is_the_real_list_unedited(worldbank: pl.DataFrame,
                                               worldbank_full: pl.DataFrame) -> None:
    path = real_list()
    assert path is not None
    full, excerpt = sheet_rows(path), sheet_rows(WB_EXCERPT)
    for row in range(1, FIRST_DATA_ROW):                 # title and two-row header
        assert excerpt[row] == full[row]

    def merged(p: Path) -> set[str]:
        return {str(r) for r in openpyxl.load_workbook(p).worksheets[0].merged_cells.ranges}

    assert merged(WB_EXCERPT) == merged(path) == {
        "A1:F1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2", "G2:G3"}
    # Every data row of the excerpt is a row of the download, cell for cell, in its order.
    source = iter(r for n, r in sorted(full.items()) if n >= FIRST_DATA_ROW)
    for n, row in sorted(excerpt.items()):
        if n >= FIRST_DATA_ROW:
            assert row in source, f"excerpt row {n} is not in {path} (or out of order)"
    # ...and converts to the very entries the download gives (ids included).
    ids = worldbank.get_column("entry_id").to_list()
    same = worldbank_full.filter(pl.col("entry_id").is_in(ids)).drop("source_row")
    assert same.equals(worldbank.drop("source_row"))


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
    assert got.get_column("financier").to_list() == ["worldbank", "worldbank"]


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
    # CONTRACT v2 §6: defaulters are barred from tendered projects and government
    # procurement (财库〔2016〕125号), whoever finances them.
    assert got.get_column("scope").unique().to_list() == ["engineering|procurement"]
    assert got.get_column("financier").null_count() == got.height
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
