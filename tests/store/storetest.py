"""Builders shared by the store tests: a small rule set, the worked examples of
docs/semantics.md as record files, and comparisons of answers from files and from the
store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
from click.testing import CliRunner, Result
from polars.testing import assert_frame_equal

from creditindex.cli import main
from creditindex.evaluate import CreditData, check, compute, explain, history
from creditindex.identifiers import rid_check_char, uscc_check_char
from creditindex.lists import read_list_entries
from creditindex.records import read_records, read_subjects
from creditindex.rules import RuleSet, parse_rules

TODAY = dt.date(2026, 11, 26)
PASSWORD = "correct horse battery"  # of the users every store test starts with

RULES_TOML = """
[ruleset]
name = "store-test"
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
[[grade]]
name = "D"
min = 0
restricted = true
basis = "a provision that allows barring by grade"

[[behaviour]]
code = "LATE"
name = "评标迟到"
subject_types = ["expert"]
points = 10
days = 180

[[behaviour]]
code = "ABSENT"
name = "无故缺席评标"
subject_types = ["expert"]
points = 20
days = 365

[[behaviour]]
code = "BID-FRAUD"
name = "弄虚作假骗取中标"
subject_types = ["bidder"]
points = 20
days = 365
repeat_within_days = 365
repeat_factor = 2.0
min_publish_days = 365

[[behaviour]]
code = "BID-COLLUSION"
name = "串通投标"
subject_types = ["bidder"]
points = 30
days = 1095
restrict_days = 1095
basis = "《招标投标法》第五十三条"
min_publish_days = 365

[[behaviour]]
code = "LIN"
name = "线性递减测试"
subject_types = ["bidder", "agent"]
points = 20
days = 100
decay = "linear"

[expert_suspension]
basis = "青海省评标专家管理办法"
window_days = 365
single_points = 15
total_points = 25
suspend_days = 180
"""


def run(*args: str, code: int = 0) -> Result:
    """The command line run in-process with ``args``; fails the test unless it exits with
    ``code``."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


def uscc(n: int) -> str:
    """A valid USCC numbered ``n``."""
    body = f"91440106MA{n:07d}"
    return body + uscc_check_char(body)


def rid(n: int) -> str:
    """A valid resident ID number numbered ``n``."""
    body = f"44010619800101{n % 1000:03d}"
    return body + rid_check_char(body)


E, F, G, H, L, R, V = rid(1), uscc(1), uscc(2), uscc(3), uscc(4), uscc(5), uscc(8)
S, X = uscc(6), uscc(9)  # registered subjects without records; X is on a list
COLUMNS = ["record_id", "source", "industry", "region", "subject_id", "subject_name",
           "subject_type", "behaviour_code", "decided_on", "recorded_on", "document_no",
           "revoked_on", "repaired_on"]


def example_rows(with_lifecycle: bool = False) -> list[dict[str, Any]]:
    """The worked examples (docs/semantics.md) plus a repair, a revocation, a copy of an act
    from a second source and a record revoked by its source. With ``with_lifecycle`` the
    repair of R1 and the revocation of R2 are in the rows, as a source would carry them."""
    def r(rid_: str, sid: str, name: str, stype: str, code: str, decided: str,
          **extra: str) -> dict[str, Any]:
        row = {"record_id": rid_, "source": extra.pop("source", "广州市住建局"),
               "industry": extra.pop("industry", "housing"),
               "region": extra.pop("region", "440106"), "subject_id": sid,
               "subject_name": name, "subject_type": stype, "behaviour_code": code,
               "decided_on": decided, "recorded_on": "", "document_no": "",
               "revoked_on": "", "repaired_on": ""}
        row.update(extra)
        return row

    rows = [
        r("E1", E, "专家甲", "expert", "LATE", "2026-01-10"),
        r("E2", E, "专家甲", "expert", "ABSENT", "2026-03-01"),
        r("F1", F, "广州甲建设有限公司", "bidder", "BID-FRAUD", "2026-01-01",
          document_no="穗建罚〔2026〕1号"),
        r("F2", F, "广州甲建设有限公司", "bidder", "BID-FRAUD", "2026-06-01"),
        r("F1-copy", F, "广州甲建设有限公司", "bidder", "BID-FRAUD", "2026-01-01",
          source="广东省信用平台", document_no="穗建罚〔2026〕1号", recorded_on="2026-01-05"),
        r("G1", G, "乙交通工程有限公司", "bidder", "BID-COLLUSION", "2026-02-01",
          industry="transport"),
        r("H1", H, "丙公司", "bidder", "BID-FRAUD", "2026-02-01", recorded_on="2026-02-20"),
        r("L1", L, "丁咨询有限公司", "agent", "LIN", "2026-03-01"),
        r("R1", R, "戊建设有限公司", "bidder", "BID-FRAUD", "2025-01-01",
          repaired_on="2026-02-01" if with_lifecycle else ""),
        r("R2", R, "戊建设有限公司", "bidder", "BID-COLLUSION", "2025-06-01",
          revoked_on="2026-04-01" if with_lifecycle else ""),
        r("V1", V, "己公司", "bidder", "BID-FRAUD", "2025-12-01", revoked_on="2026-01-15"),
    ]
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows as a UTF-8 CSV with the canonical columns."""
    pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String)).write_csv(path)
    return path


def write_examples(folder: Path) -> dict[str, Path]:
    """Record, subject, list and rule files of the worked examples in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rules = folder / "rules.toml"
    rules.write_text(RULES_TOML, encoding="utf-8")
    subjects = folder / "subjects.csv"
    pl.DataFrame({"subject_id": [S, X, F], "subject_type": ["tenderer", "bidder", "bidder"],
                  "subject_name": ["某市第一中学", "庚建设集团有限公司", "广州甲建设有限公司"]}
                 ).write_csv(subjects)
    lists = folder / "court.csv"
    pl.DataFrame({"list": ["court-defaulters", "worldbank"],
                  "entry_id": ["C-1", "WB-9"], "subject_id": [X, None],
                  "name": [None, "丙公司"], "country": [None, "China"],
                  "listed_on": ["2026-01-01", "2026-05-01"],
                  "until": ["2026-12-31", "Ongoing"],
                  "grounds": ["失信被执行人", "fraud"]}).write_csv(lists)
    return {
        "records": write_csv(folder / "records.csv", example_rows()),
        "records_lifecycle": write_csv(folder / "records_lifecycle.csv",
                                       example_rows(with_lifecycle=True)),
        "subjects": subjects, "lists": lists, "rules": rules,
    }


def example_rules() -> RuleSet:
    """The rule set of :data:`RULES_TOML`."""
    return parse_rules(RULES_TOML, "rules.toml")


def file_data(files: dict[str, Path], records: str = "records_lifecycle",
              manual: pl.DataFrame | None = None) -> CreditData:
    """The worked examples read from files, as the command line reads them."""
    rules = example_rules()
    return CreditData(records=read_records([files[records]], rules, today=TODAY),
                      rules=rules, subjects=read_subjects(files["subjects"]),
                      lists=read_list_entries([files["lists"]]), manual=manual)


DAYS = [dt.date.fromisoformat(d) for d in (
    "2025-06-01", "2026-01-09", "2026-01-10", "2026-02-10", "2026-03-01", "2026-03-26",
    "2026-04-01", "2026-06-01", "2026-07-09", "2026-07-15", "2026-08-28", "2027-01-01",
    "2027-06-01", "2029-01-31")]
KNOWN = [None, dt.date(2026, 2, 10), dt.date(2026, 3, 31), dt.date(2026, 11, 26)]


def assert_same_answers(a: CreditData, b: CreditData) -> None:
    """compute (every day x known-on), history, explain and check agree."""
    for known in KNOWN:
        for day in DAYS:
            assert_frame_equal(compute(a, day, known), compute(b, day, known),
                               check_row_order=True)
    ids = sorted(set(a.records.get_column("subject_id").to_list()) | {S, X})
    for sid in ids:
        assert_frame_equal(history(a, sid, DAYS[0], DAYS[-1]),
                           history(b, sid, DAYS[0], DAYS[-1]))
        for day in (DAYS[3], DAYS[6], DAYS[8]):
            assert_frame_equal(explain(a, sid, day), explain(b, sid, day))
    for day in DAYS:
        assert_frame_equal(check(a, day, ids).table, check(b, day, ids).table)
        assert_frame_equal(check(a, day, [F, G], consortium=True).table,
                           check(b, day, [F, G], consortium=True).table)


def index_of(frame: pl.DataFrame, subject_id: str) -> float:
    """The index of the first row of ``subject_id``."""
    return float(frame.filter(pl.col("subject_id") == subject_id).get_column("index")[0])


def restricted(frame: pl.DataFrame, subject_id: str) -> bool:
    """Whether ``subject_id`` is restricted in ``frame``."""
    return bool(frame.filter(pl.col("subject_id") == subject_id).get_column("restricted")[0])
