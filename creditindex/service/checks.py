"""Eligibility checks as the app asks them: refused when a limit forbids, codes failing
their check digit listed and not answered, the rest answered, stored and certified the
one way every face does (:func:`creditindex.store.checks.issue_check`), with the evidence
report's identifiers masked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from creditindex import evaluate
from creditindex.certificate import CheckRequest
from creditindex.evaluate import CheckResult, CreditData
from creditindex.evidence import ANONYMOUS_PREFIX, render_evidence
from creditindex.identifiers import id_problem, looks_personal
from creditindex.service import days
from creditindex.service.auth import Permission, User, require
from creditindex.service.limits import LimitReached, limits
from creditindex.service.masking import mask_payload, shown_ids
from creditindex.store.checks import Certificate, count_checks, issue_check
from creditindex.store.checks import verify as verify_code
from creditindex.store.db import utcnow


@dataclass(frozen=True)
class Eligibility:
    """An eligibility answer with its evidence report (experts' IDs masked)."""

    result: CheckResult
    names: dict[str, str]
    shown: dict[str, str]
    invalid: list[tuple[str, str]]
    payload: dict[str, Any]
    html: str
    check_id: int | None
    check_no: str | None = None
    verify_code: str | None = None
    certificate: dict[str, Any] | None = None


def within_limits(url: str, user: User, subject_ids: list[str], subject_type: str | None,
                  anonymous_id: str) -> None:
    """Refuse (:class:`LimitReached`) a check that a limit forbids (see
    :mod:`creditindex.service.limits`)."""
    lim = limits()
    if not user.may(Permission.CONFIDENTIAL) and (
            subject_type == "expert" or any(looks_personal(s) for s in subject_ids)):
        raise LimitReached("limit.experts_staff_only")
    if user.signed_in:
        if len(subject_ids) > lim.subjects:
            raise LimitReached("limit.subjects", n=len(subject_ids), max=lim.subjects)
        return
    if len(subject_ids) > lim.anon_subjects:
        raise LimitReached("limit.anon_subjects", n=len(subject_ids), max=lim.anon_subjects)
    since = utcnow() - dt.timedelta(days=1)
    mine, _b = count_checks(url, since=since, by_prefix=anonymous_id)
    if mine >= lim.anon_per_session:
        raise LimitReached("limit.anon_session", max=lim.anon_per_session)
    everyone, size = count_checks(url, since=since, by_prefix=ANONYMOUS_PREFIX)
    if everyone >= lim.anon_per_day or size >= lim.anon_bytes_per_day:
        raise LimitReached("limit.anon_day")


def check(url: str, data: CreditData, directory: pl.DataFrame, user: User,
          subject_ids: list[str], on: dt.date, known_on: dt.date, subject_type: str | None,
          consortium: bool, lang: str, anonymous_id: str = "anonymous:-") -> Eligibility:
    """Check candidates' eligibility on ``on`` as known on ``known_on`` (``data``: the
    store under the rule set in force on ``on``; ``directory``:
    :func:`creditindex.service.days.directory`): stored, numbered, with a certificate
    and a verification code. Codes failing their check digit are not answered (listed in
    ``invalid``); the evidence report (in ``lang``) masks resident ID numbers. Anonymous
    checks are limited (size, quotas), may not ask about experts, and are stored under
    ``anonymous_id``."""
    require(user, Permission.VIEW)
    within_limits(url, user, subject_ids, subject_type, anonymous_id)
    shown = shown_ids(directory, subject_ids)
    invalid = []
    valid = []
    for sid in subject_ids:
        why = id_problem(sid)
        if why is None:
            valid.append(sid)
        else:
            invalid.append((shown[sid], why))
    if not valid:  # nothing to answer: no check is made, let alone certified
        empty = evaluate.check(data, on, [], subject_type, known_on=known_on)
        return Eligibility(result=empty, names={}, shown=shown, invalid=invalid, payload={},
                           html="", check_id=None)
    request = CheckRequest(subject_ids=tuple(valid), on=on, known_on=known_on,
                           subject_type=subject_type, consortium=consortium and len(valid) > 1)
    checked_by = user.username or anonymous_id
    issued = issue_check(url, data, request, user=user.username or None,
                         operator=user.username or "public", channel="app",
                         actor=None if user.signed_in else anonymous_id)
    result = issued.result
    # The report is the stored check's evidence, with the codes as this page shows them
    # and who asked (stored with the check as its user or visitor).
    payload = mask_payload(issued.evidence, result, shown)
    payload["inputs"] = {**payload["inputs"], "subject_ids": [shown[s] for s in valid],
                         "checked_by": checked_by}
    html = render_evidence(payload, lang)
    names = {s: days.subject_name(directory, s) for s in subject_ids}
    return Eligibility(result=result, names=names, shown=shown, invalid=invalid,
                       payload=payload, html=html, check_id=issued.id,
                       check_no=issued.check_no, verify_code=issued.verify_code,
                       certificate=issued.certificate)


def verify_certificate(url: str, code: str) -> Certificate | None:
    """The certificate with verification code ``code`` (anyone may ask), or ``None``."""
    return verify_code(url, code)


def certificate_pdf(payload: dict[str, Any]) -> bytes:
    """A certificate as PDF."""
    from creditindex.pdf import certificate_pdf as render_pdf

    return render_pdf(payload)
