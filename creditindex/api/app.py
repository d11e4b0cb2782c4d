"""The HTTP API (FastAPI; OpenAPI at ``/docs`` and ``/openapi.json``).

Every endpoint but ``/v1/verify/{code}`` and ``/health`` needs an API key
(``Authorization: Bearer ci_...`` or ``X-API-Key: ci_...``) holding the endpoint's scope.
Errors are JSON: ``{"error": {"status", "code", "message", "problems": [{"field",
"reason", "value"}]}}`` — 400 bad input (a code failing its check digit is named by
field and reason, never answered), 401 missing or wrong key, 403 revoked key or missing
scope, 404 unknown, 409 conflict, 429 over the key's request limit (``Retry-After``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import polars as pl
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from creditindex import evaluate
from creditindex.api.answers import DayAnswers
from creditindex.api.asgi import FastPath, UseLogMiddleware
from creditindex.api.heap import freeze_long_lived, stop_freezing
from creditindex.api.key_cache import KeyCache
from creditindex.api.limits import RateLimiter, SharedRateLimiter
from creditindex.api.reader import StoreReader
from creditindex.api.use_log import UseLog
from creditindex.certificate import CheckRequest, FieldProblem, RequestError, render_html
from creditindex.evaluate import CheckResult
from creditindex.evidence import mask_personal
from creditindex.identifiers import id_problem
from creditindex.points import FormulaError, committee_table, table_bytes
from creditindex.rules import SUBJECT_TYPES
from creditindex.store import apikeys, audit, checks, tenders
from creditindex.store.check_writer import CheckWriter
from creditindex.store.db import StoreError, keep_connections, utcnow

log = logging.getLogger(__name__)
DEFAULT_RATE = 600  # requests per key per minute, unless the key says otherwise
# How `creditindex serve --workers N` passes the store, the limit and the file of the
# request counts they share to its processes.
SERVE_DB, SERVE_RATE = "CREDITINDEX_SERVE_DB", "CREDITINDEX_SERVE_RATE"
SERVE_LIMITS = "CREDITINDEX_SERVE_LIMITS"


class ApiError(Exception):
    """An error answered as JSON."""

    def __init__(self, status: int, code: str, message: str,
                 problems: list[FieldProblem] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.problems = problems or []
        self.headers = headers or {}


def _error_body(status: int, code: str, message: str, problems: list[FieldProblem]
                ) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message,
                      "problems": [{"field": p.field, "reason": p.reason, "value": p.value}
                                   for p in problems]}}


# --------------------------------------------------------------------------------------
# Request and answer bodies (they make the OpenAPI document)
# --------------------------------------------------------------------------------------


class Named(BaseModel):
    """A project or lot: number and name."""

    no: str | None = Field(default=None, max_length=255, examples=["GZ2026-0815"])
    name: str | None = Field(default=None, max_length=255, examples=["某某道路改造工程"])


class EligibilityRequest(BaseModel):
    """Eligibility of bidders (or one consortium's members) for a project and lot."""

    codes: list[str] = Field(min_length=1, max_length=500,
                             description="USCC or resident ID numbers (check digits verified).")
    on: dt.date | None = Field(default=None, description="Day of the check (default today).")
    known_on: dt.date | None = Field(default=None, description="Answer with what was known "
                                     "on this day (default: the day of the check).")
    subject_type: str | None = Field(default=None, description=f"One of {SUBJECT_TYPES}.")
    consortium: bool = Field(default=False, description="The codes are one consortium (联合体).")
    category: str | None = Field(default=None, description="Trading category asked.")
    financier: str | None = Field(default=None, max_length=64,
                                  description="The project's lender (e.g. worldbank).")
    project: Named = Field(default_factory=Named)
    lot: Named = Field(default_factory=Named)
    operator: str | None = Field(default=None, max_length=200,
                                 description="The person at the platform who asks.")
    names: dict[str, str] = Field(default_factory=dict, description="Names of the codes "
                                  "as the bidders declare them: a firm without records is "
                                  "matched by name against external lists.")


class PointsRequest(BaseModel):
    """Freeze a tender's credit points for its bidders on the bid deadline."""

    bidders: list[str] = Field(min_length=1, max_length=500)
    deadline: dt.datetime = Field(description="Bid deadline (naive: Shanghai time).")
    category: str | None = None
    financier: str | None = Field(default=None, max_length=64)
    project: Named = Field(default_factory=Named)
    lot: Named = Field(default_factory=Named)
    operator: str | None = Field(default=None, max_length=200)


class EligibilityAnswer(BaseModel):
    """A stored and certified check: its number and verification code, and what its
    certificate states (subjects, the consortium's row, every ground)."""

    check_id: int
    check_no: str = Field(examples=["HC202600000001"])
    verification_code: str = Field(examples=["7KQ3-XM2P-9RTA-4HCV"])
    eligible: bool = Field(description="Every subject (or the consortium) eligible.")
    on: dt.date
    known_on: dt.date
    category: str | None
    financier: str | None
    rule_set: dict[str, str] = Field(description="name, version and sha256.")
    subjects: list[dict[str, Any]] = Field(description="One row per subject: subject_id "
                                           "(masked for natural persons), subject_name, "
                                           "eligible, index, grade, watch, restricted_in, "
                                           "reasons.")
    consortium: dict[str, Any] | None = Field(description="The consortium's row, if asked.")
    grounds: list[dict[str, Any]] = Field(description="Every ground: behaviour, authority, "
                                          "document number, basis, period and scope.")
    certificate: dict[str, str] = Field(description="Paths of the certificate's pdf and "
                                        "html.")


@dataclass(frozen=True)
class Caller:
    """The key a request was made with."""

    key: apikeys.ApiKey

    @property
    def staff(self) -> bool:
        """Whether the key may see experts and non-publishable records."""
        return "staff" in self.key.scopes


# --------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------


def create_app(url: str, default_rate: int = DEFAULT_RATE,
               shared_limits: str | None = None) -> FastAPI:
    """The API over the store at ``url``; keys without their own limit get
    ``default_rate`` requests per minute. With ``shared_limits`` (a file every process
    of the server opens) request limits are counted across the processes."""
    keep_connections(url)
    reader = StoreReader(url)
    limiter: RateLimiter | SharedRateLimiter = (
        RateLimiter() if shared_limits is None else SharedRateLimiter(shared_limits))
    uses = UseLog(url)
    writer = CheckWriter(url)
    keys = KeyCache(url)
    # Who the server's checks are stored as (the system actor): the same for its life,
    # found once (the login name's look-up cost a few per cent of each request's CPU).
    actor = audit.system_actor()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        freeze_long_lived()
        uses.start()
        threading.Thread(target=reader.warm, name="api-warm-up", daemon=True).start()
        try:
            yield
        finally:
            writer.stop()
            uses.stop()
            stop_freezing()

    app = FastAPI(title="creditindex API", version="1",
                  description=__doc__ or "", lifespan=lifespan)
    app.state.reader = reader
    app.state.writer = writer

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_error_body(exc.status, exc.code, exc.message, exc.problems),
                            status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
            field = ".".join(loc) or "body"
            problems.append(FieldProblem(field, str(err.get("msg", "invalid"))))
        return JSONResponse(_error_body(400, "bad_request", "the request is not valid",
                                        problems), status_code=400)

    @app.exception_handler(404)
    async def _not_found(request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse(_error_body(404, "not_found", f"no endpoint {request.url.path}",
                                        []), status_code=404)

    def log_use(scope: dict[str, Any], status: int, started: float) -> None:
        state = scope.get("state") or {}
        key_id = state.get("key_id")
        if key_id:
            uses.add(apikeys.Use(key_id, utcnow(), scope["method"], scope["path"], status,
                                 (time.perf_counter() - started) * 1000,
                                 state.get("check_id")))


    def authorised(scope: str, authorization: str | None, x_api_key: str | None,
                   state: dict[str, Any]) -> Caller:
        """The caller of a request with these headers, allowed ``scope`` and within its
        limit (the request is counted), else the :class:`ApiError` to answer. The key's
        id goes to the request's ``state`` (the use log's)."""
        presented = x_api_key
        if presented is None and authorization:
            kind, _, value = authorization.partition(" ")
            presented = value.strip() if kind.lower() == "bearer" else None
        bearer = {"WWW-Authenticate": "Bearer"}
        if not presented:
            raise ApiError(401, "missing_key", "this endpoint needs an API key "
                           "(Authorization: Bearer ci_...)", headers=bearer)
        key, key_id = keys.find(presented)
        if key_id:
            state["key_id"] = key_id
        if key is None:
            raise ApiError(401, "bad_key", "unknown API key or wrong secret",
                           headers=bearer)
        if not key.active:
            raise ApiError(403, "revoked_key", f"API key {key.key_id} was revoked on "
                           f"{key.revoked_at:%Y-%m-%d %H:%M} UTC")
        if scope not in key.scopes:
            raise ApiError(403, "missing_scope", f"API key {key.key_id} lacks scope "
                           f"'{scope}' (it has {', '.join(key.scopes)})")
        wait = limiter.allow(key.key_id, key.rate_per_minute or default_rate)
        if wait is not None:
            raise ApiError(429, "rate_limited", f"API key {key.key_id} is over its limit "
                           f"of {key.rate_per_minute or default_rate} requests per minute",
                           headers={"Retry-After": str(int(wait) + 1)})
        return Caller(key)

    def caller(scope: str) -> Callable[..., Awaitable[Caller]]:
        # Asynchronous: run on the event loop (the key is in memory but once a second).
        async def dependency(request: Request,
                             authorization: Annotated[str | None, Header()] = None,
                             x_api_key: Annotated[str | None, Header()] = None) -> Caller:
            return authorised(scope, authorization, x_api_key,
                              request.scope.setdefault("state", {}))
        return dependency

    checker = Depends(caller("check"))
    readonly = Depends(caller("read"))

    def _code(value: str, field: str) -> str:
        why = id_problem(value)
        if why is not None:
            raise ApiError(400, "bad_code", f"{field}: {why}",
                           [FieldProblem(field, why, mask_personal(value.strip()))])
        return value.strip().upper()

    def _request(body: EligibilityRequest | PointsRequest, codes: list[str], on: dt.date,
                 known_on: dt.date | None, consortium: bool, subject_type: str | None
                 ) -> CheckRequest:
        return CheckRequest(
            subject_ids=tuple(codes), on=on, known_on=known_on, subject_type=subject_type,
            consortium=consortium, category=body.category, financier=body.financier,
            project_no=body.project.no, project_name=body.project.name,
            lot_no=body.lot.no, lot_name=body.lot.name,
            names=dict(getattr(body, "names", {}) or {}))

    def _refuse_bad(exc: RequestError) -> ApiError:
        return ApiError(400, "bad_request", str(exc), exc.problems)

    def _staff_only_experts(who: Caller, codes: list[str], subject_type: str | None) -> None:
        if who.staff:
            return
        if subject_type == "expert" or reader.known_experts(codes):
            raise ApiError(403, "staff_only", "experts' data are for staff-scoped keys only")

    def _operator(who: Caller, named: str | None) -> str:
        return f"{who.key.client}/{named}" if named else who.key.client

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness: the server answers."""
        return {"status": "ok"}

    def _drafted(body: EligibilityRequest, asked: CheckRequest, who: Caller
                 ) -> checks.CheckDraft:
        _staff_only_experts(who, asked.ids, body.subject_type)
        data, facts = reader.narrowed(asked.ids, asked.on)
        return checks.draft_check(
            url, data, asked, operator=_operator(who, body.operator), channel="api",
            api_key_id=who.key.key_id, facts=facts, members=reader.answered(asked),
            actor=actor)

    def _from_rows(body: EligibilityRequest, asked: CheckRequest, who: Caller
                   ) -> checks.CheckDraft | None:
        """The check drafted from each subject's rows kept with the day's answers
        (``None``: not answered from memory now)."""
        _staff_only_experts(who, asked.ids, body.subject_type)
        found = reader.answered_rows(asked)
        if found is None:
            return None
        parts, day, rules, facts = found
        result = day.result
        return checks.draft_from_rows(
            url, asked, parts, rules=rules, on=result.on, known_on=result.known_on,
            facts=facts, frames=functools.partial(_frames, day, asked.ids),
            operator=_operator(who, body.operator), channel="api",
            api_key_id=who.key.key_id, actor=actor, validated=True)

    # The answer is serialised here, once (a Response is sent as is: no second walk
    # through the answer by FastAPI's encoder nor a validation against the model, which
    # documents it).
    @app.post("/v1/eligibility", tags=["eligibility"], response_model=EligibilityAnswer)
    async def eligibility(body: EligibilityRequest, request: Request,
                          who: Caller = checker) -> Response:
        """Check codes (or a consortium) for a project and lot; the check is stored and
        certified: the answer carries its check number and verification code."""
        return await eligibility_answer(body, who, request.scope.setdefault("state", {}))

    async def eligibility_answer(body: EligibilityRequest, who: Caller,
                                 state: dict[str, Any]) -> Response:
        """The answer of ``POST /v1/eligibility`` (the :class:`ApiError` to answer if
        refused); the check's id goes to the request's ``state``."""
        on = body.on or dt.date.today()
        asked = _request(body, body.codes, on, body.known_on, body.consortium,
                         body.subject_type)
        try:
            from creditindex.certificate import validate

            validate(asked)
        except RequestError as exc:
            raise _refuse_bad(exc) from exc
        # A check answered from memory (each subject's rows kept with the day's answers:
        # well under a millisecond of CPU) is drafted on the event loop: request threads
        # would only contend for the interpreter's lock. Anything that may read the store
        # or run the engine goes to a worker thread.
        draft = _from_rows(body, asked, who)
        if draft is None:
            draft = await run_in_threadpool(_drafted, body, asked, who)
        # Stored by the writer thread with the other checks waiting (group commit).
        issued = await asyncio.wrap_future(writer.submit(draft))
        state["check_id"] = issued.id
        cert = issued.certificate
        return _json_answer({
            "check_id": issued.id, "check_no": issued.check_no,
            "verification_code": issued.verify_code, "eligible": cert["eligible"],
            "on": cert["on"], "known_on": cert["known_on"],
            "category": cert["category"], "financier": cert["financier"],
            "rule_set": cert["rule_set"], "subjects": cert["subjects"],
            "consortium": cert["consortium"], "grounds": cert["grounds"],
            "certificate": {"pdf": f"/v1/checks/{issued.check_no}/certificate.pdf",
                            "html": f"/v1/checks/{issued.check_no}/certificate.html"}})

    def _certificate(check_no: str, who: Caller) -> checks.Certificate:
        """A stored certificate, for the key that asked for the check or a staff key
        (check numbers are sequential: others verify by code, ``/v1/verify``)."""
        try:
            found = checks.get_certificate(url, check_no)
        except StoreError as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        if not who.staff and found.api_key_id != who.key.key_id:
            raise ApiError(404, "not_found", f"no certified check '{check_no}' made with key "
                           f"{who.key.key_id} (verify others by their code: /v1/verify)")
        return found

    @app.get("/v1/checks/{check_no}", tags=["eligibility"])
    def stored_check(check_no: str, who: Caller = readonly) -> dict[str, Any]:
        """What a stored check's certificate states (checks made with this key)."""
        return _certificate(check_no, who).payload

    @app.get("/v1/checks/{check_no}/certificate.pdf", tags=["eligibility"],
             response_class=Response)
    def certificate_pdf(check_no: str, who: Caller = readonly) -> Response:
        """The check certificate (资格核查证明) as PDF (checks made with this key)."""
        from creditindex.pdf import certificate_pdf as render_pdf

        found = _certificate(check_no, who)
        return Response(render_pdf(found.payload), media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{found.check_no}.pdf"'})

    @app.get("/v1/checks/{check_no}/certificate.html", tags=["eligibility"],
             response_class=HTMLResponse)
    def certificate_html(check_no: str, who: Caller = readonly) -> HTMLResponse:
        """The check certificate as HTML (checks made with this key)."""
        return HTMLResponse(render_html(_certificate(check_no, who).payload))

    @app.get("/v1/checks/{check_no}/evidence.html", tags=["eligibility"],
             response_class=HTMLResponse)
    def evidence_html(check_no: str, lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
                      who: Caller = readonly) -> HTMLResponse:
        """The check's evidence report (inputs, rule set, data digests, answer, every
        ground), in Chinese or English, rendered from what the check stored (checks made
        with this key)."""
        found = _certificate(check_no, who)
        report = checks.get_check(url, found.check_id).evidence_report(lang)
        if report is None:
            raise ApiError(404, "not_found", f"check {found.check_no} stored no evidence")
        return HTMLResponse(report)

    @app.get("/v1/verify/{code}", tags=["eligibility"])
    def verify(code: Annotated[str, Path(max_length=40)]) -> dict[str, Any]:
        """Public: whether a verification code belongs to a check this centre issued,
        when, and what it says."""
        found = checks.verify(url, code)
        text = checks.verification_text(found, code)
        if found is None:
            raise ApiError(404, "unknown_code", text)
        p = found.payload
        return {"exists": True, "check_no": found.check_no, "issued_at": p["issued_at"],
                "eligible": p["eligible"], "subjects": p["subjects"],
                "consortium": p["consortium"], "project": p["project"], "lot": p["lot"],
                "text": text}

    def _day(value: dt.date | None) -> dt.date:
        return value or dt.date.today()

    @app.get("/v1/subjects/{code}", tags=["subjects"])
    def subject(code: str, on: dt.date | None = None, known_on: dt.date | None = None,
                who: Caller = readonly) -> dict[str, Any]:
        """A subject's profile on a day: per role index, grade, watch level and counted
        deductions with the arithmetic; restrictions with their grounds; records (only
        publishable ones unless the key is staff-scoped)."""
        from creditindex.report import ReportError, report_payload

        sid = _code(code, "code")
        day = _day(on)
        roles = reader.roles_of(sid)
        if not roles:
            raise ApiError(404, "unknown_subject", f"no subject {mask_personal(sid)}")
        if roles == ["expert"] and not who.staff:
            raise ApiError(403, "staff_only", "experts' data are for staff-scoped keys only")
        try:
            return report_payload(reader.data(day), sid, day, known_on,
                                  "staff" if who.staff else "public")
        except ReportError as exc:
            raise ApiError(400, "bad_request", str(exc)) from exc

    @app.get("/v1/subjects/{code}/report.pdf", tags=["subjects"], response_class=Response)
    def subject_report(code: str, on: dt.date | None = None,
                       who: Caller = readonly) -> Response:
        """The subject's credit report (信用报告) as PDF."""
        from creditindex.pdf import report_pdf

        payload = subject(code, on, None, who)
        return Response(report_pdf(payload), media_type="application/pdf")

    @app.get("/v1/subjects/{code}/history", tags=["subjects"])
    def subject_history(code: str, start: Annotated[dt.date, Query(alias="from")],
                        end: Annotated[dt.date, Query(alias="to")],
                        subject_type: str | None = None,
                        who: Caller = readonly) -> dict[str, Any]:
        """The subject's index, grade and restriction, day by day (at most 3,660 days)."""
        sid = _code(code, "code")
        if end < start or (end - start).days > 3660:
            raise ApiError(400, "bad_request", "from..to must be 0 to 3,660 days",
                           [FieldProblem("to", "before from or more than 3,660 days after it",
                                         end.isoformat())])
        if subject_type is not None and subject_type not in SUBJECT_TYPES:
            raise ApiError(400, "bad_request", "unknown subject_type",
                           [FieldProblem("subject_type", f"use one of {SUBJECT_TYPES}",
                                         subject_type)])
        roles = reader.roles_of(sid)
        if not who.staff and (subject_type == "expert" or roles == ["expert"]):
            raise ApiError(403, "staff_only", "experts' data are for staff-scoped keys only")
        if subject_type is None and "expert" in roles and not who.staff:
            subject_type = next(r for r in roles if r != "expert")
        frame = evaluate.history(reader.data(end), sid, start, end, subject_type)
        return {"subject_id": mask_personal(sid), "subject_type": subject_type,
                "days": [{"date": r["date"].isoformat(), "index": r["index"],
                          "grade": r["grade"], "restricted": r["restricted"]}
                         for r in frame.iter_rows(named=True)]}

    @app.get("/v1/rankings", tags=["rankings"])
    def rankings(subject_type: Annotated[str, Query(alias="type")] = "bidder",
                 on: dt.date | None = None, page: Annotated[int, Query(ge=1)] = 1,
                 size: Annotated[int, Query(ge=1, le=500)] = 50,
                 who: Caller = readonly) -> dict[str, Any]:
        """One page of a subject type's ranking on a day (experts: staff-scoped keys)."""
        if subject_type not in SUBJECT_TYPES:
            raise ApiError(400, "bad_request", "unknown type",
                           [FieldProblem("type", f"use one of {SUBJECT_TYPES}", subject_type)])
        if subject_type == "expert" and not who.staff:
            raise ApiError(403, "staff_only", "experts' rankings are for staff-scoped keys")
        day = _day(on)
        ranked = reader.compute(day, day).filter(pl.col("subject_type") == subject_type)
        rows = ranked.slice((page - 1) * size, size)
        return {"type": subject_type, "on": day.isoformat(), "total": ranked.height,
                "page": page, "size": size,
                "rows": [{"rank": r["rank"], "subject_id": mask_personal(r["subject_id"]),
                          "subject_name": r["subject_name"], "index": r["index"],
                          "grade": r["grade"], "restricted": r["restricted"]}
                         for r in rows.iter_rows(named=True)]}

    def _staff(who: Caller) -> None:
        if not who.staff:
            raise ApiError(403, "missing_scope", f"API key {who.key.key_id} lacks scope "
                           "'staff' (formulas are set by the regulator)")

    @app.put("/v1/tenders/{tender_no}/formula", tags=["credit points"])
    def set_formula(tender_no: str, formula: dict[str, Any],
                    who: Caller = readonly) -> dict[str, Any]:
        """Set a tender's credit-points formula (staff-scoped keys)."""
        _staff(who)
        try:
            parsed = tenders.define_formula(url, tender_no, formula,
                                            by=f"api:{who.key.client}"[:64])
        except FormulaError as exc:
            raise ApiError(400, "bad_formula", str(exc),
                           [FieldProblem("formula", str(exc))]) from exc
        except StoreError as exc:
            raise ApiError(409, "conflict", str(exc)) from exc
        return {"tender_no": tender_no, "formula": parsed.model_dump(mode="json"),
                "formula_hash": parsed.content_hash, "description": parsed.describe()}

    def _points_answer(frozen: tenders.FrozenPoints) -> dict[str, Any]:
        shown = tenders.shown_table(frozen.table)
        return {"tender_no": frozen.tender_no, "formula": frozen.formula.describe(),
                "formula_hash": frozen.formula.content_hash,
                "rows": pl.DataFrame(shown).with_columns(
                    pl.col("deadline").dt.to_string("%Y-%m-%d %H:%M"),
                    pl.col("frozen_at").dt.to_string("%Y-%m-%dT%H:%M:%S")).to_dicts()}

    @app.post("/v1/tenders/{tender_no}/points", tags=["credit points"])
    def freeze(tender_no: str, body: PointsRequest, request: Request,
               who: Caller = checker) -> dict[str, Any]:
        """Check a tender's bidders on the bid deadline and freeze their credit points by
        the tender's formula (once; later requests read what was frozen)."""
        day = tenders.deadline_day(body.deadline)
        asked = _request(body, body.bidders, day, day, False, "bidder")
        try:
            from creditindex.certificate import validate

            validate(asked)
            frozen = tenders.freeze_points(url, reader.data(day), tender_no, asked,
                                           body.deadline, operator=_operator(who, body.operator),
                                           channel="api", api_key_id=who.key.key_id)
        except RequestError as exc:
            raise _refuse_bad(exc) from exc
        except StoreError as exc:
            raise ApiError(409, "conflict", str(exc)) from exc
        if frozen.check is not None:
            request.state.check_id = frozen.check.id
        return _points_answer(frozen)

    @app.get("/v1/tenders/{tender_no}/points", tags=["credit points"])
    def points(tender_no: str, fmt: Annotated[str, Query(alias="format")] = "json",
               _who: Caller = readonly) -> Any:
        """A tender's frozen points: JSON, or the committee's table as csv or xlsx."""
        try:
            frozen = tenders.frozen_points(url, tender_no)
        except StoreError as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        if fmt == "json":
            return _points_answer(frozen)
        if fmt not in ("csv", "xlsx"):
            raise ApiError(400, "bad_request", "format must be json, csv or xlsx",
                           [FieldProblem("format", "use json, csv or xlsx", fmt)])
        table = committee_table(tenders.shown_table(frozen.table))
        media = ("text/csv; charset=utf-8" if fmt == "csv" else
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response(table_bytes(table, fmt), media_type=media, headers={
            "Content-Disposition": f'attachment; filename="points-{tender_no}.{fmt}"'})

    async def fast_eligibility(scope: dict[str, Any], body: bytes) -> Response | None:
        """``POST /v1/eligibility`` answered without the framework's routing and
        dependencies: the same steps (the key checked and counted, then the body
        validated by the same model, then :func:`eligibility_answer`); ``None`` for a
        request the framework is to answer (not JSON, a body the model refuses: its
        errors are the framework's)."""
        headers = Headers(scope=scope)
        kind = headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind != "application/json":
            return None
        try:
            asked = EligibilityRequest.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # bad JSON or a refused body
            return None
        state = scope.setdefault("state", {})
        try:
            who = authorised("check", headers.get("authorization"),
                             headers.get("x-api-key"), state)
            return await eligibility_answer(asked, who, state)
        except ApiError as exc:
            return await _api_error(Request(scope), exc)

    # Checks are most of a server's requests: the framework's routing, dependencies and
    # exception layers cost about a third of the event loop's CPU per check (profiled).
    app.add_middleware(FastPath, method="POST", path="/v1/eligibility",
                       answer=fast_eligibility)
    # Every request made with a key is logged (a plain ASGI middleware: Starlette's
    # BaseHTTPMiddleware costs a second task and a stream per request).
    app.add_middleware(UseLogMiddleware, log=log_use)
    return app


def _json_answer(content: dict[str, Any]) -> Response:
    """``content`` as JSON, the text Starlette's :class:`JSONResponse` sends (UTF-8, no
    spaces; a float under 1e-4 is written without an exponent, the same number) made by
    orjson: a check's answer (several kB) took ~5% of the event loop's CPU through
    ``json.dumps``, a fifth of that through orjson."""
    return Response(orjson.dumps(content), media_type="application/json")


def _frames(day: DayAnswers, subject_ids: list[str]) -> tuple[CheckResult, CheckResult]:
    """The engine's frames of a check drafted from the day answers (made when asked)."""
    members = day.answer(subject_ids)
    assert members is not None
    return members, members


def app_from_environment() -> FastAPI:
    """The API of one of ``creditindex serve --workers N``'s processes (store, default
    limit and the request counts shared by the processes from :data:`SERVE_DB`,
    :data:`SERVE_RATE` and :data:`SERVE_LIMITS`)."""
    import os

    return create_app(os.environ[SERVE_DB], int(os.environ.get(SERVE_RATE, DEFAULT_RATE)),
                      os.environ.get(SERVE_LIMITS))
