"""Eligibility checks as the app issues them through the service: limits, codes that
fail their check digit, masking of the evidence, the stored and verifiable certificate."""

from __future__ import annotations

import polars as pl
import pytest

from creditindex.evidence import render_evidence
from creditindex.service import checks, days
from creditindex.service.auth import ANONYMOUS, User
from creditindex.service.limits import LimitReached
from creditindex.store.checks import get_check
from creditindex.store.load import load_data
from tests.service.servicetest import TODAY

STAFF = User("staff", "staff")


def test_a_staff_check_is_stored_masked_and_verifiable(url: str) -> None:
    data = load_data(url, on=TODAY)
    directory = days.directory(data)
    expert = directory.filter(pl.col("subject_type") == "expert").get_column(
        "subject_id")[0]
    firm = directory.filter(pl.col("subject_type") == "bidder").get_column("subject_id")[0]
    bad = firm[:-1] + ("0" if firm[-1] != "0" else "1")  # fails its check character
    answer = checks.check(url, data, directory, STAFF, [firm, expert, bad], TODAY, TODAY,
                          None, False, "en")
    assert answer.check_id is not None and answer.verify_code is not None
    assert [sid for sid, _why in answer.invalid] == [bad]
    assert answer.shown[expert] != expert and "*" in answer.shown[expert]
    assert answer.shown[firm] == firm
    assert expert not in answer.html and answer.shown[expert] in answer.html
    found = checks.verify_certificate(url, answer.verify_code)
    assert found is not None and found.check_id == answer.check_id


def test_the_public_may_not_ask_about_experts(url: str) -> None:
    data = load_data(url, on=TODAY)
    directory = days.directory(data)
    expert = directory.filter(pl.col("subject_type") == "expert").get_column(
        "subject_id")[0]
    with pytest.raises(LimitReached) as refused:
        checks.check(url, data, directory, ANONYMOUS, [expert], TODAY, TODAY, None, False,
                     "zh", "anonymous:test")
    assert refused.value.key == "limit.experts_staff_only"


def test_the_app_report_is_the_stored_checks_evidence(url: str) -> None:
    """The page's evidence report is worded from the payload stored with the check (not
    computed a second time): the same answers, grounds and data facts; only the codes
    as the page shows them and who asked are added."""
    data = load_data(url, on=TODAY)
    directory = days.directory(data)
    firms = directory.filter(pl.col("subject_type") == "bidder").get_column(
        "subject_id").head(3).to_list()
    answer = checks.check(url, data, directory, STAFF, firms, TODAY, TODAY, None, False,
                          "zh")
    assert answer.check_id is not None
    stored = get_check(url, answer.check_id).evidence_payload()
    assert stored is not None
    assert set(answer.payload) == set(stored)
    for key in set(stored) - {"inputs"}:
        assert answer.payload[key] == stored[key], key
    assert answer.payload["inputs"] == {**stored["inputs"], "checked_by": "staff"}
    assert answer.html == render_evidence(answer.payload, "zh")
