"""Group commit (:mod:`creditindex.store.check_writer`): concurrent checks stored in one
transaction, each exactly once, with its own id, number and verification code, and the
same rows :func:`~creditindex.store.checks.issue_check` stores; a failing check fails
only its own request."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import test_issued_checks
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from storetest import TODAY, E, F, G, H, S, V, X

from creditindex.certificate import CheckRequest
from creditindex.store import checks
from creditindex.store.check_writer import CheckWriter
from creditindex.store.db import get_engine, table, write_transaction
from creditindex.store.load import load_data

DAY = TODAY.replace(month=6, day=1)
CODES = [E, F, G, H, S, V, X]
db = test_issued_checks.db  # the worked examples' store (a fixture)


@pytest.fixture
def url(db: list[str]) -> str:
    return db[1]


def counts(url: str) -> tuple[int, int, int]:
    audit = table("audit_log")
    with get_engine(url).connect() as conn:
        def n(name: str) -> int:
            return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
        saved = conn.execute(select(func.count()).select_from(audit).where(
            audit.c.action == "check.save")).scalar_one()
        return n("eligibility_check"), n("check_certificate"), int(saved)


def request(i: int) -> CheckRequest:
    return CheckRequest(subject_ids=(CODES[i % len(CODES)], CODES[(i + 3) % len(CODES)]),
                        on=DAY, project_no=f"P-{i}", project_name="体育馆")


def grouped(url: str, writer: CheckWriter, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run ``jobs`` in threads while the store's write lock is held elsewhere: the first
    job's transaction waits for it and every other draft queues behind; then let go.
    Each job's result (or the exception it raised)."""
    results: list[Any] = [None] * len(jobs)

    def work(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    with write_transaction(get_engine(url)):
        threads[0].start()
        time.sleep(0.5)  # the writer takes it and waits for the lock
        for t in threads[1:]:
            t.start()
        deadline = time.monotonic() + 30
        while writer.waiting < len(jobs) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.waiting == len(jobs) - 1
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_checks_are_stored_once_each_in_one_transaction(url: str) -> None:
    data = load_data(url)
    before = counts(url)
    writer = CheckWriter(url)
    try:
        drafts = [checks.draft_check(url, data, request(i), operator="平台", channel="api",
                                     api_key_id="k1") for i in range(12)]
        issued = grouped(url, writer, [lambda d=d: writer.store(d) for d in drafts])
    finally:
        writer.stop()
    assert writer.groups == 2  # the first alone (it waited for the lock), then the rest
    assert all(isinstance(x, checks.IssuedCheck) for x in issued)
    assert len({x.id for x in issued}) == len({x.check_no for x in issued}) == 12
    assert len({x.verify_code for x in issued}) == 12
    assert counts(url) == (before[0] + 12, before[1] + 12, before[2] + 12)
    for draft, check in zip(drafts, issued, strict=True):
        stored = checks.get_certificate(url, check.check_no)
        assert stored.payload == check.certificate
        assert stored.payload["project"]["no"] == draft.request.project_no
        assert checks.verify(url, check.verify_code) == stored
        assert checks.get_check(url, check.id).inputs == draft.inputs

    # The same rows as a check issued on its own (but for id, time and code).
    alone = checks.issue_check(url, data, request(0), operator="平台", channel="api",
                               api_key_id="k1")
    first = issued[0]
    varying = {"check_no", "verify_code", "issued_at"}
    assert ({k: v for k, v in alone.certificate.items() if k not in varying}
            == {k: v for k, v in first.certificate.items() if k not in varying})
    a, b = checks.get_check(url, alone.id), checks.get_check(url, first.id)
    assert (a.answer, a.inputs, a.subject_ids, a.rules_hash, a.by) == (
        b.answer, b.inputs, b.subject_ids, b.rules_hash, b.by)


def test_a_failing_check_fails_alone(url: str) -> None:
    data = load_data(url)
    writer = CheckWriter(url)
    try:
        taken = writer.store(checks.draft_check(url, data, request(0)))
        before = counts(url)
        drafts = [checks.draft_check(url, data, request(i)) for i in range(1, 5)]
        # A verification code already issued: the store refuses it (unique).
        drafts[2] = dataclasses.replace(drafts[2], verify_code=taken.verify_code)
        results = grouped(url, writer, [lambda d=d: writer.store(d) for d in drafts])
    finally:
        writer.stop()
    assert isinstance(results[2], IntegrityError)
    good = [r for i, r in enumerate(results) if i != 2]
    assert all(isinstance(r, checks.IssuedCheck) for r in good)
    assert counts(url) == (before[0] + 3, before[1] + 3, before[2] + 3)
    for r in good:
        assert checks.get_certificate(url, r.check_no).verify_code == r.verify_code
