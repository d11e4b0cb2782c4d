"""The store and contract v2: the rule set in force on the day asked answers for that day;
a registered firm without records that a list names is not certified eligible; the
decision's stated bar, scope, authority, basis and publication deadline are kept."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from creditindex.cli import main
from tests.store.storetest import RULES_TOML, TODAY, G, X, write_examples


def run(*args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture
def loaded(store_url: str, tmp_path: Path) -> dict[str, Path]:
    files = write_examples(tmp_path / "data")
    db = ["--db", store_url]
    run("rules", "publish", str(files["rules"]), *db, "--user", "rita",
        "--effective", "2020-01-01")
    run("import", *db, "--records", str(files["records"]), "--subjects",
        str(files["subjects"]), "--user", "alice", "--today", TODAY.isoformat(),
        "--no-progress")
    run("lists", "import", str(files["lists"]), *db)
    return files


def test_the_rule_set_in_force_on_the_day_answers(store_url: str, loaded: dict[str, Path],
                                                  tmp_path: Path) -> None:
    """A regime that switches on a date (as the repair regime of 2026-04-01): days before
    it are answered with the earlier version, days from it with the new one."""
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(RULES_TOML.replace('version = "1"', 'version = "2"').replace(
        "points = 30\ndays = 1095", "points = 40\ndays = 1095"), encoding="utf-8")
    run("rules", "publish", str(stricter), "--db", store_url, "--user", "rita",
        "--effective", "2026-04-01")
    out = tmp_path / "x.csv"
    for day, index in (("2026-03-31", 70.0), ("2026-04-01", 60.0)):
        run("compute", "--db", store_url, "--on", day, "--out", str(out))
        frame = pl.read_csv(out, schema_overrides={"subject_id": pl.String})
        assert frame.filter(pl.col("subject_id") == G).get_column("index").item() == index
    named = run("explain", "--db", store_url, "--on", "2026-04-01", "--subject", G)
    assert "rule set store-test 2" in named.output
    earlier = run("explain", "--db", store_url, "--on", "2026-03-31", "--subject", G)
    assert "rule set store-test 1" in earlier.output


def test_a_registered_firm_on_a_list_is_not_certified(store_url: str,
                                                      loaded: dict[str, Path],
                                                      tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    run("check", "--db", store_url, "--on", "2026-06-01", "--subjects", X, "--out", str(out))
    answer = json.loads(out.read_text(encoding="utf-8"))[0]
    assert answer["eligible"] is False
    assert answer["subject_name"] == "庚建设集团有限公司"
    assert "court-defaulters" in answer["reasons"]


def test_stated_bars_and_publication_fields_round_trip(store_url: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_TOML.replace(
        'restrict_days = 1095\nbasis = "《招标投标法》第五十三条"',
        'restrict_days = 365\nbasis = "《招标投标法》第五十三条"\nrestrict_min_days = 365\n'
        'restrict_max_days = 731\nrestrict_scope = ["engineering", "procurement"]'),
        encoding="utf-8")
    records = tmp_path / "records.csv"
    records.write_text(
        "record_id,source,industry,region,subject_id,subject_name,subject_type,"
        "behaviour_code,decided_on,restrict_until,restrict_scope,authority,basis,"
        "publish_until,document_no\n"
        f"G9,gz,transport,440106,{G},乙交通工程有限公司,bidder,BID-COLLUSION,2026-02-01,"
        "2027-07-31,engineering,广州市交通运输局,《招标投标法》第五十三条,2028-01-31,"
        "穗交罚〔2026〕7号\n", encoding="utf-8")
    db = ["--db", store_url]
    run("rules", "publish", str(rules), *db, "--user", "rita", "--effective", "2020-01-01")
    run("import", *db, "--records", str(records), "--user", "alice", "--today",
        TODAY.isoformat(), "--no-progress")
    out = tmp_path / "c.json"
    for category, eligible in (("engineering", False), ("procurement", True)):
        run("check", *db, "--on", "2027-07-31", "--subjects", G, "--category", category,
            "--out", str(out))
        answer = json.loads(out.read_text(encoding="utf-8"))[0]
        assert answer["eligible"] is eligible
        assert answer["restricted_in"] == "engineering"
    run("check", *db, "--on", "2027-08-01", "--subjects", G, "--out", str(out))
    assert json.loads(out.read_text(encoding="utf-8"))[0]["eligible"] is True
    from creditindex.store.load import load_data

    stored = load_data(store_url).records.row(0, named=True)
    assert (stored["authority"], stored["restrict_scope"], str(stored["publish_until"]),
            str(stored["restrict_until"])) == ("广州市交通运输局", "engineering",
                                               "2028-01-31", "2027-07-31")
