"""Eligibility checks as answered: what was asked, the answer, the evidence report and
who asked, kept so that the answer given on the day can be shown later."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from creditindex.certificate import (
    CheckRequest,
    certificate_payload,
    render_html,
    run_check,
    validate,
)
from creditindex.evaluate import CheckResult, CreditData
from creditindex.evidence import data_facts, evidence_payload, render_evidence
from creditindex.rules import RuleSet
from creditindex.store import audit
from creditindex.store.db import (
    StoreError,
    get_engine,
    insert_row,
    read_transaction,
    table,
    utcnow,
    write_transaction,
)
from creditindex.store.driver import Driver
from creditindex.store.migrations import ensure_schema

if TYPE_CHECKING:  # a check is stored without SQLAlchemy on the direct path
    from sqlalchemy import Connection


@dataclass(frozen=True)
class StoredCheck:
    """A stored eligibility check."""

    id: int
    created_at: dt.datetime
    by: str
    check_day: dt.date
    known_on: dt.date
    subject_ids: list[str]
    rules_hash: str
    inputs: dict[str, Any]
    answer: dict[str, Any]
    evidence_html: str | None


def answer_payload(result: CheckResult) -> dict[str, Any]:
    """A check's answer as JSON-friendly data: the table and every ground."""
    return {"table": audit.jsonable(result.table.to_dicts()),
            "grounds": audit.jsonable(result.grounds.to_dicts()),
            "on": result.on.isoformat(), "known_on": result.known_on.isoformat()}


def save_check(url: str | None, result: CheckResult, rules: RuleSet, *,
               inputs: dict[str, Any], evidence_html: str | None = None,
               user: str | None = None, actor: str | None = None) -> int:
    """Store an eligibility check (inputs, answer, evidence) made by ``user`` (any active
    user); without one, by ``actor`` (an anonymous visitor's session, as the app names
    it: ``anonymous:<session>``) or else the system actor. Returns its id."""
    from creditindex.store.users import require_user

    engine = get_engine(url)
    ensure_schema(engine)
    with write_transaction(engine) as conn:
        who = require_user(conn, user).name if user else (actor or audit.system_actor())
        return _insert_check(conn, who, result, rules.content_hash, inputs, evidence_html,
                             utcnow())


def _insert_check(conn: Connection | Driver, who: str, result: CheckResult, rules_hash: str,
                  inputs: dict[str, Any], evidence_html: str | None,
                  created_at: dt.datetime) -> int:
    ids = [str(s) for s in result.table.get_column("subject_id").to_list()]
    key = insert_row(conn, "eligibility_check", {
        "created_at": created_at, "by": who, "check_day": result.on,
        "known_on": result.known_on, "subject_ids": ",".join(ids),
        "rules_hash": rules_hash, "inputs": audit.jsonable(inputs),
        "answer": answer_payload(result), "evidence_html": evidence_html},
        json_columns=("inputs", "answer"), returning="id")
    audit.record(conn, who, "check.save", "eligibility_check", int(key),
                 after={"check_day": result.on, "subjects": ids,
                        "rules_hash": rules_hash,
                        "eligible": result.table.get_column("eligible").to_list()})
    return int(key)


def count_checks(url: str | None, *, since: dt.datetime, by_prefix: str) -> tuple[int, int]:
    """How many checks actors whose name starts with ``by_prefix`` stored since
    ``since`` (UTC), and the bytes of their evidence reports."""
    from sqlalchemy import func, select

    engine = get_engine(url)
    ensure_schema(engine)
    checks = table("eligibility_check")
    with read_transaction(engine) as conn:
        row = conn.execute(select(func.count(), func.coalesce(func.sum(
            func.length(checks.c.evidence_html)), 0)).where(
            checks.c.created_at >= since, checks.c.by.startswith(by_prefix))).one()
    return int(row[0]), int(row[1])


def get_check(url: str | None, check_id: int) -> StoredCheck:
    """A stored check by id."""
    from sqlalchemy import select

    engine = get_engine(url)
    ensure_schema(engine)
    checks = table("eligibility_check")
    with read_transaction(engine) as conn:
        row = conn.execute(select(checks).where(checks.c.id == check_id)).first()
    if row is None:
        raise StoreError(f"no eligibility check #{check_id}")
    return StoredCheck(int(row.id), row.created_at, row.by, row.check_day, row.known_on,
                       row.subject_ids.split(",") if row.subject_ids else [], row.rules_hash,
                       dict(row.inputs), dict(row.answer), row.evidence_html)


# --------------------------------------------------------------------------------------
# Issued checks: one way to run, store and certify a check (CLI, app and API)
# --------------------------------------------------------------------------------------

# Verification codes: 16 characters of an alphabet without look-alikes (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_verify_code() -> str:
    """A random verification code ``XXXX-XXXX-XXXX-XXXX`` (about 79 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    """A verification code as typed (any case, spaces or dashes) in its stored form."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def check_number(check_id: int, created_at: dt.datetime) -> str:
    """The check number shown on the certificate: ``HC`` + year + the check's id."""
    return f"HC{created_at:%Y}{check_id:08d}"


@dataclass(frozen=True)
class IssuedCheck:
    """A check as stored and certified: its id, number and verification code, the
    engine's answer (members, and the consortium's row when asked), the certificate and
    the evidence report as stored."""

    id: int
    check_no: str
    verify_code: str
    result: CheckResult
    members: CheckResult
    certificate: dict[str, Any]
    evidence_html: str | None = None

    @property
    def html(self) -> str:
        """The certificate as HTML."""
        return render_html(self.certificate)


def issue_check(url: str | None, data: CreditData, request: CheckRequest, *,
                user: str | None = None, operator: str | None = None, channel: str = "cli",
                api_key_id: str | None = None, facts: dict[str, Any] | None = None,
                actor: str | None = None, members: CheckResult | None = None,
                direct: bool = False) -> IssuedCheck:
    """Answer ``request`` on ``data`` (refused with :class:`~creditindex.certificate.
    RequestError` when a code fails its check digit), store the check with its evidence,
    number it and store its certificate with a verification code, all in one transaction.
    ``user`` must be an active user when given (else the system actor); ``operator``
    is the name the certificate shows (default: who asked); without a user the check is
    stored under ``actor`` (an anonymous visitor's session) or the system actor. ``facts``
    (:func:`~creditindex.evidence.data_facts`) describe the data read when ``data`` is a
    view narrowed to the subjects asked (the API server's fast path); ``members`` is the
    engine's answer for each member when already known (the server's answers of the day,
    :mod:`creditindex.api.answers`: the same frames :func:`run_check` would give).
    ``direct``: without a user, store the check through the database's own driver where
    :func:`creditindex.store.driver.connect` can (a short command: no SQLAlchemy is
    imported); the same rows."""
    if direct and user is None and url:
        from creditindex.store import driver

        draft = draft_check(url, data, request, operator=operator, channel=channel,
                            api_key_id=api_key_id, facts=facts, actor=actor,
                            members=members)
        with driver.opened(url) as found:
            if found is not None:
                with driver.write(found) as conn:
                    return store_draft(conn, draft)
        engine = get_engine(url)
        ensure_schema(engine)
        with write_transaction(engine) as conn:
            return store_draft(conn, draft)
    engine = get_engine(url)
    ensure_schema(engine)
    if user is None:
        # Without a user to look up, the certificate is drafted before the store's write
        # lock is taken: concurrent checks hold it only for their inserts.
        draft = draft_check(url, data, request, operator=operator, channel=channel,
                            api_key_id=api_key_id, facts=facts, actor=actor, members=members)
        with write_transaction(engine) as conn:
            return store_draft(conn, draft)
    from creditindex.store.users import require_user

    answered = _answer(url, data, request, members, facts)  # before the lock is taken
    with write_transaction(engine) as conn:
        who = require_user(conn, user).name
        return store_draft(conn, _draft(data, request, answered, who, operator, channel,
                                        api_key_id))


@dataclass(frozen=True)
class CheckDraft:
    """A check answered and certified but not yet stored (no id or number yet): what
    :func:`store_draft` writes. Made by :func:`draft_check`."""

    who: str
    request: CheckRequest
    result: CheckResult
    members: CheckResult
    rules_hash: str
    inputs: dict[str, Any]
    evidence_html: str
    created_at: dt.datetime
    verify_code: str
    certificate: dict[str, Any]
    channel: str
    api_key_id: str | None


@dataclass(frozen=True)
class _Answered:
    """What a check states whoever asked it: the answers, the facts of the data read,
    the inputs and the evidence report (made before any lock is taken)."""

    members: CheckResult
    together: CheckResult | None
    facts: dict[str, Any]
    inputs: dict[str, Any]
    evidence_html: str


def _answer(url: str | None, data: CreditData, request: CheckRequest,
            members: CheckResult | None, facts: dict[str, Any] | None) -> _Answered:
    from creditindex.store.db import display_url

    if members is None:
        members = run_check(data, request, consortium=False)
    else:
        validate(request)
    together = run_check(data, request, consortium=True) if request.consortium else None
    facts = facts if facts is not None else data_facts(data)
    inputs = {**request.inputs(), "db": display_url(url)}
    evidence = render_evidence(_masked_evidence(evidence_payload(
        together if together is not None else members, data, inputs, facts=facts)))
    return _Answered(members, together, facts, inputs, evidence)


def _draft(data: CreditData, request: CheckRequest, answered: _Answered, who: str,
           operator: str | None, channel: str, api_key_id: str | None) -> CheckDraft:
    members, together, facts = answered.members, answered.together, answered.facts
    now, code = utcnow(), new_verify_code()
    payload = certificate_payload(
        data, request, members, together, check_no="", verify_code=code,
        issued_at=now, operator=operator or who, channel=channel, facts=facts)
    return CheckDraft(who, request, together if together is not None else members, members,
                      data.rules.content_hash, answered.inputs, answered.evidence_html, now,
                      code, payload, channel, api_key_id)


def draft_check(url: str | None, data: CreditData, request: CheckRequest, *,
                operator: str | None = None, channel: str = "cli",
                api_key_id: str | None = None, facts: dict[str, Any] | None = None,
                actor: str | None = None, members: CheckResult | None = None
                ) -> CheckDraft:
    """Everything :func:`issue_check` stores for a check made without a user (by
    ``actor`` or the system actor), computed outside any transaction; the arguments are
    :func:`issue_check`'s. :func:`store_draft` stores it."""
    return _draft(data, request, _answer(url, data, request, members, facts),
                  actor or audit.system_actor(), operator, channel, api_key_id)


def store_draft(conn: Connection | Driver, draft: CheckDraft) -> IssuedCheck:
    """Store a drafted check on ``conn`` (inside the caller's write transaction): the
    check with its evidence and audit row, then its certificate, numbered by the check's
    id. Several drafts may be stored in one transaction (the API server's group commit,
    :mod:`creditindex.store.check_writer`)."""
    request = draft.request
    check_id = _insert_check(conn, draft.who, draft.result, draft.rules_hash, draft.inputs,
                             draft.evidence_html, draft.created_at)
    number = check_number(check_id, draft.created_at)
    payload = {**draft.certificate, "check_no": number}
    insert_row(conn, "check_certificate", {
        "check_id": check_id, "check_no": number, "verify_code": draft.verify_code,
        "issued_at": draft.created_at, "operator": payload["operator"],
        "channel": draft.channel, "api_key_id": draft.api_key_id,
        "project_no": request.project_no, "project_name": request.project_name,
        "lot_no": request.lot_no, "lot_name": request.lot_name,
        "category": request.category, "financier": request.financier,
        "payload": audit.jsonable(payload)},
        json_columns=("payload",))
    return IssuedCheck(check_id, number, draft.verify_code, draft.result, draft.members,
                       payload, draft.evidence_html)


def _masked_evidence(payload: dict[str, Any]) -> dict[str, Any]:
    from creditindex.evidence import mask_personal

    def mask(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: mask_personal(v) if isinstance(v, str) else v for k, v in r.items()}
                for r in rows]

    return {**payload, "answers": mask(payload["answers"]), "grounds": mask(payload["grounds"])}


@dataclass(frozen=True)
class Certificate:
    """A stored certificate: its check's id and what it states."""

    check_id: int
    check_no: str
    verify_code: str
    issued_at: dt.datetime
    payload: dict[str, Any]
    api_key_id: str | None = None


def _certificate(conn: Connection, where: Any) -> Certificate | None:
    from sqlalchemy import select

    certs = table("check_certificate")
    row = conn.execute(select(certs.c.check_id, certs.c.check_no, certs.c.verify_code,
                              certs.c.issued_at, certs.c.payload, certs.c.api_key_id
                              ).where(where)).first()
    if row is None:
        return None
    return Certificate(int(row.check_id), row.check_no, row.verify_code, row.issued_at,
                       dict(row.payload), row.api_key_id)


def get_certificate(url: str | None, check: str | int) -> Certificate:
    """A stored certificate by check number (``HC...``) or check id."""
    engine = get_engine(url)
    ensure_schema(engine)
    certs = table("check_certificate")
    text = str(check).strip().upper()
    where = certs.c.check_id == int(text) if text.isdigit() else certs.c.check_no == text
    with read_transaction(engine) as conn:
        found = _certificate(conn, where)
    if found is None:
        raise StoreError(f"no certified check '{check}'")
    return found


def verify(url: str | None, code: str) -> Certificate | None:
    """The certificate with verification code ``code``, or ``None``: no such check was
    issued by this store."""
    engine = get_engine(url)
    ensure_schema(engine)
    certs = table("check_certificate")
    with read_transaction(engine) as conn:
        return _certificate(conn, certs.c.verify_code == normalise_code(code))


def verification_text(found: Certificate | None, code: str) -> str:
    """The answer to a verification, in Chinese: the check exists, when it was issued,
    what it says; or that no such check exists."""
    if found is None:
        return f"验证码 {normalise_code(code)} 不存在：本中心未出具该资格核查证明。"
    p = found.payload
    project = " ".join(x for x in (p["project"]["no"], p["project"]["name"]) if x) or "—"
    lines = [f"该资格核查证明真实有效：核查编号 {found.check_no}，出具时间 "
             f"{p['issued_at'].replace('T', ' ')}（北京时间），经办人 {p['operator']}。",
             f"项目 {project}；核查日 {p['on']}，数据截至 {p['known_on']}；"
             f"规则集 {p['rule_set']['name']} {p['rule_set']['version']}。",
             "结论："]
    for r in p["subjects"]:
        lines.append(f"  {r['subject_name'] or '—'} {r['subject_id']}：{_word(r['eligible'])}，"
                     f"信用指数 {r['index']:.2f}，等级 {r['grade']}")
    if p.get("consortium"):
        g = p["consortium"]
        lines.append(f"  联合体：{_word(g['eligible'])}，信用指数 {g['index']:.2f}，"
                     f"等级 {g['grade']}")
    return "\n".join(lines)


def _word(eligible: bool) -> str:
    return "符合" if eligible else "不符合"
