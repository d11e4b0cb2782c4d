"""The two-person rule: rule sets and manual restrictions take effect only when a
second person approves; identical or same-version rule sets are refused; manual
restrictions are lifted and amended, dated and audited, and the engine sees it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from creditindex.evaluate import CreditData, check
from creditindex.rules import DEFAULT_RULES
from creditindex.store.approvals import decide, propose, requests
from creditindex.store.audit import audit_trail
from creditindex.store.db import StoreError
from creditindex.store.importer import import_records
from creditindex.store.lifecycle import (
    add_restriction,
    amend_restriction,
    lift_restriction,
    manual_restrictions,
)
from creditindex.store.load import load_data
from creditindex.store.rulesets import list_versions, publish_rules
from creditindex.store.users import add_user
from tests.store.storetest import PASSWORD, TODAY, F, write_examples

D = dt.date.fromisoformat


@pytest.fixture
def files(store_url: str, tmp_path: Path) -> dict[str, Path]:
    made = write_examples(tmp_path / "data")
    publish_rules(store_url, made["rules"], "rita", effective_from=D("2020-01-01"))
    import_records(store_url, [made["records"]], user="alice", today=TODAY)
    add_user(store_url, "bob", "staff", PASSWORD, by="setup")
    add_user(store_url, "reg2", "regulator", PASSWORD, by="setup")
    return made


def manual_on(data: CreditData, day: dt.date) -> bool:
    """Whether F is restricted on ``day`` by a manual restriction (a ground says so)."""
    grounds = check(data, day, [F]).grounds
    return grounds.filter(pl.col("cause") == "manual").height > 0


def _bumped(text: str, version: str) -> str:
    lines = text.splitlines()
    out = [f'version = "{version}"' if line.startswith("version =") else line
           for line in lines]
    return "\n".join(out) + "\n"


def test_a_rule_set_needs_a_second_regulator(store_url: str, files: dict[str, Path]) -> None:
    text = _bumped(DEFAULT_RULES.read_text(encoding="utf-8"), "2099.1")
    before = list_versions(store_url).height
    with pytest.raises(StoreError, match="needs regulator"):
        propose(store_url, "rules.publish", {"text": text, "effective_from": "2026-12-01"},
                user="alice")
    req = propose(store_url, "rules.publish", {"text": text, "effective_from": "2026-12-01",
                                               "note": "tuned"}, user="rita")
    assert list_versions(store_url).height == before  # nothing published yet
    with pytest.raises(StoreError, match="second person"):
        decide(store_url, req, user="rita", outcome="approved")
    digest = decide(store_url, req, user="reg2", outcome="approved")
    versions = list_versions(store_url)
    assert versions.height == before + 1 and digest in versions["content_hash"].to_list()
    published = versions.filter(versions["content_hash"] == digest).row(0, named=True)
    assert published["published_by"] == "rita"
    with pytest.raises(StoreError, match="already approved"):
        decide(store_url, req, user="reg2", outcome="rejected")
    # the same content again, or other content under a used version: refused
    with pytest.raises(StoreError, match="identical"):
        propose(store_url, "rules.publish", {"text": text, "effective_from": "2027-01-01"},
                user="rita")
    changed = text.replace('name = "', 'name = "', 1) + "\n# a comment changes the hash\n"
    with pytest.raises(StoreError, match="new version"):
        propose(store_url, "rules.publish", {"text": changed, "effective_from": "2027-01-01"},
                user="rita")
    actions = audit_trail(store_url)["action"].to_list()
    assert "approval.propose" in actions and "approval.approved" in actions


def test_rejected_and_withdrawn_requests_change_nothing(store_url: str,
                                                       files: dict[str, Path]) -> None:
    one = propose(store_url, "restriction.add", {"subject_id": F, "start": "2026-07-01",
                                                 "reason": "联合惩戒"}, user="alice")
    two = propose(store_url, "restriction.add", {"subject_id": F, "start": "2026-07-01",
                                                 "reason": "联合惩戒"}, user="alice")
    assert [r.id for r in requests(store_url)] == [one, two]
    decide(store_url, one, user="bob", outcome="rejected", note="no document")
    with pytest.raises(StoreError, match="only alice"):
        decide(store_url, two, user="bob", outcome="withdrawn")
    decide(store_url, two, user="alice", outcome="withdrawn")
    assert requests(store_url) == []
    assert manual_restrictions(store_url).height == 0


def test_manual_restrictions_through_two_people_then_lifted_and_amended(
        store_url: str, files: dict[str, Path]) -> None:
    with pytest.raises(StoreError, match="neither"):
        propose(store_url, "restriction.add", {"subject_id": "123", "start": "2026-07-01",
                                               "reason": "x"}, user="alice")
    req = propose(store_url, "restriction.add",
                  {"subject_id": F, "start": "2026-07-01", "until": None,
                   "reason": "失信联合惩戒", "document_no": "M-1"}, user="alice")
    rid = int(decide(store_url, req, user="bob", outcome="approved") or 0)
    table = manual_restrictions(store_url)
    assert table.row(0, named=True)["entered_by"] == "alice"
    assert table.row(0, named=True)["approved_by"] == "bob"
    assert manual_on(load_data(store_url), D("2026-09-01"))
    # amend: it ends on 2026-08-31
    amend = propose(store_url, "restriction.amend",
                    {"restriction_id": rid, "on": "2026-08-01", "until": "2026-08-31",
                     "reason": "决定变更"}, user="bob")
    decide(store_url, amend, user="alice", outcome="approved")
    data = load_data(store_url)
    assert manual_on(data, D("2026-08-31")) and not manual_on(data, D("2026-09-01"))
    assert manual_restrictions(store_url).row(0, named=True)["until"] == D("2026-08-31")
    # lift from 2026-08-15: the last day is 08-14
    lift_restriction(store_url, rid, user="alice", on=D("2026-08-15"), reason="已履行")
    row = manual_restrictions(store_url).row(0, named=True)
    assert row["until"] == D("2026-08-14") and row["lifted"]
    data = load_data(store_url)
    assert manual_on(data, D("2026-08-14")) and not manual_on(data, D("2026-08-15"))
    with pytest.raises(StoreError, match="already lifted"):
        amend_restriction(store_url, rid, user="alice", on=D("2026-08-20"), until=None,
                          reason="x")
    trail = audit_trail(store_url)
    assert {"restriction.add", "restriction.amend", "restriction.lift"} <= set(
        trail["action"].to_list())


def test_lift_is_checked(store_url: str, files: dict[str, Path]) -> None:
    rid = add_restriction(store_url, F, user="alice", start=D("2026-07-01"), reason="x")
    with pytest.raises(StoreError, match="before it starts"):
        lift_restriction(store_url, rid, user="alice", on=D("2026-06-30"), reason="x")
    with pytest.raises(StoreError, match="needs a reason"):
        lift_restriction(store_url, rid, user="alice", on=D("2026-07-02"), reason=" ")
    with pytest.raises(StoreError, match="needs staff"):
        lift_restriction(store_url, rid, user="pat", on=D("2026-07-02"), reason="x")
    with pytest.raises(StoreError, match="future"):
        lift_restriction(store_url, rid, user="alice", on=dt.date.today()
                         + dt.timedelta(days=2), reason="x")
