"""The subject credit report (信用报告) of one subject on one day: the index with its
arithmetic (100 - 20 - 10 = 70), every counted deduction, every restriction with its
basis, period and scope, the watch level, and the records: only those that may be
published for the public, every record (marked) for staff.

Pure: :class:`CreditData` in, a JSON-friendly payload out; :func:`creditindex.pdf.
report_pdf` renders it.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import polars as pl

from creditindex import evaluate
from creditindex.certificate import SHANGHAI, ground_rows
from creditindex.evaluate import CreditData
from creditindex.evidence import mask_personal
from creditindex.i18n import tr
from creditindex.identifiers import id_problem

AUDIENCES = ("public", "staff")
FOOTNOTE = ("本报告仅列示报告日依法可以公示的信用记录（已撤销、已信用修复或超过公示期限的"
            "记录不予公示）。自然人身份证号已脱敏。")
FOOTNOTE_STAFF = ("内部版（工作人员）：列示全部记录，“公示”列标明报告日是否可向社会公示；"
                  "不得对外提供。自然人身份证号已脱敏。")


class ReportError(ValueError):
    """A report that cannot be made (bad code, unknown subject, staff-only subject)."""


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def arithmetic(base: float, floor: float, points: list[float], index: float) -> str:
    """The index as a sum: ``100 - 20 - 10 = 70`` (with the floor when it applies)."""
    if not points:
        return f"{_fmt(base)}（无扣分）= {_fmt(index)}"
    terms = " - ".join([_fmt(base), *(_fmt(p) for p in points)])
    raw = base - sum(points)
    if raw < floor:
        return f"max({_fmt(floor)}, {terms}) = {_fmt(index)}"
    return f"{terms} = {_fmt(index)}"


def publishable(records: pl.DataFrame, on: dt.date) -> pl.Series:
    """Whether each record may be shown to the public on ``on``: the contract's
    :func:`creditindex.disclosure.publishable_expr` (lawful disclosure). Before that
    module exists, a record is publishable unless revoked or repaired by ``on``."""
    try:
        disclosure = importlib.import_module("creditindex.disclosure")
    except ImportError:  # until contract v2 lands
        expr = ((pl.col("revoked_on").is_null() | (pl.col("revoked_on") > on))
                & (pl.col("repaired_on").is_null() | (pl.col("repaired_on") > on)))
        if "publish_until" in records.columns:
            expr = expr & (pl.col("publish_until").is_null() | (pl.col("publish_until") >= on))
        return records.select(expr.alias("p")).to_series()
    publishable_expr: pl.Expr = disclosure.publishable_expr(on)
    return records.select(publishable_expr.alias("p")).to_series()


def report_payload(data: CreditData, subject_id: str, on: dt.date,
                   known_on: dt.date | None = None, audience: str = "public",
                   generated_at: dt.datetime | None = None) -> dict[str, Any]:
    """Everything a subject's credit report states. ``audience`` ``public`` leaves out
    experts and records that may not be published; ``staff`` shows everything, marked."""
    if audience not in AUDIENCES:
        raise ReportError(f"audience must be public or staff, not '{audience}'")
    sid = subject_id.strip().upper()
    why = id_problem(sid)
    if why is not None:
        raise ReportError(f"subject '{mask_personal(sid)}': {why}")
    known = known_on or on
    mine = data.for_subjects([sid])
    roles = sorted(mine.subject_keys().get_column("subject_type").to_list())
    if not roles:
        raise ReportError(f"subject '{mask_personal(sid)}' is not known to the store")
    if audience == "public":
        roles = [r for r in roles if r != "expert"]
        if not roles:
            raise ReportError("experts' credit reports are for staff only")
    names = mine.names().filter(pl.col("latest"))
    name = str(names.get_column("subject_name")[0]) if names.height else ""
    grades = {g.name: g for g in data.rules.grade}
    base, floor = float(data.rules.ruleset.base), float(data.rules.ruleset.floor)
    role_rows = []
    for role in roles:
        answer = evaluate.check(mine, on, [sid], role, known_on=known).table.row(0, named=True)
        ded = evaluate.explain(mine, sid, on, known, role)
        points = [float(p) for p in ded.get_column("points").to_list()]
        watch = answer.get("watch") or getattr(grades.get(answer["grade"]), "watch", None)
        role_rows.append({
            "role": role, "role_zh": tr("role_of", role), "index": float(answer["index"]),
            "grade": answer["grade"], "watch": watch or "",
            "arithmetic": arithmetic(base, floor, points, float(answer["index"])),
            "deductions": [{
                "behaviour_code": r["behaviour_code"], "behaviour_name": r["behaviour_name"],
                "points": float(r["points"]), "decided_on": r["decided_on"].isoformat(),
                "expires_on": r["expires_on"].isoformat(), "document_no": r["document_no"],
                "source": r["source"]} for r in ded.iter_rows(named=True)],
        })
    result = evaluate.check(mine, on, [sid], known_on=known)
    restrictions = ground_rows(mine, result)
    records = mine.records.filter((pl.col("subject_id") == sid)
                                  & (pl.col("recorded_on") <= known))
    if audience == "public":
        records = records.filter(pl.col("subject_type") != "expert")
    shown = publishable(records, on) if records.height else pl.Series("p", [], pl.Boolean)
    records = records.with_columns(shown.alias("publishable"))
    if audience == "public":
        records = records.filter(pl.col("publishable"))
    behaviour_names = {b.code: b.name for b in data.rules.behaviour}
    made = generated_at or dt.datetime.now(dt.UTC)
    return {
        "kind": "credit_report", "audience": audience,
        "subject_id": mask_personal(sid), "subject_name": name,
        "on": on.isoformat(), "known_on": known.isoformat(),
        "generated_at": made.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "rule_set": {"name": data.rules.ruleset.name, "version": data.rules.ruleset.version,
                     "sha256": data.rules.content_hash},
        "eligible": bool(result.table.get_column("eligible")[0]),
        "roles": role_rows,
        "restrictions": restrictions,
        "records": [{
            "role": r["subject_type"], "behaviour_code": r["behaviour_code"],
            "behaviour_name": behaviour_names.get(r["behaviour_code"], ""),
            "decided_on": r["decided_on"].isoformat(), "document_no": r["document_no"] or "",
            "authority": r.get("authority") or r["source"],
            "revoked_on": r["revoked_on"].isoformat() if r["revoked_on"] else "",
            "repaired_on": r["repaired_on"].isoformat() if r["repaired_on"] else "",
            "publishable": bool(r["publishable"]),
        } for r in records.sort("decided_on", descending=True).iter_rows(named=True)],
    }


def fact_rows(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's heading facts."""
    rs = payload["rule_set"]
    return [("主体名称", payload["subject_name"] or "—"),
            ("统一社会信用代码/身份证号", payload["subject_id"]),
            ("报告日", payload["on"]), ("数据截至日", payload["known_on"]),
            ("报告日能否参与交易", "可以" if payload["eligible"] else "受限"),
            ("规则集", f"{rs['name']} {rs['version']}（SHA-256 {rs['sha256'][:16]}…）"),
            ("生成时间（北京时间）", payload["generated_at"].replace("T", " ")),
            ("版本", "公开版" if payload["audience"] == "public" else "内部版（工作人员）")]


DEDUCTION_HEAD = ["行为代码", "行为", "扣分", "决定日", "失效日", "文书编号", "来源"]
RESTRICTION_HEAD = ["原因", "情形", "文书编号", "依据", "期间", "范围"]


def deduction_cells(role: dict[str, Any]) -> list[list[str]]:
    """One row per counted deduction of a role."""
    return [[d["behaviour_code"], d["behaviour_name"] or "", _fmt(d["points"]),
             d["decided_on"], d["expires_on"], d["document_no"] or "—", d["source"]]
            for d in role["deductions"]]


def restriction_cells(payload: dict[str, Any]) -> list[list[str]]:
    """One row per restriction in force on the report's day."""
    return [[g["cause_zh"], g.get("what") or g["detail"],
             g["document_no"] or "—", g["basis"] or "—", f"{g['since']} 至 {g['until']}",
             g["scope"]] for g in payload["restrictions"]]


def records_title(payload: dict[str, Any]) -> str:
    """The heading of the records table."""
    return ("依法公示的信用记录" if payload["audience"] == "public"
            else "全部信用记录（含不予公示的记录）")


def record_head(payload: dict[str, Any]) -> list[str]:
    """The columns of the records table (staff see whether each may be published)."""
    head = ["角色", "行为", "决定日", "文书编号", "机关/来源", "撤销日", "修复日"]
    return head + (["公示"] if payload["audience"] == "staff" else [])


def record_widths(payload: dict[str, Any]) -> tuple[float, ...]:
    """Column widths (mm) of the records table."""
    if payload["audience"] == "staff":
        return (16, 42, 20, 26, 26, 18, 18, 14)
    return (18, 46, 22, 28, 28, 19, 19)


def record_cells(payload: dict[str, Any]) -> list[list[str]]:
    """One row per record shown."""
    rows = []
    for r in payload["records"]:
        row = [tr("role_of", r["role"]),
               " ".join(x for x in (r["behaviour_code"], r["behaviour_name"]) if x),
               r["decided_on"], r["document_no"] or "—", r["authority"],
               r["revoked_on"] or "—", r["repaired_on"] or "—"]
        if payload["audience"] == "staff":
            row.append("是" if r["publishable"] else "否（不公示）")
        rows.append(row)
    return rows
