"""A record's life: objections recorded without effect, an upheld one revoking the record
from its day, repairs refused before min_publish_days, manual restrictions, roles, and an
audit row for every change."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from creditindex.evaluate import check, compute
from creditindex.store.audit import audit_trail
from creditindex.store.checks import get_check, save_check
from creditindex.store.db import StoreError
from creditindex.store.importer import import_lists, import_records
from creditindex.store.lifecycle import (
    add_restriction,
    apply_repair,
    decide_objection,
    file_objection,
    grant_repair,
    record_events,
)
from creditindex.store.load import load_data
from creditindex.store.permissions import GRANTS, Permission
from creditindex.store.rulesets import publish_rules
from creditindex.store.snapshots import evaluate
from creditindex.store.users import add_user
from tests.store.storetest import TODAY, F, G, R, index_of, restricted, write_examples

SRC = "广州市住建局"
D = dt.date.fromisoformat


@pytest.fixture
def files(store_url: str, tmp_path: Path) -> dict[str, Path]:
    made = write_examples(tmp_path / "data")
    publish_rules(store_url, made["rules"], "rita", effective_from=D("2020-01-01"))
    import_records(store_url, [made["records"]], user="alice", today=TODAY)
    return made


def test_an_upheld_objection_revokes_the_record_from_its_day(store_url: str,
                                                            files: dict[str, Path]) -> None:
    before = load_data(store_url)
    objection = file_objection(store_url, SRC, "G1", user="pat", reason="not our bid",
                               on=D("2026-03-01"))
    filed = load_data(store_url)  # an objection suspends nothing
    for day in (D("2026-03-01"), D("2026-06-01")):
        assert compute(filed, day).equals(compute(before, day))
    decision = decide_objection(store_url, SRC, "G1", user="alice", upheld=True,
                                on=D("2026-05-10"), note="evidence shows otherwise",
                                document_no="穗撤〔2026〕3号")
    assert decision.objection_id == objection and decision.revoked_event_id is not None
    after = load_data(store_url)
    assert restricted(compute(after, D("2026-05-09")), G)  # known then: still counted
    assert not restricted(compute(after, D("2026-05-10")), G)
    assert index_of(compute(after, D("2026-05-10")), G) == 100
    assert restricted(compute(after, D("2026-05-10"), known_on=D("2026-05-09")), G)
    assert index_of(compute(after, D("2026-03-01"), known_on=D("2026-05-10")), G) == 100
    steps = record_events(store_url, SRC, "G1")
    assert steps.select("kind", "outcome", "effective_on", "by").rows() == [
        ("objection_filed", None, D("2026-03-01"), "pat"),
        ("objection_decided", "upheld", D("2026-05-10"), "alice"),
        ("revoked", None, D("2026-05-10"), "alice")]
    assert steps.get_column("document_no").to_list()[1:] == ["穗撤〔2026〕3号"] * 2
    with pytest.raises(StoreError, match="revoked"):
        file_objection(store_url, SRC, "G1", user="pat", reason="again", on=D("2026-06-01"))


def test_a_rejected_objection_changes_nothing(store_url: str, files: dict[str, Path]) -> None:
    file_objection(store_url, SRC, "G1", user="pat", reason="x", on=D("2026-03-01"))
    with pytest.raises(StoreError, match="awaiting"):
        file_objection(store_url, SRC, "G1", user="pat", reason="y", on=D("2026-03-02"))
    with pytest.raises(StoreError, match="needs staff"):
        decide_objection(store_url, SRC, "G1", user="pat", upheld=True, on=D("2026-04-01"))
    decide_objection(store_url, SRC, "G1", user="alice", upheld=False, on=D("2026-04-01"))
    assert restricted(compute(load_data(store_url), D("2026-06-01")), G)
    with pytest.raises(StoreError, match="no objection awaiting"):
        decide_objection(store_url, SRC, "G1", user="alice", upheld=True, on=D("2026-04-02"))
    with pytest.raises(StoreError, match="unknown or inactive user"):
        file_objection(store_url, SRC, "G1", user="mallory", reason="z", on=D("2026-04-03"))
    with pytest.raises(StoreError, match="no record"):
        file_objection(store_url, SRC, "NOPE", user="pat", reason="z", on=D("2026-04-03"))


@pytest.mark.parametrize("user", ["alice", "rita", "pat"])
def test_the_store_follows_the_one_role_model(store_url: str, files: dict[str, Path],
                                              user: str) -> None:
    """Every role may file; deciding needs a role that GRANTS lifecycle (staff, not a
    regulator): the store refuses what the app's service refuses, for every face."""
    role = {"alice": "staff", "rita": "regulator", "pat": "public"}[user]
    file_objection(store_url, SRC, "G1", user=user, reason="x", on=D("2026-03-01"))
    apply_repair(store_url, SRC, "F1", user=user, on=D("2026-03-01"))
    if Permission.LIFECYCLE in GRANTS[role]:
        decide_objection(store_url, SRC, "G1", user=user, upheld=False, on=D("2026-04-01"))
    else:
        with pytest.raises(StoreError, match=rf"'{user}' is {role}; this needs staff$"):
            decide_objection(store_url, SRC, "G1", user=user, upheld=False,
                             on=D("2026-04-01"))
        with pytest.raises(StoreError, match=r"this needs staff$"):
            add_restriction(store_url, F, user=user, start=D("2026-07-01"), reason="x")


def test_repair_is_refused_before_min_publish_days_and_dated_when_granted(
        store_url: str, files: dict[str, Path]) -> None:
    apply_repair(store_url, SRC, "F1", user="pat", on=D("2026-03-01"))
    with pytest.raises(StoreError, match=r"refused.*until 2027-01-01"):
        grant_repair(store_url, SRC, "F1", user="alice", on=D("2026-11-01"))
    with pytest.raises(StoreError, match="future"):
        grant_repair(store_url, SRC, "F1", user="alice", on=TODAY + dt.timedelta(days=400))
    with pytest.raises(StoreError, match="until 2026-06-01"):
        grant_repair(store_url, SRC, "R2", user="alice", on=D("2026-05-31"))
    grant_repair(store_url, SRC, "R2", user="alice", on=D("2026-06-01"),
                 document_no="修复〔2026〕1号")
    data = load_data(store_url)
    r2 = data.records.filter(pl.col("record_id") == "R2")
    assert r2.get_column("repaired_on").to_list() == [D("2026-06-01")]
    # repaired from 2026-06-01: the days before keep the deduction and the restriction
    assert index_of(compute(data, D("2026-05-31")), R) == 70
    assert restricted(compute(data, D("2026-05-31")), R)
    assert index_of(compute(data, D("2026-06-01")), R) == 100
    assert not restricted(compute(data, D("2026-06-01")), R)
    with pytest.raises(StoreError, match="already repaired"):
        grant_repair(store_url, SRC, "R2", user="alice", on=D("2026-07-01"))
    assert record_events(store_url, SRC, "F1").get_column("kind").to_list() == [
        "repair_applied"]


def test_manual_restrictions_hold_in_every_role(store_url: str,
                                                files: dict[str, Path]) -> None:
    with pytest.raises(StoreError, match="neither"):
        add_restriction(store_url, "123", user="alice", start=D("2026-07-01"), reason="x")
    with pytest.raises(StoreError, match="needs staff"):
        add_restriction(store_url, F, user="pat", start=D("2026-07-01"), reason="x")
    add_restriction(store_url, F, user="alice", start=D("2026-07-01"),
                    until=D("2026-07-31"), reason="失信联合惩戒", document_no="M-1")
    data = load_data(store_url)
    assert restricted(compute(data, D("2026-07-31")), F)
    answer = check(data, D("2026-07-15"), [F]).table.row(0, named=True)
    assert not answer["eligible"] and "失信联合惩戒" in answer["reasons"]
    assert check(data, D("2026-08-01"), [F]).table.get_column("eligible").to_list() == [
        not restricted(compute(data, D("2026-08-01")), F)]


def test_every_change_writes_an_audit_row(store_url: str, files: dict[str, Path]) -> None:
    start = audit_trail(store_url).height
    import_lists(store_url, [files["lists"]], user="alice")
    import_records(store_url, [files["records_lifecycle"]], subjects_path=files["subjects"],
                   user="alice", today=TODAY)
    file_objection(store_url, SRC, "G1", user="pat", reason="x", on=D("2026-03-01"))
    decide_objection(store_url, SRC, "G1", user="alice", upheld=True, on=D("2026-03-10"))
    apply_repair(store_url, SRC, "F1", user="pat", on=D("2026-03-01"))
    add_restriction(store_url, F, user="alice", start=D("2026-07-01"), reason="x")
    add_user(store_url, "bob", "staff", "another password", by="rita")
    evaluate(store_url, D("2026-07-02"), user="alice")
    data = load_data(store_url)
    result = check(data, D("2026-07-02"), [F, G])
    check_id = save_check(store_url, result, data.rules, inputs={"subjects": [F, G]},
                          evidence_html="<html>evidence</html>", user="pat")
    trail = audit_trail(store_url).slice(start)
    assert trail.select("action", "actor").rows() == [
        ("lists.import", "alice"), ("records.import", "alice"), ("objection.file", "pat"),
        ("objection.decide", "alice"), ("repair.apply", "pat"), ("restriction.add", "alice"),
        ("user.add", "rita"), ("evaluate", "alice"), ("check.save", "pat")]
    assert trail.get_column("after").null_count() == 0
    decided = json.loads(trail.filter(pl.col("action") == "objection.decide")
                         .get_column("before")[0])
    assert decided["revoked_on"] is None
    user_row = trail.filter(pl.col("action") == "user.add").get_column("after")[0]
    assert "hash" not in user_row and "password" not in user_row
    stored = get_check(store_url, check_id)
    assert stored.by == "pat" and stored.evidence_html == "<html>evidence</html>"
    assert [r["subject_id"] for r in stored.answer["table"]] == [F, G]
    assert stored.inputs == {"subjects": [F, G]}
