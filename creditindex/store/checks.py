"""Eligibility checks as answered: what was asked, the answer, the evidence report and
who asked, kept so that the answer given on the day can be shown later."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from creditindex.certificate import (
    CheckRequest,
    GroundWords,
    answer_row,
    assemble_certificate,
    certificate_payload,
    render_html,
    run_check,
    validate,
)
from creditindex.evaluate import CheckResult, CreditData
from creditindex.evidence import (
    answer_item,
    assemble_evidence,
    data_facts,
    evidence_payload,
    ground_item,
    made_now,
    mask_personal,
    render_evidence,
    row_codes,
)
from creditindex.i18n import DEFAULT_LANG
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
    """A stored eligibility check. Its evidence report is stored as its payload
    (``evidence``: everything the report states, :func:`creditindex.evidence.
    evidence_payload`) and worded when asked (:meth:`evidence_report`); checks stored
    before that kept the report itself (``evidence_html``)."""

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
    evidence: dict[str, Any] | None = None

    def evidence_payload(self) -> dict[str, Any] | None:
        """What the evidence report states: the stored payload, or for a check stored
        with its report, the payload embedded in it (``None``: no evidence stored)."""
        if self.evidence is not None:
            return self.evidence
        return None if self.evidence_html is None else embedded_payload(self.evidence_html)

    def evidence_report(self, lang: str = DEFAULT_LANG) -> str | None:
        """The evidence report in ``lang`` (``zh``, ``en``), rendered from the stored
        payload; a check stored with its (Chinese) report gives that report as stored."""
        if self.evidence is None and self.evidence_html is not None and lang == "zh":
            return self.evidence_html
        payload = self.evidence_payload()
        return None if payload is None else render_evidence(payload, lang)


_EMBEDDED = re.compile(r'<script type="application/json" id="evidence">(.*?)</script>', re.S)


def embedded_payload(report: str) -> dict[str, Any] | None:
    """The payload an evidence report embeds (``None`` if it embeds none)."""
    found = _EMBEDDED.search(report)
    if found is None:
        return None
    value = json.loads(found.group(1))
    return value if isinstance(value, dict) else None


def answer_payload(result: CheckResult) -> dict[str, Any]:
    """A check's answer as JSON-friendly data: the table and every ground."""
    return {"table": audit.jsonable(result.table.to_dicts()),
            "grounds": audit.jsonable(result.grounds.to_dicts()),
            "on": result.on.isoformat(), "known_on": result.known_on.isoformat()}


@dataclass(frozen=True)
class _Answer:
    """What the ``eligibility_check`` row and its audit row say of the answer."""

    payload: dict[str, Any]  # answer_payload
    subject_ids: list[str]
    eligible: list[bool]
    on: dt.date
    known_on: dt.date

    @staticmethod
    def of(result: CheckResult) -> _Answer:
        return _Answer(answer_payload(result),
                       [str(s) for s in result.table.get_column("subject_id").to_list()],
                       [bool(e) for e in result.table.get_column("eligible").to_list()],
                       result.on, result.known_on)


def save_check(url: str | None, result: CheckResult, rules: RuleSet, *,
               inputs: dict[str, Any], evidence_html: str | None = None,
               evidence: dict[str, Any] | None = None,
               user: str | None = None, actor: str | None = None) -> int:
    """Store an eligibility check (inputs, answer, evidence payload or report) made by
    ``user`` (any active user); without one, by ``actor`` (an anonymous visitor's
    session, as the app names it: ``anonymous:<session>``) or else the system actor.
    Returns its id."""
    from creditindex.store.users import require_user

    engine = get_engine(url)
    ensure_schema(engine)
    with write_transaction(engine) as conn:
        who = require_user(conn, user).name if user else (actor or audit.system_actor())
        return _insert_check(conn, who, _Answer.of(result), rules.content_hash, inputs,
                             evidence, evidence_html, utcnow())


# Statements built once (executed with their values: compiled once per process).
def _insert_check(conn: Connection | Driver, who: str, answer: _Answer, rules_hash: str,
                  inputs: dict[str, Any], evidence: dict[str, Any] | None,
                  evidence_html: str | None, created_at: dt.datetime) -> int:
    ids = answer.subject_ids
    values = {"created_at": created_at, "by": who, "check_day": answer.on,
              "known_on": answer.known_on, "subject_ids": ",".join(ids),
              "rules_hash": rules_hash, "inputs": audit.jsonable(inputs),
              "answer": answer.payload, "evidence_html": evidence_html}
    if evidence is not None:  # else SQL NULL (a JSON column would store JSON null)
        values["evidence"] = evidence
    key = insert_row(conn, "eligibility_check", values,
                     json_columns=("inputs", "answer", "evidence"), returning="id")
    audit.record(conn, who, "check.save", "eligibility_check", int(key),
                 after={"check_day": answer.on, "subjects": ids,
                        "rules_hash": rules_hash, "eligible": answer.eligible})
    return int(key)


def count_checks(url: str | None, *, since: dt.datetime, by_prefix: str) -> tuple[int, int]:
    """How many checks actors whose name starts with ``by_prefix`` stored since
    ``since`` (UTC), and the size of their evidence (the stored payload's JSON, or the
    report stored by earlier releases)."""
    from sqlalchemy import Text, cast, func, select

    engine = get_engine(url)
    ensure_schema(engine)
    checks = table("eligibility_check")
    size = func.coalesce(func.length(checks.c.evidence_html),
                         func.length(cast(checks.c.evidence, Text)), 0)
    with read_transaction(engine) as conn:
        row = conn.execute(select(func.count(), func.coalesce(func.sum(size), 0)).where(
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
                       dict(row.inputs), dict(row.answer), row.evidence_html,
                       None if row.evidence is None else dict(row.evidence))


# --------------------------------------------------------------------------------------
# Issued checks: one way to run, store and certify a check (CLI, app and API)
# --------------------------------------------------------------------------------------

# Verification codes: 16 characters of an alphabet without look-alikes (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_verify_code() -> str:
    """A random verification code ``XXXX-XXXX-XXXX-XXXX`` (about 79 bits)."""
    # One draw of 16 base-31 digits (as uniform as 16 draws of one, a sixteenth of the
    # calls to the system's random source).
    number = secrets.randbelow(len(CODE_ALPHABET) ** 16)
    digits = []
    for _ in range(16):
        number, digit = divmod(number, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[digit])
    raw = "".join(digits)
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    """A verification code as typed (any case, spaces or dashes) in its stored form."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def check_number(check_id: int, created_at: dt.datetime) -> str:
    """The check number shown on the certificate: ``HC`` + year + the check's id."""
    return f"HC{created_at:%Y}{check_id:08d}"


def _frames(result: CheckResult, members: CheckResult) -> tuple[CheckResult, CheckResult]:
    return result, members


@dataclass(frozen=True)
class IssuedCheck:
    """A check as stored and certified: its id, number and verification code, the
    certificate, and the engine's answer (:attr:`result`; :attr:`members`: each member's,
    and the consortium's row when asked), made when first asked for a check drafted from
    a server's day answers."""

    id: int
    check_no: str
    verify_code: str
    certificate: dict[str, Any]
    frames: Callable[[], tuple[CheckResult, CheckResult]] = field(repr=False, compare=False)
    evidence: dict[str, Any] = field(repr=False, compare=False)
    """The evidence payload as stored (resident ID numbers masked)."""

    @functools.cached_property
    def _answers(self) -> tuple[CheckResult, CheckResult]:
        return self.frames()

    @property
    def result(self) -> CheckResult:
        """The engine's answer (the consortium's row after its members when asked)."""
        return self._answers[0]

    @property
    def members(self) -> CheckResult:
        """The engine's answer for each member."""
        return self._answers[1]

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
    :func:`store_draft` writes. Made by :func:`draft_check` or :func:`draft_from_rows`.
    ``evidence`` is the evidence report's payload (the report is worded from it when
    asked, :meth:`StoredCheck.evidence_report`)."""

    who: str
    request: CheckRequest
    answer: _Answer
    rules_hash: str
    inputs: dict[str, Any]
    evidence: dict[str, Any]
    created_at: dt.datetime
    verify_code: str
    certificate: dict[str, Any]
    channel: str
    api_key_id: str | None
    frames: Callable[[], tuple[CheckResult, CheckResult]] = field(repr=False, compare=False)
    plain: bool = False  # inputs and certificate are plain JSON values already


@dataclass(frozen=True)
class _Answered:
    """What a check states whoever asked it: the answers, the facts of the data read,
    the inputs and the evidence payload (made before any lock is taken)."""

    members: CheckResult
    together: CheckResult | None
    facts: dict[str, Any]
    inputs: dict[str, Any]
    evidence: dict[str, Any]


def _answer(url: str | None, data: CreditData, request: CheckRequest,
            members: CheckResult | None, facts: dict[str, Any] | None) -> _Answered:
    if members is None:
        members = run_check(data, request, consortium=False)
    else:
        validate(request)
    together = run_check(data, request, consortium=True) if request.consortium else None
    facts = facts if facts is not None else data_facts(data)
    inputs = _inputs(url, request)
    evidence = _masked_evidence(evidence_payload(
        together if together is not None else members, data, inputs, facts=facts))
    return _Answered(members, together, facts, inputs, evidence)


def _inputs(url: str | None, request: CheckRequest) -> dict[str, Any]:
    from creditindex.store import db  # looked up when called (tests fix what it shows)

    return {**request.inputs(), "db": db.display_url(url)}


def _draft(data: CreditData, request: CheckRequest, answered: _Answered, who: str,
           operator: str | None, channel: str, api_key_id: str | None) -> CheckDraft:
    members, together, facts = answered.members, answered.together, answered.facts
    now, code = utcnow(), new_verify_code()
    payload = certificate_payload(
        data, request, members, together, check_no="", verify_code=code,
        issued_at=now, operator=operator or who, channel=channel, facts=facts)
    result = together if together is not None else members
    return CheckDraft(who, request, _Answer.of(result), data.rules.content_hash,
                      answered.inputs, answered.evidence, now, code, payload, channel,
                      api_key_id, functools.partial(_frames, result, members))


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


# --------------------------------------------------------------------------------------
# Checks drafted from rows kept per subject (the API server's day answers)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectRows:
    """One subject's part of every check that names it (a member, not a consortium),
    for one question: the rows of the stored answer, of the certificate and of the
    evidence payload, and the behaviour codes it names. Made once by
    :func:`subject_rows`; a check of several subjects is these parts put together
    (:func:`draft_from_rows`), the same payloads :func:`draft_check` makes."""

    subject_id: str
    eligible: bool
    answer_row: dict[str, Any]
    answer_grounds: list[dict[str, Any]]
    certificate_row: dict[str, Any]
    certificate_grounds: list[dict[str, Any]]
    evidence_row: dict[str, Any]
    evidence_grounds: list[dict[str, Any]]
    codes: frozenset[str]

    def named(self, subject_id: str) -> SubjectRows:
        """These rows for another code that shares this answer, has no grounds and no
        name (a code no data name)."""
        assert not self.answer_grounds
        return SubjectRows(
            subject_id, self.eligible, {**self.answer_row, "subject_id": subject_id}, [],
            {**self.certificate_row, "subject_id": mask_personal(subject_id)}, [],
            {**self.evidence_row, "subject_id": _mask_strings(answer_item(
                {"subject_id": subject_id}))["subject_id"]}, [], self.codes)


def subject_rows(row: dict[str, Any], grounds: list[dict[str, Any]], name: str | None,
                 record_facts: Callable[[dict[str, Any]], dict[str, Any]],
                 words: GroundWords) -> SubjectRows:
    """A subject's :class:`SubjectRows` from the engine's answer ``row`` and its
    ``grounds`` (rows of :class:`CheckResult`'s frames), the name a certificate gives it
    when the answer has none (its latest name in the data) and the facts of a ground's
    record (authority, basis, stated scope)."""
    sid = str(row["subject_id"])
    jsonable_row, jsonable_grounds = audit.jsonable([row, grounds])
    return SubjectRows(
        sid, bool(row["eligible"]), jsonable_row, jsonable_grounds,
        answer_row(row, name if not row.get("subject_name") else None, words.grades),
        [words.row(g, record_facts(g)) for g in grounds],
        _mask_strings(answer_item(row)), [_mask_strings(ground_item(g)) for g in grounds],
        frozenset(row_codes(row, grounds)))


def draft_from_rows(url: str | None, request: CheckRequest, parts: Sequence[SubjectRows], *,
                    rules: RuleSet, on: dt.date, known_on: dt.date, facts: dict[str, Any],
                    frames: Callable[[], tuple[CheckResult, CheckResult]],
                    operator: str | None = None, channel: str = "cli",
                    api_key_id: str | None = None, actor: str | None = None,
                    validated: bool = False) -> CheckDraft:
    """What :func:`draft_check` drafts for ``request`` (members only, no names given),
    put together from each subject's rows (``parts``, in the order of
    ``request.ids``) without the engine's frames; ``frames`` gives them when asked.
    ``validated``: the caller has already passed ``request`` through
    :func:`~creditindex.certificate.validate`."""
    if not validated:
        validate(request)
    assert [p.subject_id for p in parts] == request.ids and not request.consortium
    by_code = sorted(parts, key=lambda p: p.subject_id)  # grounds: by subject first
    inputs = _inputs(url, request)
    codes: set[str] = set()
    for p in parts:
        codes |= p.codes
    evidence = assemble_evidence(
        on, known_on, made_now(), inputs, rules, facts, [p.evidence_row for p in parts],
        [g for p in by_code for g in p.evidence_grounds], codes)
    who = actor or audit.system_actor()
    now, code = utcnow(), new_verify_code()
    certificate = assemble_certificate(
        request, rules, [p.certificate_row for p in parts], None,
        [g for p in by_code for g in p.certificate_grounds], on=on, known_on=known_on,
        facts=facts, check_no="", verify_code=code, issued_at=now,
        operator=operator or who, channel=channel)
    answer = _Answer({"table": [p.answer_row for p in parts],
                      "grounds": [g for p in by_code for g in p.answer_grounds],
                      "on": on.isoformat(), "known_on": known_on.isoformat()},
                     [p.subject_id for p in parts], [p.eligible for p in parts], on, known_on)
    return CheckDraft(who, request, answer, rules.content_hash, inputs, evidence, now, code,
                      certificate, channel, api_key_id, frames, plain=True)


def store_draft(conn: Connection | Driver, draft: CheckDraft) -> IssuedCheck:
    """Store a drafted check on ``conn`` (inside the caller's write transaction): the
    check with its evidence payload and audit row, then its certificate, numbered by the
    check's id. Several drafts may be stored in one transaction (the API server's group
    commit, :mod:`creditindex.store.check_writer`; :func:`store_drafts`)."""
    check_id = _insert_check(conn, draft.who, draft.answer, draft.rules_hash, draft.inputs,
                             draft.evidence, None, draft.created_at)
    number = check_number(check_id, draft.created_at)
    payload, values = certificate_values(draft, check_id, number)
    insert_row(conn, "check_certificate", values, json_columns=("payload",))
    return IssuedCheck(check_id, number, draft.verify_code, payload, draft.frames,
                       draft.evidence)


def certificate_values(draft: CheckDraft, check_id: int, number: str
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A drafted check's certificate numbered ``number`` (its payload) and its
    ``check_certificate`` row, stored with the check ``check_id``."""
    request = draft.request
    payload = {**draft.certificate, "check_no": number}
    return payload, {
        "check_id": check_id, "check_no": number, "verify_code": draft.verify_code,
        "issued_at": draft.created_at, "operator": payload["operator"],
        "channel": draft.channel, "api_key_id": draft.api_key_id,
        "project_no": request.project_no, "project_name": request.project_name,
        "lot_no": request.lot_no, "lot_name": request.lot_name,
        "category": request.category, "financier": request.financier,
        "payload": payload if draft.plain else audit.jsonable(payload)}


def check_row(d: CheckDraft) -> dict[str, Any]:
    """The ``eligibility_check`` row of a group-committed draft (its key is the database's)."""
    a = d.answer
    return {"created_at": d.created_at, "by": d.who, "check_day": a.on,
            "known_on": a.known_on, "subject_ids": ",".join(a.subject_ids),
            "rules_hash": d.rules_hash,
            "inputs": d.inputs if d.plain else audit.jsonable(d.inputs),
            "answer": a.payload, "evidence_html": None, "evidence": d.evidence}


def audit_row(d: CheckDraft, key: int, now: dt.datetime) -> dict[str, Any]:
    """The ``audit_log`` row of a group-committed draft stored as check ``key``."""
    return {"at": now, "actor": d.who, "action": "check.save", "entity": "eligibility_check",
            "entity_key": str(key), "before": None,
            "after": audit.jsonable({"check_day": d.answer.on,
                                     "subjects": d.answer.subject_ids,
                                     "rules_hash": d.rules_hash,
                                     "eligible": d.answer.eligible})}


def store_drafts(conn: Connection, drafts: Sequence[CheckDraft]) -> list[IssuedCheck]:
    """:func:`store_draft` of each of ``drafts`` in order, the same rows, written with
    one statement per table (``INSERT ... RETURNING`` of many rows, where the database
    returns the keys in the order of the rows; else one draft after another)."""
    from sqlalchemy import insert

    if len(drafts) < 2 or not conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        return [store_draft(conn, d) for d in drafts]
    checks, log, certs = (table("eligibility_check"), table("audit_log"),
                          table("check_certificate"))
    keys = [int(k) for k in conn.execute(insert(checks).returning(
        checks.c.id, sort_by_parameter_order=True), [check_row(d) for d in drafts]).scalars()]
    assert len(keys) == len(drafts)
    now = utcnow()
    conn.execute(insert(log), [audit_row(d, key, now)
                               for d, key in zip(drafts, keys, strict=True)])
    issued, values = [], []
    for d, key in zip(drafts, keys, strict=True):
        number = check_number(key, d.created_at)
        payload, row = certificate_values(d, key, number)
        values.append(row)
        issued.append(IssuedCheck(key, number, d.verify_code, payload, d.frames,
                                  d.evidence))
    conn.execute(insert(certs), values)
    return issued


def _mask_strings(row: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_personal(v) if isinstance(v, str) else v for k, v in row.items()}


def _masked_evidence(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "answers": [_mask_strings(r) for r in payload["answers"]],
            "grounds": [_mask_strings(r) for r in payload["grounds"]]}


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
