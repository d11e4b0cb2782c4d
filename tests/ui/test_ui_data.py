"""The app's data module: answers cached per database state, the daily snapshot used
when it is current, public views masked, paging without copies."""

from __future__ import annotations

import polars as pl
import pytest

from creditindex import evaluate
from creditindex.store.lifecycle import add_restriction
from creditindex.store.load import load_data
from creditindex.store.snapshots import evaluate as evaluate_day
from creditindex.ui import data, tables
from tests.ui.uihelpers import STAFF, TODAY


def test_rankings_are_the_engines_answer(db: str) -> None:
    ranking = data.rankings(TODAY)
    oracle = evaluate.compute(load_data(db), TODAY)
    got = pl.concat([ranking.of(t) for t in ("agent", "bidder", "expert", "tenderer")])
    assert got.select(evaluate.COMPUTE_COLUMNS).equals(
        oracle.sort("subject_type", "rank", "subject_id"))
    experts = ranking.of("expert")
    assert experts.get_column("public_id").str.contains(r"\*{8}").all()


def test_the_daily_snapshot_is_used_while_current(db: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate_day(db, TODAY, catch_up=False)
    data.changed()
    oracle = evaluate.compute(load_data(db), TODAY)

    def no_compute(*_args: object, **_kwargs: object) -> pl.DataFrame:
        raise AssertionError("computed although the stored snapshot is current")

    with monkeypatch.context() as m:
        m.setattr(evaluate, "compute", no_compute)
        stored = data.rankings(TODAY).of("bidder")
    kept = [c for c in evaluate.COMPUTE_COLUMNS if c != "restricted_in"]  # not in snapshots
    assert stored.select(kept).equals(
        oracle.filter(pl.col("subject_type") == "bidder").select(kept))
    clean = stored.filter(~pl.col("restricted")).row(0, named=True)["subject_id"]
    add_restriction(db, clean, user="staff", start=TODAY, reason="test")  # the data change
    data.changed()
    after = data.rankings(TODAY).of("bidder")  # computed afresh
    assert after.filter(pl.col("subject_id") == clean).get_column("restricted")[0]


def test_cached_per_state(db: str) -> None:
    first = data.rankings(TODAY)
    assert data.rankings(TODAY) is first  # shared, not recomputed
    data.check(STAFF, [first.of("bidder").get_column("subject_id")[0]], TODAY, TODAY,
               None, False)
    assert data.rankings(TODAY) is first  # a saved check changes no answer


def test_paging_backwards_without_copies() -> None:
    frame = pl.DataFrame({"rank": list(range(1, 11))})
    assert tables.page_of(frame, 1, 4, reverse=True).get_column("rank").to_list() == [
        10, 9, 8, 7]
    assert tables.page_of(frame, 3, 4, reverse=True).get_column("rank").to_list() == [2, 1]
    assert tables.page_of(frame, 3, 4).get_column("rank").to_list() == [9, 10]
    assert tables.page_count(0, 50) == 1 and tables.page_count(101, 50) == 3


def test_grade_counts_in_the_rule_sets_order() -> None:
    ranked = pl.DataFrame({"grade": ["B", "A", "B", None]})
    counts = tables.grade_counts(ranked, ["A", "B", "C"])
    assert counts.to_dicts() == [{"grade": "A", "subjects": 1},
                                 {"grade": "B", "subjects": 2},
                                 {"grade": "C", "subjects": 0}]


def test_masking_in_text_and_ids() -> None:
    rid = "110101199003074514"
    assert tables.public_id(rid) == "110101********4514"
    assert tables.public_id("91440101MA59XXXX0X", "bidder") == "91440101MA59XXXX0X"
    assert tables.mask_text(f"expert {rid} absent") == "expert 110101********4514 absent"
    frame = pl.DataFrame({"subject_id": [rid, "914401030124426901"],
                          "subject_type": ["expert", "bidder"],
                          "reasons": [f"see {rid}", "none"]})
    masked = tables.mask_frame(frame)
    assert masked.get_column("subject_id").to_list() == ["110101********4514",
                                                         "914401030124426901"]
    assert rid not in masked.write_csv()


def test_candidate_lists() -> None:
    assert tables.parse_id_list(" a1，b2；c3、d4\ne5 a1 ") == ["A1", "B2", "C3", "D4", "E5"]
    assert tables.ids_from_upload(b"subject_id,name\nX1,a\nX2,b\n", "c.csv") == ["X1", "X2"]
    assert tables.ids_from_upload(b"X1\nX2\n", "c.csv") == ["X1", "X2"]
    assert tables.ids_from_upload("代码\nX1\n".encode("gb18030"), "c.csv") == ["X1"]
    assert tables.ids_from_upload(b"X1 X2", "c.txt") == ["X1", "X2"]


def test_anonymous_checks_are_limited_and_attributed(db: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from creditindex.service.auth import ANONYMOUS
    from creditindex.service.limits import LimitReached
    from creditindex.store.audit import audit_trail

    monkeypatch.setenv("CREDITINDEX_ANON_MAX_SUBJECTS", "3")
    monkeypatch.setenv("CREDITINDEX_ANON_CHECKS_PER_SESSION", "2")
    monkeypatch.setenv("CREDITINDEX_ANON_CHECKS_PER_DAY", "3")
    firms = data.rankings(TODAY).of("bidder").get_column("subject_id").head(4).to_list()
    with pytest.raises(LimitReached) as too_many:
        data.check(ANONYMOUS, firms, TODAY, TODAY, None, False, "anonymous:aaa")
    assert too_many.value.key == "limit.anon_subjects" and too_many.value.values["max"] == 3
    for _ in range(2):
        data.check(ANONYMOUS, firms[:1], TODAY, TODAY, None, False, "anonymous:aaa")
    with pytest.raises(LimitReached) as session:
        data.check(ANONYMOUS, firms[:1], TODAY, TODAY, None, False, "anonymous:aaa")
    assert session.value.key == "limit.anon_session"
    data.check(ANONYMOUS, firms[:1], TODAY, TODAY, None, False, "anonymous:bbb")
    with pytest.raises(LimitReached) as day:  # all visitors together
        data.check(ANONYMOUS, firms[:1], TODAY, TODAY, None, False, "anonymous:ccc")
    assert day.value.key == "limit.anon_day"
    actors = audit_trail(db, action="check.save").get_column("actor").to_list()
    assert actors == ["anonymous:aaa", "anonymous:aaa", "anonymous:bbb"]  # not system:root
    data.check(STAFF, firms, TODAY, TODAY, None, False)  # staff are not limited so
