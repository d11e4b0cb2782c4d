"""The synthetic data generator: deterministic, canonical, valid, skewed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from creditindex.generate import (
    SUBJECT_SCHEMA,
    generate,
    generate_records,
    generate_subjects,
    write_sample,
)
from creditindex.identifiers import rid_problem, uscc_problem
from creditindex.records import RECORD_SCHEMA, read_records
from creditindex.rules import RuleSet, load_rules, parse_rules

TODAY = dt.date(2026, 11, 26)
END = dt.date(2026, 11, 25)
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def data(rules: RuleSet) -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate(2000, 4000, rules, seed=11)


def test_deterministic_for_a_seed(rules: RuleSet) -> None:
    s1, r1 = generate(500, 900, rules, seed=3)
    s2, r2 = generate(500, 900, rules, seed=3)
    assert s1.equals(s2)
    assert r1.equals(r2)
    s3, r3 = generate(500, 900, rules, seed=4)
    assert not s1.equals(s3)
    assert not r1.equals(r3)


def test_schemas(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    subjects, records = data
    assert subjects.schema == pl.Schema(SUBJECT_SCHEMA)
    assert records.schema == pl.Schema(RECORD_SCHEMA)
    assert list(records.columns) == list(RECORD_SCHEMA)


@pytest.mark.parametrize(("n_subjects", "n_records"),
                         [(2000, 4000), (1, 1), (3, 7), (10, 0), (50, 250), (37, 101)])
def test_sizes_exact(rules: RuleSet, n_subjects: int, n_records: int) -> None:
    subjects, records = generate(n_subjects, n_records, rules, seed=1)
    assert subjects.height == n_subjects
    assert records.height == n_records
    assert records.schema == pl.Schema(RECORD_SCHEMA)


def test_no_subjects() -> None:
    assert generate_subjects(0).schema == pl.Schema(SUBJECT_SCHEMA)
    assert generate_subjects(0).height == 0


def test_subject_mix_and_dual_roles(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    subjects, _ = data
    share = dict(subjects.group_by("subject_type").len().iter_rows())
    assert share == {"bidder": 1200, "expert": 400, "agent": 200, "tenderer": 200}
    assert subjects.select(pl.struct("subject_id", "subject_type").is_unique().all()).item()
    shared = subjects.filter(pl.col("subject_id").is_duplicated())
    # Firms with two roles: a bidder and an agent with the same code and the same name.
    assert shared.height == 2 * 36
    roles = shared.group_by("subject_id").agg(
        pl.col("subject_type").sort(), pl.col("subject_name").n_unique())
    assert all(t.to_list() == ["agent", "bidder"] for t in roles["subject_type"])
    assert (roles["subject_name"] == 1).all()


def test_identifiers_are_valid(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    subjects, _ = data
    for sid, stype in subjects.select("subject_id", "subject_type").iter_rows():
        problem = rid_problem(sid) if stype == "expert" else uscc_problem(sid)
        assert problem is None, (sid, stype, problem)
    firms = subjects.filter(pl.col("subject_type") != "expert")
    assert firms["subject_id"].str.slice(2, 2).eq("44").all()  # Guangdong region codes
    experts = subjects.filter(pl.col("subject_type") == "expert")
    born = experts["subject_id"].str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d")
    assert born.min() >= dt.date(1955, 1, 1)  # type: ignore[operator]
    assert born.max() <= dt.date(1995, 12, 31)  # type: ignore[operator]


def test_names_look_chinese(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    subjects, _ = data
    by_type = {t: f["subject_name"] for (t,), f in subjects.group_by("subject_type")}
    assert by_type["bidder"].str.contains("公司$").all()
    assert by_type["agent"].str.contains("公司$").all()
    assert by_type["tenderer"].str.contains("(局|学校|中学|小学|幼儿园|院|中心|公司)$").all()
    assert by_type["expert"].str.len_chars().is_between(2, 3).all()


def test_behaviours_allowed_for_subject_type(data: tuple[pl.DataFrame, pl.DataFrame],
                                             rules: RuleSet) -> None:
    _, records = data
    allowed = {(b.code, t) for b in rules.behaviour for t in b.subject_types}
    pairs = set(records.select("behaviour_code", "subject_type").unique().iter_rows())
    assert pairs <= allowed


def test_records_are_about_the_subjects(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    subjects, records = data
    keyed = records.join(subjects, on=["subject_id", "subject_type"], how="left",
                         suffix="_subject")
    assert keyed["subject_name_subject"].null_count() == 0
    assert (keyed["subject_name"] == keyed["subject_name_subject"]).all()


def test_follows_any_rule_set() -> None:
    custom = parse_rules("""
[ruleset]
name = "custom"
version = "1"
[[grade]]
name = "ok"
min = 0
[[behaviour]]
code = "ZZ-ONE"
name = "一"
subject_types = ["bidder", "agent"]
points = 5
days = 100
[[behaviour]]
code = "ZZ-TWO"
name = "二"
subject_types = ["expert"]
points = 50
days = 100
""")
    subjects = generate_subjects(300, seed=2)
    records = generate_records(subjects, 600, custom, seed=2)
    assert set(records["behaviour_code"].unique()) == {"ZZ-ONE", "ZZ-TWO"}
    assert "tenderer" not in set(records["subject_type"])  # no behaviour applies to them
    # The minor behaviour is drawn more often than the grave one.
    counts = dict(records.group_by("behaviour_code").len().iter_rows())
    assert counts["ZZ-ONE"] > counts["ZZ-TWO"]


def test_no_applicable_behaviour_is_an_error() -> None:
    only_experts = parse_rules("""
[ruleset]
name = "x"
version = "1"
[[grade]]
name = "ok"
min = 0
[[behaviour]]
code = "E"
name = "e"
subject_types = ["expert"]
points = 5
days = 100
""")
    bidders = generate_subjects(1)  # a single bidder
    with pytest.raises(ValueError, match="no subject"):
        generate_records(bidders, 10, only_experts)


def test_records_read_back_without_problems(tmp_path: Path, rules: RuleSet) -> None:
    write_sample(tmp_path, n_subjects=2000, n_records=4000, seed=5, rules=rules)
    back = read_records([tmp_path / "records.csv"], load_rules(), today=TODAY)
    assert back.height == 4000
    text = (tmp_path / "records.csv").read_bytes()
    assert not text.startswith(b"\xef\xbb\xbf")
    text.decode("utf-8")
    header = text.split(b"\n", 1)[0].decode()
    assert header == ",".join(RECORD_SCHEMA)
    subjects = pl.read_csv(tmp_path / "subjects.csv", infer_schema=False)
    assert subjects.columns == list(SUBJECT_SCHEMA)
    assert subjects.height == 2000


def test_committed_sample_reads_back() -> None:
    if not (SAMPLE / "records.csv").exists():
        pytest.skip("no committed sample")
    records = read_records([SAMPLE / "records.csv"], load_rules(), today=TODAY)
    subjects = pl.read_csv(SAMPLE / "subjects.csv", infer_schema=False)
    known = subjects.select("subject_id", "subject_type").unique()
    assert records.join(known, on=["subject_id", "subject_type"], how="anti").height == 0


def test_skewed(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    subjects, records = data
    per_subject = records.group_by("subject_id", "subject_type").len()
    assert per_subject.height / subjects.height < 0.4
    assert per_subject["len"].max() >= 5  # type: ignore[operator]
    assert (per_subject["len"] == 1).sum() > (per_subject["len"] >= 20).sum()
    # Some subject repeats a behaviour within a year (repeat escalation applies).
    originals = records.filter(~pl.col("source").is_in(_aggregators(records)))
    repeats = originals.sort("decided_on").with_columns(
        gap=(pl.col("decided_on").diff().over("subject_id", "subject_type", "behaviour_code")
             .dt.total_days()))
    assert repeats.filter(pl.col("gap").is_between(1, 365)).height > 0


def _aggregators(records: pl.DataFrame) -> list[str]:
    """Sources that only republish other sources' acts."""
    acts = records.group_by("document_no").agg(pl.col("source"), pl.len())
    copies = acts.filter(pl.col("len") > 1).explode("source")["source"].unique().to_list()
    firsts = records.filter(pl.col("document_no").is_unique())["source"].unique().to_list()
    return [s for s in copies if s not in firsts]


def test_same_act_published_twice(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    _, records = data
    acts = records.group_by("subject_id", "subject_type", "behaviour_code", "decided_on",
                            "document_no").agg(
        pl.col("source").n_unique().alias("sources"),
        pl.col("record_id").n_unique().alias("ids"), pl.len())
    twice = acts.filter(pl.col("len") > 1)
    assert twice.height == 40  # 1% of 4000
    assert (twice["len"] == 2).all()
    assert (twice["sources"] == 2).all()
    assert (twice["ids"] == 2).all()
    # Apart from those, every record has its own document number.
    assert records["document_no"].n_unique() == records.height - twice.height
    assert records["document_no"].str.contains(r"^\S+〔20\d\d〕\d+号$").all()


def test_record_ids_unique_per_source(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    _, records = data
    assert records.select(pl.struct("source", "record_id").is_unique().all()).item()


def test_dates(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    _, records = data
    start = dt.date(2021, 1, 1)
    dec, rec = pl.col("decided_on"), pl.col("recorded_on")
    checks = records.select(
        dec.min().alias("first"), dec.max().alias("last"),
        (rec >= dec).all().alias("rec_after"),
        ((rec - dec).dt.total_days() <= 60).all().alias("rec_soon"),
        (pl.col("revoked_on") > dec).all().alias("rev_after"),
        (pl.col("repaired_on") > dec).all().alias("rep_after"),
        pl.max_horizontal(dec, rec, "revoked_on", "repaired_on").max().alias("latest"),
        pl.col("revoked_on").is_not_null().mean().alias("revoked"),
        pl.col("repaired_on").is_not_null().mean().alias("repaired"),
        (pl.col("revoked_on").is_not_null() & pl.col("repaired_on").is_not_null()).sum()
        .alias("both"),
        dec.dt.year().n_unique().alias("years"),
    ).row(0, named=True)
    assert checks["first"] >= start
    assert checks["latest"] <= END
    assert checks["rec_after"] and checks["rec_soon"]
    assert checks["rev_after"] and checks["rep_after"]
    assert 0.01 < checks["revoked"] < 0.03
    assert 0.02 < checks["repaired"] < 0.045
    assert checks["both"] == 0
    assert checks["years"] == 6


def test_custom_period(rules: RuleSet) -> None:
    subjects = generate_subjects(200, seed=9)
    records = generate_records(subjects, 500, rules, seed=9, start=dt.date(2024, 3, 1),
                               end=dt.date(2024, 3, 31))
    dates = records.select(pl.concat_list("decided_on", "recorded_on", "revoked_on",
                                          "repaired_on").explode().drop_nulls()).to_series()
    assert dates.min() >= dt.date(2024, 3, 1)  # type: ignore[operator]
    assert dates.max() <= dt.date(2024, 3, 31)  # type: ignore[operator]


def test_industries_regions_sources(data: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    _, records = data
    assert set(records["industry"]) <= {"housing", "municipal", "transport", "water",
                                        "procurement", "land", "property", "medical"}
    assert records["region"].str.contains(r"^44\d{4}$").all()
    guangzhou = records["region"].str.starts_with("4401").mean()
    assert 0.6 < guangzhou < 0.95  # type: ignore[operator]
    # A city regulator fits the industry: finance bureaus only punish procurement.
    finance = records.filter(pl.col("source").str.ends_with("财政局"))
    assert finance.height > 0
    assert (finance["industry"] == "procurement").all()


def test_invalid_arguments(rules: RuleSet) -> None:
    subjects = generate_subjects(10)
    with pytest.raises(ValueError):
        generate_subjects(-1)
    with pytest.raises(ValueError):
        generate_records(subjects, -1, rules)
    with pytest.raises(ValueError):
        generate_records(subjects, 5, rules, start=dt.date(2025, 1, 2), end=dt.date(2025, 1, 1))
