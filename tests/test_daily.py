"""``daily.next_change``: a subject's answer stands until its next change point, except
for the daily movement of a linearly decaying deduction (docs/semantics.md §5.6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from creditindex import engine
from creditindex.daily import (
    grounds_expr,
    ledger_and_restrictions,
    next_change,
    restriction_days,
)
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


def test_many_subjects_on_their_own_days_equal_compute_of_each_day(tmp_path: Path) -> None:
    """``evaluate.compute_many`` (one compiled ledger, a day per subject) gives, for every
    subject and day asked, the row ``compute`` of that day gives (as known on one day),
    under the default rules and under rules with a restricted grade; subjects of the
    subjects file without records, lists and manual restrictions included."""
    from creditindex.evaluate import compile_known, compute_many

    base = _data(tmp_path)
    ids = base.records.get_column("subject_id").unique(maintain_order=True).to_list()
    subjects = pl.DataFrame({"subject_id": [ids[3], "91440101000000000X"],
                             "subject_type": ["bidder", "bidder"],
                             "subject_name": ["Registered", "No records"]})
    known = dt.date(2026, 3, 1)
    days = [known + dt.timedelta(days=i) for i in range(0, 400, 9)]
    for rules in (base.rules, load_rules(ROOT / "scoring_rules" / "strict-draft.toml")):
        data = CreditData(records=base.records, rules=rules, lists=base.lists,
                          manual=base.manual, subjects=subjects)
        # each subject on a few of the days (not all subjects on every day)
        wanted = pl.DataFrame({"subject_id": [*ids, "91440101000000000X"]}).join(
            pl.DataFrame({"day": [to_day(d) for d in days]}), how="cross").filter(
            (pl.col("subject_id").hash(1) + pl.col("day").cast(pl.UInt64)) % 3 != 0)
        many = compute_many(data, wanted, compile_known(data, known))
        columns = [c for c in many.columns if c not in ("day", "decays_until")]
        for day in days:
            asked = wanted.filter(pl.col("day") == to_day(day)).select("subject_id")
            want = compute(data, day, known_on=known).join(asked, on="subject_id", how="semi")
            got = many.filter(pl.col("day") == to_day(day))
            assert want.height == got.height > 0
            assert want.select(columns).sort(KEY).equals(got.select(columns).sort(KEY)), day


def test_answers_ahead_are_each_days_answer_until_something_becomes_known(
        tmp_path: Path) -> None:
    """``answers_ahead``: a subject's answers on its coming change points equal
    ``compute`` and ``next_change`` of each of those days as known that day, and stop
    before the first day a fact already in the data becomes known (here records
    recorded, revoked and repaired later)."""
    from creditindex.daily import answers_ahead, knowledge_days

    data = _data(tmp_path)
    start = dt.date(2026, 2, 1)
    first = answers_ahead(data, start, spell_days=HORIZON + 20)
    known = knowledge_days(data, to_day(start))
    assert known.height > 0
    late = first.spells.join(known, on="subject_id").filter(
        pl.col("day").cast(pl.Int32) >= pl.col("at"))
    assert late.height == 0  # nothing past a knowledge day
    assert first.spells.height > 0
    columns = ["subject_name", "index", "grade", "watch", "deducted", "restricted",
               "restricted_in", "reasons", "next_change", "decays_until"]
    for day, got in [(start, first.today), *(
            (d, first.spells.filter(pl.col("day") == d))
            for d in first.spells.get_column("day").unique().sort().to_list())]:
        want = compute(data, day, known_on=day).join(next_change(data, day), on=KEY).join(
            got.select(KEY), on=KEY, how="semi")
        assert want.height == got.height
        assert want.select(*KEY, *columns).sort(KEY).equals(
            got.select(*KEY, *columns).sort(KEY)), day


def test_the_grounds_are_what_follows_the_first_restricted_in_the_reasons(tmp_path: Path
                                                                          ) -> None:
    """``grounds_expr`` (literal text) reads the grounds out of reasons as the regular
    expression ``(?s)restricted: (.*)`` does, on every answer of the sample's subjects and
    on the edge cases: none, an empty rest, line breaks, a second mark, wide characters."""
    data = _data(tmp_path)
    reasons = pl.concat([
        compute(data, dt.date(2026, 3, d), dt.date(2026, 3, d)).get_column("reasons")
        for d in (12, 20, 29)]).append(pl.Series("reasons", [
            None, "", "no restriction", "restricted: ", "a; restricted: x\nrestricted: y",
            "扣分; restricted: 甲\n乙", "restricted:x"]))
    assert reasons.str.contains("restricted: ").any()
    frame = reasons.to_frame()
    assert frame.select(grounds_expr(pl.col("reasons"))).to_series().equals(
        frame.select(pl.col("reasons").str.extract(r"(?s)restricted: (.*)", 1)).to_series())
