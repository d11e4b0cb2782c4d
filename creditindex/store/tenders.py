"""Tender credit points kept in the store: the formula a regulator set for a tender, and
the bidders' points frozen on the bid deadline with the check they came from. Frozen
points are never recomputed or changed: asking again answers what was frozen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select

from creditindex.certificate import SHANGHAI, CheckRequest
from creditindex.evaluate import CreditData
from creditindex.points import PointsFormula, compute_points, parse_formula
from creditindex.store import audit
from creditindex.store.checks import IssuedCheck, issue_check
from creditindex.store.db import (
    StoreError,
    get_engine,
    read_transaction,
    table,
    utcnow,
    write_transaction,
)
from creditindex.store.migrations import ensure_schema

POINTS_SCHEMA: dict[str, pl.DataType] = {
    "tender_no": pl.String(), "subject_id": pl.String(), "subject_name": pl.String(),
    "eligible": pl.Boolean(), "index": pl.Float64(), "grade": pl.String(),
    "points": pl.Float64(), "check_id": pl.Int64(), "check_no": pl.String(),
    "verify_code": pl.String(), "deadline": pl.Datetime("us"), "frozen_at": pl.Datetime("us"),
    "formula_hash": pl.String()}


def _clean_tender(tender_no: str) -> str:
    clean = tender_no.strip()
    if not clean or len(clean) > 64:
        raise StoreError("a tender number needs 1 to 64 characters")
    return clean


def define_formula(url: str | None, tender_no: str, formula: dict[str, Any] | PointsFormula,
                   by: str | None = None) -> PointsFormula:
    """Set the credit-points formula of a tender (refused once its points are frozen)."""
    tender = _clean_tender(tender_no)
    parsed = formula if isinstance(formula, PointsFormula) else parse_formula(formula)
    actor = by or audit.system_actor()
    engine = get_engine(url)
    ensure_schema(engine)
    points = table("tender_points")
    with write_transaction(engine) as conn:
        frozen = conn.execute(select(points.c.frozen_at).where(
            points.c.tender_no == tender).limit(1)).scalar()
        if frozen is not None:
            raise StoreError(f"tender {tender}: points were frozen on {frozen:%Y-%m-%d %H:%M} "
                             "UTC; its formula can no longer change")
        conn.execute(insert(table("tender_formula")).values(
            tender_no=tender, formula=parsed.model_dump(mode="json"),
            formula_hash=parsed.content_hash, defined_by=actor, defined_at=utcnow()))
        audit.record(conn, actor, "points.formula", "tender", tender,
                     after=parsed.model_dump(mode="json"))
    return parsed


def _formula_row(conn: Connection, tender: str) -> tuple[int, PointsFormula] | None:
    formulas = table("tender_formula")
    row = conn.execute(select(formulas.c.id, formulas.c.formula).where(
        formulas.c.tender_no == tender).order_by(formulas.c.id.desc()).limit(1)).first()
    return None if row is None else (int(row.id), parse_formula(dict(row.formula)))


def tender_formula(url: str | None, tender_no: str) -> PointsFormula | None:
    """The formula in force for a tender, if one was set."""
    engine = get_engine(url)
    ensure_schema(engine)
    with read_transaction(engine) as conn:
        found = _formula_row(conn, _clean_tender(tender_no))
    return None if found is None else found[1]


@dataclass(frozen=True)
class FrozenPoints:
    """A tender's frozen points and the check they came from."""

    tender_no: str
    formula: PointsFormula
    table: pl.DataFrame
    check: IssuedCheck | None


def deadline_day(deadline: dt.datetime) -> dt.date:
    """The bid deadline's day in Shanghai (a naive deadline is Shanghai time)."""
    aware = deadline if deadline.tzinfo else deadline.replace(tzinfo=SHANGHAI)
    return aware.astimezone(SHANGHAI).date()


def freeze_points(url: str | None, data: CreditData, tender_no: str,
                  request: CheckRequest, deadline: dt.datetime, *, user: str | None = None,
                  operator: str | None = None, channel: str = "cli",
                  api_key_id: str | None = None) -> FrozenPoints:
    """Check the bidders of ``request`` on the deadline's day (as known that day), store
    and certify the check, compute their points by the tender's formula and freeze them.
    Refused when the tender has no formula or its points are already frozen."""
    tender = _clean_tender(tender_no)
    engine = get_engine(url)
    ensure_schema(engine)
    with read_transaction(engine) as conn:
        found = _formula_row(conn, tender)
        if _frozen(conn, tender).height:
            raise StoreError(f"tender {tender}: points are already frozen (nothing is "
                             "recomputed; read them with `creditindex points show`)")
    if found is None:
        raise StoreError(f"tender {tender} has no credit-points formula (set one with "
                         "`creditindex points formula`)")
    formula_id, formula = found
    day = deadline_day(deadline)
    asked = replace(request, on=day, known_on=day, consortium=False)
    issued = issue_check(url, data, asked, user=user, operator=operator, channel=channel,
                         api_key_id=api_key_id)
    names = {r["subject_id"]: r["subject_name"] for r in issued.certificate["subjects"]}
    answers = issued.members.table.select("subject_id", "eligible", "index", "grade")
    scored = compute_points(formula, answers)
    now = utcnow()
    stored_deadline = (deadline if deadline.tzinfo is None
                       else deadline.astimezone(SHANGHAI).replace(tzinfo=None))
    actor = user or audit.system_actor()
    rows = [{"tender_no": tender, "formula_id": formula_id, "check_id": issued.id,
             "deadline": stored_deadline, "subject_id": r["subject_id"],
             "subject_name": names.get(_shown(r["subject_id"])) or None,
             "eligible": bool(r["eligible"]), "credit_index": float(r["index"]),
             "grade": r["grade"], "points": float(r["points"]), "frozen_at": now,
             "frozen_by": actor} for r in scored.iter_rows(named=True)]
    with write_transaction(engine) as conn:
        if _frozen(conn, tender).height:
            raise StoreError(f"tender {tender}: points are already frozen")
        conn.execute(insert(table("tender_points")), rows)
        audit.record(conn, actor, "points.freeze", "tender", tender,
                     after={"check_id": issued.id, "formula_hash": formula.content_hash,
                            "bidders": len(rows)})
        frozen = _frozen(conn, tender)
    return FrozenPoints(tender, formula, frozen, issued)


def _shown(subject_id: str) -> str:
    from creditindex.evidence import mask_personal

    return mask_personal(subject_id)


def _frozen(conn: Connection, tender: str) -> pl.DataFrame:
    points, certs, formulas = (table("tender_points"), table("check_certificate"),
                               table("tender_formula"))
    rows = conn.execute(select(
        points.c.tender_no, points.c.subject_id, points.c.subject_name, points.c.eligible,
        points.c.credit_index, points.c.grade, points.c.points, points.c.check_id,
        certs.c.check_no, certs.c.verify_code, points.c.deadline, points.c.frozen_at,
        formulas.c.formula_hash,
    ).join(certs, certs.c.check_id == points.c.check_id).join(
        formulas, formulas.c.id == points.c.formula_id).where(
        points.c.tender_no == tender).order_by(points.c.id)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=POINTS_SCHEMA, orient="row")


def frozen_points(url: str | None, tender_no: str) -> FrozenPoints:
    """A tender's frozen points (refused when none were frozen)."""
    tender = _clean_tender(tender_no)
    engine = get_engine(url)
    ensure_schema(engine)
    with read_transaction(engine) as conn:
        frame = _frozen(conn, tender)
        found = _formula_row(conn, tender)
    if frame.height == 0 or found is None:
        raise StoreError(f"tender {tender}: no frozen credit points")
    return FrozenPoints(tender, found[1], frame, None)


def shown_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Frozen points with natural persons' codes masked (for any output)."""
    from creditindex.evidence import mask_personal

    return frame.with_columns(pl.col("subject_id").map_elements(
        mask_personal, return_dtype=pl.String))
