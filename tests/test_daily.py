"""``daily.next_change``: a subject's answer stands until its next change point, except
for the daily movement of a linearly decaying deduction (docs/semantics.md §5.6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from creditindex import engine
from creditindex.daily import ledger_and_restrictions, next_change, restriction_days
from creditindex.days import to_day
from creditindex.evaluate import CreditData, compute, restrictions
from creditindex.lists import read_list_entries
from creditindex.records import read_records
from creditindex.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
KEY = ["subject_id", "subject_type"]
ANSWER = ["subject_name", "index", "grade", "deducted", "restricted", "reasons"]
HORIZON = 40


def _data(tmp_path: Path) -> CreditData:
    rules = load_rules()
    records = read_records([ROOT / "data" / "sample" / "records.csv"], rules)
    ids = records.get_column("subject_id").unique(maintain_order=True).head(400).to_list()
    records = records.filter(pl.col("subject_id").is_in(pl.Series(ids).implode()))
    lists = tmp_path / "lists.csv"
    pl.DataFrame({"list": ["court", "court"], "entry_id": ["C1", "C2"],
                  "subject_id": [ids[0], ids[1]], "name": [None, None],
                  "country": [None, None], "listed_on": ["2026-03-10", "2026-02-01"],
                  "until": ["2026-03-28", "Ongoing"], "grounds": ["x", "y"]}).write_csv(lists)
    manual = pl.DataFrame({"subject_id": [ids[2]], "start": [dt.date(2026, 3, 12)],
                           "until": [dt.date(2026, 3, 30)], "reason": ["manual"],
                           "document_no": [None]}, schema_overrides={"document_no": pl.String})
    return CreditData(records=records, rules=rules, lists=read_list_entries([lists]),
                      manual=manual)


def test_answers_stand_until_the_next_change(tmp_path: Path) -> None:
    data = _data(tmp_path)
    start = dt.date(2026, 3, 1)
    changes = next_change(data, start)
    assert changes.height == data.subject_keys().height
    daily = pl.concat([compute(data, start + dt.timedelta(days=i),
                               start + dt.timedelta(days=i)).with_columns(
        pl.lit(start + dt.timedelta(days=i)).alias("day")) for i in range(HORIZON + 1)])
    first = daily.filter(pl.col("day") == start).select(*KEY, *ANSWER)
    moved = daily.join(first, on=[*KEY, *ANSWER], how="anti", nulls_equal=True).group_by(
        KEY).agg(pl.col("day").min().alias("moved_on"))
    checked = changes.join(moved, on=KEY, how="left")
    # every move happens on or after a change point, or while a deduction decays
    early = checked.filter(
        pl.col("moved_on").is_not_null()
        & (pl.col("next_change").is_null() | (pl.col("moved_on") < pl.col("next_change")))
        & (pl.col("decays_until").is_null() | (pl.col("decays_until") < pl.col("moved_on"))))
    assert early.height == 0, early
    # and the change points are real: many subjects move on theirs
    on_time = checked.filter(pl.col("moved_on") == pl.col("next_change")).height
    assert on_time > 10
    assert checked.filter(pl.col("decays_until").is_not_null()).height > 0


def _restriction_days_of_frames(data: CreditData, day: int) -> pl.DataFrame:
    """The reference: the same days read off ``evaluate.restrictions``' frames."""
    intervals = restrictions(data, day)
    return pl.concat([intervals.select("subject_id", pl.col(c).alias("at"))
                      for c in ("start", "end")]).drop_nulls()


def test_restriction_days_are_those_of_the_restriction_frames(tmp_path: Path) -> None:
    data = _data(tmp_path)
    for day in (dt.date(2026, 1, 1), dt.date(2026, 3, 15), dt.date(2026, 6, 1)):
        d = to_day(day)
        fast = restriction_days(data, d).sort("subject_id", "at")
        assert fast.equals(_restriction_days_of_frames(data, d).sort("subject_id", "at"))
        assert fast.height > 0
        ledger, found = ledger_and_restrictions(data, d)  # one compilation, lexical codes
        assert ledger.equals(engine.ledger(data.records, data.rules, d))
        assert restriction_days(data, d, found).sort("subject_id", "at").equals(fast)
        assert next_change(data, d, ledger, found).sort(KEY).equals(
            next_change(data, d).sort(KEY))


def test_the_end_of_publication_is_no_change_point(tmp_path: Path) -> None:
    """The day's answer does not depend on whether a record may still be shown
    (public faces filter the records they show), so a publication's end is not a change
    point: with every record's ``publish_until`` on some day before, on or after the
    asked day, the answers and the next change points are those without it."""
    data = _data(tmp_path)
    day = dt.date(2026, 3, 15)
    # the decision day, or the asked day, or its eve, round-robin over the rows
    shifts = pl.int_range(pl.len()) % 3
    ended = data.records.with_columns(
        pl.when(shifts == 0).then(pl.col("decided_on"))
        .when(shifts == 1).then(pl.lit(day)).otherwise(pl.lit(day - dt.timedelta(days=1)))
        .alias("publish_until"))
    published = CreditData(records=ended, rules=data.rules, lists=data.lists,
                           manual=data.manual)
    plain = CreditData(records=data.records.with_columns(
        pl.lit(None, pl.Date).alias("publish_until")), rules=data.rules, lists=data.lists,
        manual=data.manual)
    for on in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)):
        assert compute(published, on).equals(compute(plain, on))
    assert next_change(published, day).sort(KEY).equals(next_change(plain, day).sort(KEY))
