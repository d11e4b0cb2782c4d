"""Generated data for the Spark tests with every rule of the contract in play: repeats,
linear decay, repairs, revocations, copies of one act, records known only later,
expert suspensions, behaviours that restrict, subjects in several roles (and a
restriction crossing roles), list entries matched by name and by id, and subjects
without records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from creditindex.generate import generate
from creditindex.lists import entries_frame
from creditindex.records import RECORD_SCHEMA, records_frame
from creditindex.rules import RuleSet, load_rules

ON = dt.date(2026, 6, 1)
KNOWN_ON = dt.date(2026, 3, 1)


@dataclass(frozen=True)
class SparkData:
    """Rules, records, subjects without records and list entries."""

    rules: RuleSet
    records: pl.DataFrame
    subjects: pl.DataFrame
    lists: pl.DataFrame


def _code(rules: RuleSet, subject_type: str, *, restricting: bool = False,
          linear: bool = False, min_points: float = 0.0) -> str:
    for b in rules.behaviour:
        if (subject_type in b.subject_types and (not restricting or b.restrict_days)
                and (not linear or b.decay == "linear") and b.points >= min_points):
            return b.code
    raise LookupError(f"no {subject_type} behaviour with restricting={restricting}, "
                      f"linear={linear}, points>={min_points}")


def _row(sid: str, stype: str, name: str, code: str, decided: str, n: int,
         **dates: str) -> dict[str, object]:
    row: dict[str, object] = {
        "record_id": f"SPARK-{n:05d}", "source": "广州市住房和城乡建设局",
        "industry": "housing", "region": "440106", "subject_id": sid, "subject_name": name,
        "subject_type": stype, "behaviour_code": code,
        "decided_on": dt.date.fromisoformat(decided),
        "recorded_on": dt.date.fromisoformat(dates.pop("recorded", decided)),
        "document_no": f"穗建罚〔2025〕{n}号",
    }
    row.update({k: dt.date.fromisoformat(v) for k, v in dates.items()})
    return row


def _stated_bars(rules: RuleSet, firms: pl.DataFrame, expert: dict[str, object]
                 ) -> pl.DataFrame:
    """Records whose decisions state the bar's period and scope (within the statutory
    range of a behaviour that has one), and an expert barred for good where a behaviour
    says so."""
    rows: list[dict[str, object]] = []
    ranged = [b for b in rules.behaviour if b.restrict_min_days and "bidder" in b.subject_types]
    permanent = [b for b in rules.behaviour if b.restrict_days == "permanent"
                 and "expert" in b.subject_types]
    firm = firms.row(0, named=True)
    if ranged:
        b = ranged[0]
        decided = dt.date(2026, 1, 15)
        row = _row(firm["subject_id"], "bidder", firm["subject_name"], b.code,
                   decided.isoformat(), 20)
        row["restrict_until"] = decided + dt.timedelta(days=(b.restrict_min_days or 0) + 10)
        row["restrict_scope"] = (b.restrict_scope or ["engineering"])[0]
        rows.append(row)
    if permanent:
        rows.append(_row(expert["subject_id"], "expert", expert["subject_name"],
                         permanent[0].code, "2025-12-20", 21))
    return records_frame(rows) if rows else records_frame([]).select(list(RECORD_SCHEMA))


def spark_data(n_subjects: int = 2500, n_records: int = 6000, seed: int = 13) -> SparkData:
    """The generator's subjects and records plus a few hand-made ones that make sure
    every rule is exercised (the tests also assert each is present)."""
    rules = load_rules(None)
    subjects, records = generate(n_subjects, n_records, rules, seed=seed)
    bidders = subjects.filter(pl.col("subject_type") == "bidder")
    experts = subjects.filter(pl.col("subject_type") == "expert")
    b0, b1, b2 = (bidders.row(i, named=True) for i in range(3))
    e0 = experts.row(0, named=True)
    suspend = rules.expert_suspension.single_points if rules.expert_suspension else 0
    extra = records_frame([
        # One firm in two roles; a restricting behaviour as agent restricts it as bidder.
        _row(b0["subject_id"], "bidder", b0["subject_name"], _code(rules, "bidder"),
             "2026-01-10", 1),
        _row(b0["subject_id"], "agent", b0["subject_name"],
             _code(rules, "agent", restricting=True), "2026-02-01", 2),
        # Linear decay, repeated within the repeat window.
        _row(b1["subject_id"], "bidder", b1["subject_name"],
             _code(rules, "bidder", linear=True), "2025-09-01", 3),
        _row(b1["subject_id"], "bidder", b1["subject_name"],
             _code(rules, "bidder", linear=True), "2026-01-05", 4),
        # Decided before known-on but recorded after it (known only on the later day),
        # a repaired and a revoked record.
        _row(b2["subject_id"], "bidder", b2["subject_name"], _code(rules, "bidder"),
             "2026-02-20", 5, recorded="2026-04-01"),
        _row(b2["subject_id"], "bidder", b2["subject_name"],
             _code(rules, "bidder", restricting=True), "2025-12-01", 6,
             repaired_on="2026-03-15"),
        _row(b2["subject_id"], "bidder", b2["subject_name"], _code(rules, "bidder"),
             "2025-11-11", 7, revoked_on="2026-05-01"),
        # An expert suspended by one heavy deduction.
        _row(e0["subject_id"], "expert", e0["subject_name"],
             _code(rules, "expert", min_points=float(suspend)), "2026-04-20", 8),
    ])
    columns = list(RECORD_SCHEMA)
    all_records = pl.concat([records.select(columns), extra.select(columns),
                             _stated_bars(rules, bidders.slice(3, 2),
                                          experts.row(1, named=True)).select(columns)])
    # Subjects without records, at full marks (one sharing an id with a listed name).
    offenders = all_records.select("subject_id").unique()
    clean = subjects.join(offenders, on="subject_id", how="anti").head(200)
    listed = all_records.filter(pl.col("subject_type") == "bidder").unique(
        "subject_id", keep="first").sort("subject_id").head(12)
    names = listed.get_column("subject_name").to_list()
    ids = listed.get_column("subject_id").to_list()
    lists = entries_frame([
        # By name, written full-width or with another legal form.
        *({"list": "court", "name": n.replace("有限公司", "有限责任公司"),
           "listed_on": dt.date(2025, 6, 1), "until": None} for n in names[:6]),
        *({"list": "worldbank", "name": f"{n}|Some Alias Ltd",
           "listed_on": dt.date(2026, 1, 1), "until": dt.date(2026, 12, 31)}
          for n in names[6:10]),
        # By id, and one whose listing has ended before the day.
        {"list": "court", "subject_id": ids[10], "name": "whatever",
         "listed_on": dt.date(2025, 1, 1), "until": None},
        {"list": "court", "name": names[11], "listed_on": dt.date(2024, 1, 1),
         "until": dt.date(2025, 1, 1)},
        # A lender's own list: it bars only projects that lender finances.
        {"list": "adb", "name": names[5], "listed_on": dt.date(2025, 1, 1), "until": None,
         "financier": "adb"},
        # A list barring one trading category only.
        {"list": "court", "subject_id": ids[4], "listed_on": dt.date(2025, 1, 1),
         "until": None, "scope": "procurement"},
        # A clean subject (no records) listed by name.
        {"list": "court", "name": clean.row(0, named=True)["subject_name"],
         "listed_on": dt.date(2025, 1, 1), "until": None},
    ])
    return SparkData(rules=rules, records=all_records, subjects=clean, lists=lists)
