"""Reading penalty records (docs/semantics.md §2, §10.1): encodings, file formats, date formats, and
every kind of bad input reported with its file, row (header = row 1) and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditindex.errors import InputError
from creditindex.identifiers import rid_problem, uscc_problem
from creditindex.records import RECORD_SCHEMA, read_records
from creditindex.rules import load_rules
from tests import reference as ref

RULES = load_rules()
TODAY = dt.date(2026, 11, 26)
FIRM = "91350100M000100Y43"
FIRM2 = ref.make_uscc(77)
EXPERT = ref.make_rid(12, "19800229")  # a leap day: a real birth date

HEADER = ["record_id", "source", "industry", "region", "subject_id", "subject_name",
          "subject_type", "behaviour_code", "decided_on", "recorded_on", "document_no",
          "revoked_on", "repaired_on"]
GOOD = [
    ["1", "广州公共资源交易中心", "housing", "440106", FIRM, "广州市某某建设工程有限公司",
     "bidder", "BID-FRAUD", "2026-02-01", "2026-02-03", "穗建罚〔2026〕12号", "", ""],
    ["2", "广州公共资源交易中心", "transport", "440300", FIRM2, "深圳某交通工程股份有限公司",
     "bidder", "BID-COLLUSION", "2026-03-05", "", "", "", "2026-09-01"],
    ["3", "省评标专家库", "procurement", "440106", EXPERT, "张三", "expert", "LATE",
     "2026-04-10", "2026-04-10", "", "2026-05-01", ""],
]


def csv_text(rows: list[list[str]], header: list[str] = HEADER) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def expected_frame() -> pl.DataFrame:
    d = dt.date
    return pl.DataFrame({
        "record_id": ["1", "2", "3"],
        "source": ["广州公共资源交易中心", "广州公共资源交易中心", "省评标专家库"],
        "industry": ["housing", "transport", "procurement"],
        "region": ["440106", "440300", "440106"],
        "subject_id": [FIRM, FIRM2, EXPERT],
        "subject_name": ["广州市某某建设工程有限公司", "深圳某交通工程股份有限公司", "张三"],
        "subject_type": ["bidder", "bidder", "expert"],
        "behaviour_code": ["BID-FRAUD", "BID-COLLUSION", "LATE"],
        "decided_on": [d(2026, 2, 1), d(2026, 3, 5), d(2026, 4, 10)],
        "recorded_on": [d(2026, 2, 3), d(2026, 3, 5), d(2026, 4, 10)],  # defaults to decided_on
        "document_no": ["穗建罚〔2026〕12号", None, None],
        "revoked_on": [None, None, d(2026, 5, 1)],
        "repaired_on": [None, d(2026, 9, 1), None],
        "restrict_until": [None, None, None],
        "restrict_scope": [None, None, None],
        "authority": [None, None, None],
        "basis": [None, None, None],
        "publish_until": [None, None, None],
    }, schema=RECORD_SCHEMA)


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("source", "record_id")


def read(path: Path, today: dt.date = TODAY) -> pl.DataFrame:
    return read_records([path], RULES, today=today)


def problems(paths: list[Path], today: dt.date = TODAY):  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        read_records(paths, RULES, today=today)
    return info.value.problems


def test_valid_ids_used_here() -> None:
    assert uscc_problem(FIRM) is None and uscc_problem(FIRM2) is None
    assert rid_problem(EXPERT) is None
    assert ref.ref_uscc_ok(FIRM) and ref.ref_rid_ok(EXPERT)


# ---------------------------------------------------------------------------
# encodings and formats
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(csv_text(GOOD).encode(encoding))
    got = read(path)
    assert got.schema == pl.Schema(RECORD_SCHEMA)
    assert canonical(got).equals(canonical(expected_frame()))


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "records.parquet"
    expected_frame().drop("recorded_on").with_columns(
        pl.Series("recorded_on", [dt.date(2026, 2, 3), None, dt.date(2026, 4, 10)])
    ).write_parquet(path)
    assert canonical(read(path)).equals(canonical(expected_frame()))


def test_parquet_of_text_columns(tmp_path: Path) -> None:
    path = tmp_path / "records.parquet"
    pl.DataFrame([dict(zip(HEADER, r, strict=True)) for r in GOOD]).write_parquet(path)
    assert canonical(read(path)).equals(canonical(expected_frame()))


def test_excel_with_date_cells(tmp_path: Path) -> None:
    path = tmp_path / "records.xlsx"
    frame = expected_frame().drop("recorded_on").with_columns(
        pl.Series("recorded_on", [dt.date(2026, 2, 3), None, dt.date(2026, 4, 10)]))
    frame.write_excel(path)
    assert canonical(read(path)).equals(canonical(expected_frame()))


def test_excel_with_text_cells(tmp_path: Path) -> None:
    path = tmp_path / "records.xlsx"
    pl.DataFrame([dict(zip(HEADER, r, strict=True)) for r in GOOD]).write_excel(path)
    assert canonical(read(path)).equals(canonical(expected_frame()))


def test_excel_date_cells_are_dates_and_numbers_are_not(tmp_path: Path) -> None:
    path = tmp_path / "records.xlsx"
    rows = [dict(zip(HEADER, r, strict=True)) for r in GOOD]
    frame = pl.DataFrame(rows).with_columns(
        pl.col("decided_on").str.to_date("%Y-%m-%d"))  # real date cells
    frame.write_excel(path)
    assert canonical(read(path)).equals(canonical(expected_frame()))
    # A number cell is a number, even one Excel would show as 2026-02-01 if formatted.
    frame.with_columns(pl.Series("decided_on", [46054, 46086, 46122])).write_excel(path)
    with pytest.raises(InputError) as err:
        read(path)
    reasons = {(p.row, p.column, p.reason.split(" (")[0]) for p in err.value.problems}
    assert (2, "decided_on", "not a date: '46054' is a bare number") in reasons


@pytest.mark.parametrize("text", ["2026-02-01", "2026/02/01", "2026/2/1", "20260201",
                                  "2026年2月1日", "2026年02月01日", " 2026-02-01 "])
def test_date_formats(tmp_path: Path, text: str) -> None:
    row = list(GOOD[0])
    row[8] = text
    row[9] = ""
    path = tmp_path / "dates.csv"
    path.write_text(csv_text([row]), encoding="utf-8")
    got = read(path).row(0, named=True)
    assert got["decided_on"] == dt.date(2026, 2, 1)
    assert got["recorded_on"] == dt.date(2026, 2, 1)


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    required = HEADER[:9]
    path = tmp_path / "min.csv"
    path.write_text(csv_text([r[:9] for r in GOOD], required), encoding="utf-8")
    got = canonical(read(path))
    assert got.schema == pl.Schema(RECORD_SCHEMA)
    assert got.get_column("recorded_on").to_list() == got.get_column("decided_on").to_list()
    assert got.get_column("document_no").null_count() == 3


def test_several_files_are_one_set(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(csv_text(GOOD[:2]), encoding="utf-8")
    b.write_bytes(csv_text(GOOD[2:]).encode("gbk"))
    got = read_records([a, b], RULES, today=TODAY)
    assert canonical(got).equals(canonical(expected_frame()))


def test_ids_are_case_folded(tmp_path: Path) -> None:
    firm = ref.make_uscc(123)
    assert any(c.isalpha() for c in firm)
    row = list(GOOD[0])
    row[4] = firm.lower()
    path = tmp_path / "lower.csv"
    path.write_text(csv_text([row]), encoding="utf-8")
    assert read(path).row(0, named=True)["subject_id"] == firm


# ---------------------------------------------------------------------------
# duplicates of (source, record_id)
# ---------------------------------------------------------------------------


def test_a_duplicate_that_fills_revoked_or_repaired_merges(tmp_path: Path) -> None:
    again = list(GOOD[0])
    again[11] = "2026-06-01"   # revoked_on filled in later
    again2 = list(GOOD[0])
    again2[12] = "2026-07-01"  # repaired_on filled in later
    path = tmp_path / "dup.csv"
    path.write_text(csv_text([*GOOD, again, again2, GOOD[0]]), encoding="utf-8")
    got = canonical(read(path))
    assert got.height == 3
    first = got.filter(pl.col("record_id") == "1").row(0, named=True)
    assert first["revoked_on"] == dt.date(2026, 6, 1)
    assert first["repaired_on"] == dt.date(2026, 7, 1)


def test_a_duplicate_across_files_merges(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(csv_text(GOOD), encoding="utf-8")
    again = list(GOOD[1])
    again[11] = "2026-10-01"
    b.write_text(csv_text([again]), encoding="utf-8")
    got = read_records([a, b], RULES, today=TODAY)
    assert got.height == 3
    assert got.filter(pl.col("record_id") == "2").row(0, named=True)["revoked_on"] == (
        dt.date(2026, 10, 1))


def test_conflicting_duplicate(tmp_path: Path) -> None:
    other = list(GOOD[0])
    other[7] = "BID-COLLUSION"    # same (source, record_id), different behaviour
    path = tmp_path / "conflict.csv"
    path.write_text(csv_text([*GOOD, other]), encoding="utf-8")
    found = problems([path])
    assert [(p.file, p.row, p.column) for p in found] == [(str(path), 5, "behaviour_code")]
    assert "conflict" in found[0].reason


def test_conflicting_revocation_dates(tmp_path: Path) -> None:
    other = list(GOOD[2])
    other[11] = "2026-05-02"      # revoked_on differs from the first copy's 2026-05-01
    path = tmp_path / "conflict.csv"
    path.write_text(csv_text([*GOOD, other]), encoding="utf-8")
    found = problems([path])
    assert [(p.row, p.column) for p in found] == [(5, "revoked_on")]


def test_same_record_id_in_another_source_is_another_record(tmp_path: Path) -> None:
    other = list(GOOD[0])
    other[1] = "另一来源"
    other[7] = "BID-COLLUSION"
    path = tmp_path / "two.csv"
    path.write_text(csv_text([*GOOD, other]), encoding="utf-8")
    assert read(path).height == 4


# ---------------------------------------------------------------------------
# bad input: one problem per case, with row and column
# ---------------------------------------------------------------------------


def _bad_uscc() -> str:
    last = "0" if FIRM[-1] != "0" else "1"
    return FIRM[:-1] + last


def _bad_rid_check() -> str:
    last = "0" if EXPERT[-1] != "0" else "1"
    return EXPERT[:-1] + last


CASES = [
    # (what, row index, column index, new value or {column index: value}, column named)
    ("bad USCC check character", 0, 4, _bad_uscc(), "subject_id"),
    ("USCC with a letter outside the alphabet", 0, 4, "91350100M0001O0Y43", "subject_id"),
    ("short USCC", 0, 4, "9135010", "subject_id"),
    ("bad resident ID check character", 2, 4, _bad_rid_check(), "subject_id"),
    ("resident ID with an impossible birth date", 2, 4,
     "440106" + "19810229" + "001" + "X", "subject_id"),
    ("unknown behaviour", 0, 7, "NO-SUCH-BEHAVIOUR", "behaviour_code"),
    ("behaviour not allowed for the subject type", 2, 7, "BID-FRAUD", "behaviour_code"),
    ("unknown subject type", 0, 6, "contractor", "subject_type"),
    ("recorded before decided", 0, 9, "2026-01-31", "recorded_on"),
    ("decided after the import day", 0, 8, {8: "2026-11-27", 9: ""}, "decided_on"),
    ("bad decided_on", 0, 8, "2026-02-30", "decided_on"),
    ("bad recorded_on", 0, 9, "yesterday", "recorded_on"),
    ("bad revoked_on", 0, 11, "2026-13-01", "revoked_on"),
    ("bad repaired_on", 1, 12, "01/09/2026x", "repaired_on"),
    ("empty record_id", 0, 0, "", "record_id"),
    ("empty source", 1, 1, "", "source"),
    ("empty subject_id", 1, 4, "", "subject_id"),
    ("empty subject_name", 2, 5, "", "subject_name"),
    ("empty behaviour_code", 2, 7, "", "behaviour_code"),
    ("empty decided_on", 1, 8, "", "decided_on"),
    ("empty region", 0, 3, "", "region"),
    ("empty industry", 0, 2, "", "industry"),
    ("empty subject_type", 0, 6, "", "subject_type"),
]


@pytest.mark.parametrize(("what", "row_index", "col_index", "value", "column"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_value(tmp_path: Path, what: str, row_index: int, col_index: int,
                   value: str | dict[int, str], column: str) -> None:
    rows = [list(r) for r in GOOD]
    edits = value if isinstance(value, dict) else {col_index: value}
    for j, v in edits.items():
        rows[row_index][j] = v
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    found = problems([path])
    assert [(p.file, p.row, p.column) for p in found] == [(str(path), row_index + 2, column)], (
        what, found)
    assert found[0].reason
    line = str(found[0])
    assert str(path) in line and f"row {row_index + 2}" in line and column in line


def test_the_resident_id_case_is_checked_by_the_reference_too() -> None:
    assert not ref.ref_uscc_ok(_bad_uscc())
    assert not ref.ref_rid_ok(_bad_rid_check())
    assert not ref.ref_rid_ok("440106" + "19810229" + "001" + "X")


@pytest.mark.parametrize("missing", ["record_id", "subject_id", "decided_on", "behaviour_code"])
def test_missing_required_column(tmp_path: Path, missing: str) -> None:
    i = HEADER.index(missing)
    header = [h for h in HEADER if h != missing]
    rows = [[v for j, v in enumerate(r) if j != i] for r in GOOD]
    path = tmp_path / "nocol.csv"
    path.write_text(csv_text(rows, header), encoding="utf-8")
    found = problems([path])
    assert [(p.file, p.row, p.column) for p in found] == [(str(path), 1, missing)]


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][4] = _bad_uscc()               # row 2 subject_id
    rows[1][7] = "NO-SUCH-BEHAVIOUR"       # row 3 behaviour_code
    rows[2][9] = "2026-04-09"              # row 4 recorded_on before decided_on
    rows[2][12] = "notadate"               # row 4 repaired_on
    a = tmp_path / "a.csv"
    a.write_text(csv_text(rows), encoding="utf-8")
    b = tmp_path / "b.csv"  # the source column is missing
    b.write_text(csv_text([r[:1] + r[2:] for r in GOOD], [h for h in HEADER if h != "source"]),
                 encoding="utf-8")
    found = problems([a, b])
    assert [(p.file, p.row, p.column) for p in found] == [
        (str(a), 2, "subject_id"), (str(a), 3, "behaviour_code"), (str(a), 4, "recorded_on"),
        (str(a), 4, "repaired_on"), (str(b), 1, "source")]
    message = str(InputError(found))
    assert len(message.splitlines()) == 5


def test_decided_on_the_import_day_is_fine(tmp_path: Path) -> None:
    row = list(GOOD[0])
    row[8] = TODAY.isoformat()
    row[9] = ""
    path = tmp_path / "today.csv"
    path.write_text(csv_text([row]), encoding="utf-8")
    assert read(path).height == 1
    found = problems([path], today=TODAY - dt.timedelta(days=1))
    assert [(p.row, p.column) for p in found] == [(2, "decided_on")]


def test_unreadable_file(tmp_path: Path) -> None:
    found = problems([tmp_path / "missing.csv"])
    assert len(found) == 1 and "missing.csv" in found[0].file


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ref.USCC_ALPHABET + "IOSVZa", min_size=18, max_size=18),
       st.text(alphabet="0123456789X", min_size=18, max_size=18))
def test_identifier_checks_agree_with_the_reference(uscc: str, rid: str) -> None:
    assert (uscc_problem(uscc) is None) == ref.ref_uscc_ok(uscc)
    assert (rid_problem(rid) is None) == ref.ref_rid_ok(rid)
    # and completing the check character always gives a valid one
    assert any(uscc_problem(uscc[:17].upper() + c) is None for c in ref.USCC_ALPHABET) == all(
        c in ref.USCC_ALPHABET for c in uscc[:17].upper())


# ---------------------------------------------------------------------------
# typed Parquet dates, reading only some columns, the fast identifier pre-check
# ---------------------------------------------------------------------------


def _typed(path: Path, **changes: pl.Series) -> Path:
    expected_frame().with_columns(**changes).write_parquet(path)
    return path


def test_parquet_datetimes_at_midnight_are_dates(tmp_path: Path) -> None:
    frame = expected_frame()
    path = _typed(tmp_path / "r.parquet",
                  decided_on=frame.get_column("decided_on").cast(pl.Datetime("us")),
                  revoked_on=frame.get_column("revoked_on").cast(pl.Datetime("ms")))
    assert canonical(read(path)).equals(canonical(expected_frame()))


def test_parquet_datetime_with_a_time_of_day_is_refused(tmp_path: Path) -> None:
    at = [dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 5, 16, 0), dt.datetime(2026, 4, 10)]
    path = _typed(tmp_path / "r.parquet", decided_on=pl.Series(at, dtype=pl.Datetime("us")))
    [found] = problems([path])
    assert (found.row, found.column) == (3, "decided_on")
    assert "'2026-03-05 16:00:00' has a time of day" in found.reason


def test_parquet_date_outside_the_range_is_refused_in_the_words_of_text(tmp_path: Path
                                                                        ) -> None:
    days = [dt.date(2026, 2, 1), dt.date(1850, 3, 5), dt.date(2026, 4, 10)]
    path = _typed(tmp_path / "r.parquet", recorded_on=pl.Series(days, dtype=pl.Date))
    typed = problems([path])
    text = tmp_path / "r.csv"
    rows = [r.copy() for r in GOOD]
    rows[1][9] = "1850-03-05"
    text.write_text(csv_text(rows), encoding="utf-8")
    assert [(p.row, p.column, p.reason) for p in typed] == [
        (p.row, p.column, p.reason) for p in problems([text])]
    assert "'1850-03-05' is not a real calendar day" in typed[0].reason


def test_only_the_asked_columns_are_kept_and_the_others_still_checked(tmp_path: Path
                                                                      ) -> None:
    from creditindex.records import SCORING_COLUMNS

    path = _typed(tmp_path / "r.parquet",
                  authority=pl.Series(["某局", None, None], dtype=pl.String))
    got = read_records([path], RULES, today=TODAY, columns=SCORING_COLUMNS)
    assert got.schema == pl.Schema(RECORD_SCHEMA)
    assert got.get_column("authority").null_count() == 3
    assert canonical(got).select(SCORING_COLUMNS).equals(
        canonical(expected_frame()).select(SCORING_COLUMNS))
    bad = _typed(tmp_path / "bad.parquet",
                 industry=pl.Series(["housing", "spaceflight", "procurement"]))
    with pytest.raises(InputError) as info:
        read_records([bad], RULES, today=TODAY, columns=SCORING_COLUMNS)
    [found] = info.value.problems
    assert (found.row, found.column) == (3, "industry")


_VALID_USCC = st.integers(0, 9_999_999).map(ref.make_uscc)
_VALID_RID = st.tuples(st.integers(0, 999), st.dates(dt.date(1800, 1, 1),
                                                     dt.date(2199, 12, 31))).map(
    lambda t: ref.make_rid(t[0], t[1].strftime("%Y%m%d")))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.text(alphabet=ref.USCC_ALPHABET + "IOSVZa年", min_size=16, max_size=19),
    st.text(alphabet="0123456789X", min_size=17, max_size=19), _VALID_USCC, _VALID_RID,
    _VALID_USCC.map(lambda u: u[:17] + ("0" if u[17] != "0" else "1"))), max_size=30),
       st.lists(_VALID_USCC, max_size=5), st.lists(_VALID_RID, max_size=5))
def test_the_fast_identifier_pre_check_never_passes_a_bad_id(
        ids: list[str], usccs: list[str], rids: list[str]) -> None:
    from creditindex.identifiers import rid_valid_mask, uscc_valid_mask

    values = pl.Series(ids, dtype=pl.String)
    for valid, problem in ((uscc_valid_mask, uscc_problem), (rid_valid_mask, rid_problem)):
        for sure, value in zip(valid(values).tolist(), ids, strict=True):
            assert not sure or problem(value) is None, value
    assert uscc_valid_mask(pl.Series(usccs, dtype=pl.String)).all()
    assert rid_valid_mask(pl.Series(rids, dtype=pl.String)).all()


def test_a_parquet_file_read_in_parts_names_the_rows_of_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import creditindex.readers

    monkeypatch.setattr(creditindex.readers, "PART_ROWS", 2)
    frame = pl.concat([expected_frame()] * 3).with_columns(
        pl.format("{}-{}", pl.col("record_id"), pl.int_range(pl.len())).alias("record_id"))
    path = tmp_path / "r.parquet"
    frame.write_parquet(path)
    assert canonical(read(path)).equals(canonical(frame))
    bad = frame.with_columns(pl.when(pl.int_range(pl.len()).is_in([2, 7])).then(
        pl.lit("NOPE")).otherwise(pl.col("behaviour_code")).alias("behaviour_code"))
    bad.write_parquet(path)
    assert [(p.row, p.column) for p in problems([path])] == [
        (4, "behaviour_code"), (9, "behaviour_code")]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_parts_checked_on_threads_give_the_answer_and_problems_of_one_part_after_another(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    import creditindex.readers
    import creditindex.records

    monkeypatch.setattr(creditindex.readers, "PART_ROWS", 2)
    monkeypatch.setattr(creditindex.records, "PART_WORKERS", workers)
    frame = pl.concat([expected_frame()] * 4).with_columns(
        pl.format("{}-{}", pl.col("record_id"), pl.int_range(pl.len())).alias("record_id"))
    good = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    frame.head(7).write_parquet(good[0])
    frame.tail(5).write_parquet(good[1])
    assert canonical(read_records(good, RULES, today=TODAY)).equals(canonical(frame))
    # problems in several parts of two files, in file and row order, and a file without
    # a required column between them (named once, its parts not checked)
    bad = frame.with_columns(pl.when(pl.int_range(pl.len()).is_in([0, 5, 6, 11])).then(
        pl.lit("NOPE")).otherwise(pl.col("behaviour_code")).alias("behaviour_code"))
    paths = [tmp_path / "bad1.parquet", tmp_path / "absent.parquet", tmp_path / "bad2.parquet"]
    bad.write_parquet(paths[0])
    frame.drop("industry").write_parquet(paths[1])
    bad.tail(6).write_parquet(paths[2])
    assert [(Path(p.file).name, p.row, p.column) for p in problems(paths)] == [
        ("absent.parquet", 1, "industry"),
        ("bad1.parquet", 2, "behaviour_code"), ("bad1.parquet", 7, "behaviour_code"),
        ("bad1.parquet", 8, "behaviour_code"), ("bad1.parquet", 13, "behaviour_code"),
        ("bad2.parquet", 2, "behaviour_code"), ("bad2.parquet", 7, "behaviour_code")]


# Every character Unicode counts as white space (what ``str.strip_chars`` trims), and a
# few that look like it but are not (zero-width space, BOM, word joiner).
_SPACES = (" \t\n\r\x0b\x0c\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200b)))
           + "\u2028\u2029\u202f\u205f\u3000")
_NOT_SPACES = "\u200b\ufeff\u2060"
_PADDING = st.text(alphabet=_SPACES + _NOT_SPACES, max_size=3)
_VALUES = {
    "source": ["广州公共资源交易中心", "省评标专家库", "x"],
    "industry": ["housing", "Transport", "PROCUREMENT", "nope"],
    "region": ["440106", "44010", "４４０１０６"],
    "subject_id": [FIRM, FIRM.lower(), EXPERT, EXPERT.lower(), "123"],
    "subject_type": ["bidder", "Expert", "AGENT", "nobody"],
    "behaviour_code": ["BID-FRAUD", "bid-fraud", "LATE", "NOPE"],
    "decided_on": ["2026-02-01", "2026/3/5", "20260405", "2026年4月5日", "2026-02-30",
                   "45000", "2027-01-01"],
    "recorded_on": ["2026-05-01", "2025-01-01", "x"],
    "revoked_on": ["2026-06-01", "2026-13-01"],
    "restrict_until": ["permanent", "永久", "2027-01-01", "later"],
    "restrict_scope": ["engineering", "all", "land|bogus", "Procurement | land"],
}


_ROWS = st.lists(st.fixed_dictionaries({
    c: st.one_of(st.none(), st.tuples(_PADDING, st.sampled_from(v), _PADDING).map("".join),
                 _PADDING) for c, v in _VALUES.items()}), min_size=1, max_size=12)


def _raw_rows(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c: pl.String for c in _VALUES}).with_columns(
        pl.format("r{}", pl.int_range(pl.len())).alias("record_id"),
        pl.lit(" 某公司 ").alias("subject_name"))


@settings(max_examples=60, deadline=None)
@given(_ROWS)
def test_columns_read_by_value_are_trimmed_and_read_as_the_readers_trim_every_row(
        rows: list[dict[str, str | None]]) -> None:
    """The columns the checks trim themselves (``AS_READ``: once per distinct value, or
    IDs only where not surely valid) give the frame and the problems of the same columns
    trimmed row by row by the reader: white space of every kind around codes,
    categories, days and IDs, blank cells, and characters that look blank but are not."""
    from unittest import mock

    import creditindex.records
    from creditindex.readers import _as_text
    from creditindex.records import AS_READ, _with_origin, check_rows

    raw = _raw_rows(rows)
    answers = []
    # untrimmed, read once per distinct value or row by row (a column of many distinct
    # values); trimmed by the reader
    for as_read, share in ((AS_READ, 0), (AS_READ, 10**9), ((), 0)):
        with mock.patch.object(creditindex.records, "_BY_ROW_SHARE", share):
            text = _as_text(raw, keep_dates=True, as_read=as_read)
            frame, found = check_rows(_with_origin(text, "f.csv"), RULES, TODAY)
        answers.append((frame, [(p.file, p.row, p.column, p.reason,
                                 getattr(p.reason, "code", None),
                                 getattr(p.reason, "params", None)) for p in found]))
    (by_value, found_by_value), *others = answers
    for frame, found in others:
        assert by_value.equals(frame)
        assert found_by_value == found
    # IDs surely valid as written are not upper-cased again: every one is upper case
    assert by_value.get_column("subject_id").equals(
        _as_text(raw).get_column("subject_id").str.to_uppercase())


@settings(max_examples=60, deadline=None)
@given(_ROWS)
def test_columns_read_as_categorical_give_the_answers_of_text(
        rows: list[dict[str, str | None]]) -> None:
    """A CSV file's columns read by value that its reader gives as categorical columns
    (``CATEGORICAL``: each row's place among the values found as the file is read) give
    the frame and the problems of the same file read as text: once per distinct value or
    row by row."""
    from unittest import mock

    import creditindex.records
    from creditindex.readers import read_table
    from creditindex.records import AS_READ, CATEGORICAL, _with_origin, check_rows

    data = _raw_rows(rows).write_csv().encode()
    answers = []
    for categorical, share in ((CATEGORICAL, 0), (CATEGORICAL, 10**9), ((), 0)):
        with mock.patch.object(creditindex.records, "_BY_ROW_SHARE", share):
            text = read_table(data, "f.csv", keep_dates=True, as_read=AS_READ,
                              categorical=categorical)
            assert isinstance(text.schema["industry"], pl.Categorical) == bool(categorical)
            frame, found = check_rows(_with_origin(text, "f.csv"), RULES, TODAY)
        answers.append((frame, [(p.file, p.row, p.column, p.reason,
                                 getattr(p.reason, "code", None),
                                 getattr(p.reason, "params", None)) for p in found]))
    (categorical_frame, categorical_found), *others = answers
    for frame, found in others:
        assert categorical_frame.equals(frame)
        assert categorical_found == found


@pytest.mark.parametrize("rows", ['r2,"src,housing,440106\n', "r2,a,b,c,d,e,f,g,h,i,j\n"])
def test_a_malformed_csv_is_refused_in_the_words_of_its_reading_as_text(rows: str) -> None:
    """A CSV file its reader refuses when some columns are read as categorical columns is
    refused as the same file read as text is, in the same words."""
    from creditindex.readers import read_table
    from creditindex.records import AS_READ, CATEGORICAL

    data = ("record_id,source,industry,region\nr1,src,housing,440106\n" + rows).encode()
    refusals = []
    for categorical in ((), CATEGORICAL):
        with pytest.raises(InputError) as error:
            read_table(data, "f.csv", as_read=AS_READ, categorical=categorical)
        refusals.append(str(error.value))
    assert refusals[0] == refusals[1]
    assert "cannot read file" in refusals[0]


@pytest.mark.parametrize("char", [*_SPACES, *_NOT_SPACES, "a", "年"])
def test_one_trimming_rule(char: str) -> None:
    """:func:`creditindex.readers.trimmed_text_expr` (the checks' trimming of distinct
    values) trims as the readers trim every cell, for every kind of white space."""
    from creditindex.readers import _as_text, trimmed_text_expr

    values = [char, char * 2 + "x", "x" + char, char + "x" + char, "", None]
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    assert _as_text(frame).get_column("v").equals(
        frame.select(trimmed_text_expr(pl.col("v"))).to_series(), check_names=False)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "ab", ""]),
                          st.sampled_from(["1", "2", "12", "", "a"])), max_size=8))
def test_a_repeated_key_is_always_seen(keys: list[tuple[str, str]]) -> None:
    """The hashes of keys folded column by column tell every repeated (source, record_id),
    also of keys whose columns hold each other's values."""
    from creditindex.records import _may_repeat, record_key_hash_expr

    frame = pl.DataFrame(keys, schema={"source": pl.String, "record_id": pl.String},
                         orient="row")
    if len(set(keys)) < len(keys):
        assert _may_repeat(frame.select(record_key_hash_expr()).to_series())
