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

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from creditindex.certificate import CheckRequest
from creditindex.store import checks
from creditindex.store.check_writer import CheckWriter
from creditindex.store.db import get_engine, table, utcnow, write_transaction
from creditindex.store.load import load_data
from tests.store.storetest import TODAY, E, F, G, H, S, V, X

DAY = TODAY.replace(month=6, day=1)
CODES = [E, F, G, H, S, V, X]


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
    # The engine's error, or psycopg's on PostgreSQL (the writer's own connection).
    assert isinstance(results[2], IntegrityError | psycopg.IntegrityError)
    good = [r for i, r in enumerate(results) if i != 2]
    assert all(isinstance(r, checks.IssuedCheck) for r in good)
    assert counts(url) == (before[0] + 3, before[1] + 3, before[2] + 3)
    for r in good:
        assert checks.get_certificate(url, r.check_no).verify_code == r.verify_code


def stored_text(url: str, first_id: int) -> list[tuple[Any, ...]]:
    """The rows of the checks from ``first_id`` on, as the database keeps them (JSON as
    its stored text), without what differs between two copies of a check (keys, numbers,
    codes, the audit row's time)."""
    engine = get_engine(url)
    with engine.connect() as conn:
        pg = conn.dialect.name == "postgresql"

        def t(column: str) -> str:
            name = conn.dialect.identifier_preparer.quote(column)
            return f"CAST({name} AS TEXT)" if pg else name

        checks_ = conn.exec_driver_sql(
            f"SELECT id, created_at, {t('inputs')}, {t('answer')}, {t('evidence')}, "
            f"evidence_html, check_day, known_on, subject_ids, rules_hash FROM "
            f"eligibility_check WHERE id >= {first_id} ORDER BY id").all()
        certs = conn.exec_driver_sql(
            f"SELECT check_no, verify_code, {t('payload')}, issued_at, operator, channel, "
            f"api_key_id, project_no, project_name, lot_no, lot_name, category, financier "
            f"FROM check_certificate WHERE check_id >= {first_id} ORDER BY check_id").all()
        logs = conn.exec_driver_sql(
            f"SELECT actor, action, entity, {t('before')}, {t('after')} FROM audit_log "
            f"WHERE action = 'check.save' AND entity = 'eligibility_check' AND entity_key IN "
            f"({', '.join(repr(str(r[0])) for r in checks_)}) ORDER BY id").all()
    rows: list[tuple[Any, ...]] = []
    for check, cert, log in zip(checks_, certs, logs, strict=True):
        payload = str(cert[2]).replace(cert[0], "NO").replace(cert[1], "CODE")
        rows.append((*check[1:], payload, *cert[3:], *log))
    return rows


def test_the_writer_stores_the_rows_store_drafts_stores(url: str) -> None:
    """Byte for byte: the writer's own path (psycopg's pipeline on PostgreSQL) and
    :func:`~creditindex.store.checks.store_drafts` through the engine."""
    data = load_data(url)
    now = utcnow()
    drafts = [dataclasses.replace(checks.draft_check(
        url, data, request(i), operator="平台", channel="api", api_key_id="k1"),
        created_at=now) for i in range(3)]

    def copy(d: checks.CheckDraft) -> checks.CheckDraft:
        code = checks.new_verify_code()
        return dataclasses.replace(d, verify_code=code,
                                   certificate={**d.certificate, "verify_code": code})

    with get_engine(url).connect() as conn:
        start = int(conn.execute(select(func.coalesce(func.max(
            table("eligibility_check").c.id), 0))).scalar_one()) + 1
    writer = CheckWriter(url)
    try:
        grouped(url, writer, [lambda d=d: writer.store(d) for d in drafts])
        # PostgreSQL: stored through the writer's own psycopg connection.
        assert (writer._direct is not None) == url.startswith("postgresql")
    finally:
        writer.stop()
    by_writer = stored_text(url, start)
    with write_transaction(get_engine(url)) as conn:
        again = checks.store_drafts(conn, [copy(d) for d in drafts])
    assert len(by_writer) == 3
    assert stored_text(url, again[0].id) == by_writer
