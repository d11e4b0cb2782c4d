"""The check certificate (资格核查证明): what one eligibility check asked and answered, as
plain data frozen when the check is made, and its HTML rendering (Chinese).

Pure: a :class:`CheckRequest` and :class:`CreditData` in, a certificate payload out. The
store numbers the check and gives it a verification code (:mod:`creditindex.store.checks`);
the PDF is made by :mod:`creditindex.pdf` from the same payload.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from creditindex import evaluate
from creditindex.categories import CATEGORIES
from creditindex.evaluate import CheckResult, CreditData
from creditindex.evidence import SHANGHAI as SHANGHAI
from creditindex.evidence import data_facts, mask_personal
from creditindex.i18n import tr
from creditindex.identifiers import id_problem
from creditindex.lists import CHINA, normalise_country
from creditindex.rules import SUBJECT_TYPES, RuleSet
from creditindex.wording import behaviour_names, ground_what, source_words


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of a request (``codes[2]``, ``category``)."""

    field: str
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        shown = "" if self.value is None else f" '{self.value}'"
        return f"{self.field}{shown}: {self.reason}"


class RequestError(ValueError):
    """A check request that cannot be answered; carries every problem."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class CheckRequest:
    """What an eligibility check asks: the codes (a consortium's members when
    ``consortium``), the day and knowledge day, the role, the trading category and
    financier, and the project and lot (标段) it is made for."""

    subject_ids: tuple[str, ...]
    on: dt.date
    known_on: dt.date | None = None
    subject_type: str | None = None
    consortium: bool = False
    category: str | None = None
    financier: str | None = None
    project_no: str | None = None
    project_name: str | None = None
    lot_no: str | None = None
    lot_name: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    countries: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        """The codes, trimmed, upper-cased, each once, in the order asked."""
        return list(self._ids)

    @functools.cached_property
    def _ids(self) -> tuple[str, ...]:  # a request is asked for its codes many times
        return tuple(dict.fromkeys(s.strip().upper() for s in self.subject_ids if s.strip()))

    def inputs(self) -> dict[str, Any]:
        """The request as stored with the check (codes masked for natural persons)."""
        return {"subject_ids": [mask_personal(s) for s in self.ids],
                "on": self.on.isoformat(),
                "known_on": None if self.known_on is None else self.known_on.isoformat(),
                "type": self.subject_type, "consortium": self.consortium,
                "category": self.category, "financier": self.financier,
                "project_no": self.project_no, "project_name": self.project_name,
                "lot_no": self.lot_no, "lot_name": self.lot_name}


def request_problems(request: CheckRequest, field_name: str = "codes") -> list[FieldProblem]:
    """Every problem of ``request``: codes failing their check digit (named by position),
    no codes, an unknown role or category, a knowledge day after the day asked."""
    problems = []
    if not request.ids:
        problems.append(FieldProblem(field_name, "give at least one subject code"))
    for i, raw in enumerate(request.subject_ids):
        if not raw.strip():
            problems.append(FieldProblem(f"{field_name}[{i}]", "empty code"))
            continue
        why = id_problem(raw)
        if why is not None and not _foreign(request, raw):
            problems.append(FieldProblem(f"{field_name}[{i}]", why, mask_personal(raw.strip())))
    if request.consortium and len(request.ids) < 2:
        problems.append(FieldProblem("consortium", "a consortium needs at least two members"))
    if request.subject_type is not None and request.subject_type not in SUBJECT_TYPES:
        problems.append(FieldProblem("subject_type", f"unknown role; use one of "
                                     f"{', '.join(SUBJECT_TYPES)}", request.subject_type))
    if request.category is not None and request.category not in CATEGORIES:
        problems.append(FieldProblem("category", f"unknown trading category; use one of "
                                     f"{', '.join(CATEGORIES)}", request.category))
    if request.known_on is not None and request.known_on > request.on:
        problems.append(FieldProblem("known_on", f"after the day checked ({request.on})",
                                     request.known_on.isoformat()))
    return problems


def _foreign(request: CheckRequest, code: str) -> bool:
    """Whether ``code`` is named as a firm of another country (no USCC; matched by name)."""
    country = request.countries.get(code.strip().upper()) or request.countries.get(code)
    return country is not None and normalise_country(country) != CHINA


def validate(request: CheckRequest) -> None:
    """Refuse ``request`` with every problem (:class:`RequestError`)."""
    problems = request_problems(request)
    if problems:
        raise RequestError(problems)


_CHECK_PARAMS = set(inspect.signature(evaluate.check).parameters)


def run_check(data: CreditData, request: CheckRequest, consortium: bool | None = None
              ) -> CheckResult:
    """The engine's answer to ``request`` (validated first). ``consortium`` overrides the
    request's (``False`` answers for each member). A category or financier is passed to the
    engine when it takes them; an engine without them answers for every category and
    every list (the strictest answer)."""
    validate(request)
    together = request.consortium if consortium is None else consortium
    return engine_check(with_names(data, request), request, request.ids, together)


def engine_check(data: CreditData, request: CheckRequest, subject_ids: Sequence[str],
                 consortium: bool = False) -> CheckResult:
    """:func:`evaluate.check` of ``subject_ids`` with the day, role, category and
    financier of ``request``, as :func:`run_check` asks it (no validation, no names
    added: the API server answers every stored subject at once this way)."""
    extra: dict[str, Any] = {}
    for name in ("category", "financier"):
        value = getattr(request, name)
        if value is not None and name in _CHECK_PARAMS:
            extra[name] = value
    return evaluate.check(data, request.on, subject_ids, request.subject_type, consortium,
                          request.known_on, **extra)


def with_named_subjects(data: CreditData, asked: pl.DataFrame) -> CreditData:
    """``data`` with the names and countries a check was given (``asked``: columns
    ``subject_id, subject_name, country``), so that list entries naming those subjects
    match them."""
    named = asked.filter(pl.col("subject_name").is_not_null())
    if named.height == 0:
        return data
    extra = named.select("subject_id", pl.lit(None, pl.String).alias("subject_type"),
                         "subject_name", "country")
    subjects = extra if data.subjects is None else pl.concat([data.subjects, extra],
                                                             how="diagonal_relaxed")
    return CreditData(records=data.records, rules=data.rules, subjects=subjects,
                      lists=data.lists, manual=data.manual)


def with_names(data: CreditData, request: CheckRequest) -> CreditData:
    """``data`` with the names (and countries) the request gives for its codes: a firm
    without records is still matched by name against external lists (and named on the
    certificate)."""
    if not request.names:
        return data
    codes = list(request.names)
    asked = pl.DataFrame(
        {"subject_id": [c.strip().upper() for c in codes],
         "subject_name": [request.names[c].strip() for c in codes],
         "country": [request.countries.get(c) for c in codes]},
        schema={"subject_id": pl.String, "subject_name": pl.String, "country": pl.String})
    return with_named_subjects(data, asked)


# --------------------------------------------------------------------------------------
# The payload
# --------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _names(data: CreditData, request: CheckRequest, table: pl.DataFrame) -> dict[str, str]:
    found: dict[str, str] = {}
    if "subject_name" in table.columns:
        for sid, name in zip(table.get_column("subject_id").to_list(),
                             table.get_column("subject_name").to_list(), strict=True):
            if name:
                found[sid] = str(name)
    missing = [s for s in request.ids if s not in found]
    if missing and _named_in(data, missing):
        names = data.for_subjects(missing).names().filter(pl.col("latest"))
        for sid, name in names.select("subject_id", "subject_name").iter_rows():
            if name and sid not in found:
                found[sid] = str(name)
    for sid, name in request.names.items():
        found.setdefault(sid.strip().upper(), name)
    return found


def _named_in(data: CreditData, subject_ids: list[str]) -> bool:
    """Whether the records or registered subjects of ``data`` name any of
    ``subject_ids`` (else they have no name to look up)."""
    wanted = pl.Series(subject_ids, dtype=pl.String)
    frames = [data.records] + ([] if data.subjects is None else [data.subjects])
    return any(bool(f.get_column("subject_id").is_in(wanted.implode()).any()) for f in frames)


def record_facts(data: CreditData, grounds: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """authority, basis and stated scope of the records behind behaviour grounds (the
    record columns of contract v2, where present)."""
    wanted = {(s, r) for s, r in zip(grounds.get_column("source").to_list(),
                                     grounds.get_column("record_id").to_list(), strict=True)
              if r is not None}
    cols = [c for c in ("authority", "basis", "restrict_scope") if c in data.records.columns]
    if not wanted or not cols:
        return {}
    rows = data.records.lazy().filter(pl.col("record_id").is_in(
        pl.Series([r for _, r in wanted], dtype=pl.String).implode())).select(
        "source", "record_id", *cols).collect()
    return {(r["source"], r["record_id"]): r for r in rows.iter_rows(named=True)
            if (r["source"], r["record_id"]) in wanted}


def _scope_text(scope: Any) -> str:
    parts = [p for p in (scope if isinstance(scope, list) else str(scope or "").split("|"))
             if p]
    if not parts or set(parts) >= set(CATEGORIES):
        return "全部交易类别"
    return "、".join(tr("category", p) for p in parts)


def ground_rows(data: CreditData, result: CheckResult) -> list[dict[str, Any]]:
    """Every ground of ``result`` with behaviour, authority, document number, basis,
    period and scope (codes masked for natural persons)."""
    grounds = result.grounds
    words = GroundWords.of(data.rules)
    facts = record_facts(data, grounds)
    return [words.row(g, facts.get((str(g.get("source")), str(g.get("record_id"))), {}))
            for g in grounds.iter_rows(named=True)]


@dataclass(frozen=True)
class GroundWords:
    """What a rule set says about grounds (behaviours, grades, behaviour names in
    Chinese): made once per rule set, used for every ground (:meth:`row`)."""

    behaviours: dict[str, Any]
    grades: dict[str, Any]
    names: dict[str, str]

    @staticmethod
    def of(rules: RuleSet) -> GroundWords:
        """The words of ``rules``."""
        return GroundWords({b.code: b for b in rules.behaviour},
                           {g.name: g for g in rules.grade},
                           behaviour_names(rules.behaviour, "zh"))

    def row(self, g: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
        """One ground (the engine's row ``g``) as the certificate states it, with the
        facts of its record (``rec``: authority, basis, stated scope; empty if none)."""
        cause = g["cause"]
        beh = self.behaviours.get(g["code"]) if cause == "behaviour" else None
        basis = (g.get("basis") or rec.get("basis")
                 or (getattr(beh, "basis", None) if beh else None))
        if cause == "grade" and not basis:
            basis = getattr(self.grades.get(g["code"]), "basis", None)
        scope = g.get("scope", rec.get("restrict_scope"))
        if scope is None and beh is not None:
            scope = getattr(beh, "restrict_scope", None)
        return {
            "subject_id": mask_personal(str(g["subject_id"])),
            "cause": cause, "cause_zh": tr("cause", cause, "zh"),
            "what": mask_personal(ground_what(g, self.names, "zh")),
            "code": g["code"],
            "behaviour": (beh.name if beh is not None else None),
            "authority": rec.get("authority") or (source_words(g.get("source"), "zh")
                                                 if cause != "grade" else None),
            "document_no": g.get("document_no"),
            "basis": basis,
            "since": _text(g.get("since")),
            "until": _text(g.get("until")) or "长期",
            "scope": _scope_text(scope),
            "financier": g.get("financier"),
            "record_id": g.get("record_id"),
            "detail": mask_personal(str(g.get("detail") or "")),
        }


def _answer_row(row: dict[str, Any], names: dict[str, str], grades: dict[str, Any]
                ) -> dict[str, Any]:
    sid = str(row["subject_id"])
    watch = row.get("watch")
    if watch is None:
        watch = getattr(grades.get(row["grade"]), "watch", None)
    restricted_in = row.get("restricted_in")
    return {"subject_id": mask_personal(sid),
            "subject_name": names.get(sid) or row.get("subject_name") or "",
            "eligible": bool(row["eligible"]), "index": float(row["index"]),
            "grade": str(row["grade"]), "watch": watch or "",
            "restricted_in": restricted_in or "",
            "reasons": mask_personal(str(row.get("reasons") or ""))}


def answer_row(row: dict[str, Any], name: str | None, grades: dict[str, Any]
               ) -> dict[str, Any]:
    """One subject's row of the certificate (the engine's answer ``row``), named
    ``name`` when the answer does not name it."""
    return _answer_row(row, {} if not name else {str(row["subject_id"]): name}, grades)


def certificate_payload(data: CreditData, request: CheckRequest, members: CheckResult,
                        together: CheckResult | None, *, check_no: str, verify_code: str,
                        issued_at: dt.datetime, operator: str, channel: str,
                        facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the certificate states, as JSON-friendly data: one row per subject,
    the consortium's result (``together``) after its members, every ground, the rule set
    and the data's digests (``facts`` when ``data`` is a narrowed view of what was read).
    ``issued_at`` is UTC; the certificate shows Shanghai time."""
    grades = {g.name: g for g in data.rules.grade}
    names = _names(data, request, members.table)
    rows = [_answer_row(r, names, grades) for r in members.table.iter_rows(named=True)]
    group = None
    if together is not None and together.table.height:
        t = together.table.row(0, named=True)
        group = _answer_row(t, names, grades)
        group["subject_name"] = "联合体（" + "、".join(
            r["subject_name"] or r["subject_id"] for r in rows) + "）"
        group["subject_id"] = "+".join(r["subject_id"] for r in rows)
    return assemble_certificate(
        request, data.rules, rows, group, ground_rows(data, members), on=members.on,
        known_on=members.known_on, facts=facts if facts is not None else data_facts(data),
        check_no=check_no, verify_code=verify_code, issued_at=issued_at,
        operator=operator, channel=channel)


def assemble_certificate(request: CheckRequest, rules: RuleSet, rows: list[dict[str, Any]],
                         group: dict[str, Any] | None, grounds: list[dict[str, Any]], *,
                         on: dt.date, known_on: dt.date, facts: dict[str, Any],
                         check_no: str, verify_code: str, issued_at: dt.datetime,
                         operator: str, channel: str) -> dict[str, Any]:
    """The certificate payload from its rows (:func:`answer_row`, the consortium's row,
    :meth:`GroundWords.row`): what :func:`certificate_payload` returns, and what a server
    answering from its day's answers assembles from rows it keeps per subject."""
    local = issued_at.replace(tzinfo=dt.UTC).astimezone(SHANGHAI)
    return {
        "kind": "eligibility_certificate",
        "check_no": check_no, "verify_code": verify_code,
        "issued_at": local.isoformat(timespec="seconds"),
        "operator": operator, "channel": channel,
        "project": {"no": request.project_no, "name": request.project_name},
        "lot": {"no": request.lot_no, "name": request.lot_name},
        "category": request.category,
        "category_zh": (tr("category", request.category) if request.category
                        else "未指定（任一类别受限即不符合）"),
        "financier": request.financier,
        "subject_type": request.subject_type,
        "on": on.isoformat(), "known_on": known_on.isoformat(),
        "rule_set": {"name": rules.ruleset.name, "version": rules.ruleset.version,
                     "sha256": rules.content_hash},
        "data": facts,
        "subjects": rows,
        "consortium": group,
        "grounds": grounds,
        "eligible": bool(group["eligible"]) if group else all(r["eligible"] for r in rows),
    }


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

_CSS = """body{font-family:'WenQuanYi Zen Hei','Noto Sans CJK SC',system-ui,sans-serif;
margin:2em;color:#222}h1{text-align:center}table{border-collapse:collapse;margin:1em 0;
width:100%}td,th{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.no{color:#b00;font-weight:bold}.yes{color:#070;font-weight:bold}
.code{font-family:monospace;font-size:120%;letter-spacing:.1em}"""


def result_word(eligible: bool) -> str:
    """符合 / 不符合."""
    return "符合" if eligible else "不符合"


def fact_rows(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The certificate's heading facts, label and value (also used by the PDF)."""
    p = payload
    project = " ".join(x for x in (p["project"]["no"], p["project"]["name"]) if x) or "—"
    lot = " ".join(x for x in (p["lot"]["no"], p["lot"]["name"]) if x) or "—"
    rs = p["rule_set"]
    return [
        ("核查编号", p["check_no"]),
        ("核查时间（北京时间）", p["issued_at"].replace("T", " ")),
        ("经办人", f"{p['operator']}（{tr('channel', p['channel'], 'zh')}）"),
        ("项目编号及名称", project),
        ("标段编号及名称", lot),
        ("交易类别", p["category_zh"]),
        ("资金来源（出资机构）", p["financier"] or "未指定"),
        ("核查日", p["on"]),
        ("数据截至日（已知日）", p["known_on"]),
        ("规则集及版本", f"{rs['name']} {rs['version']}"),
        ("规则集哈希（SHA-256）", rs["sha256"]),
        ("验证码", p["verify_code"]),
    ]


SUBJECT_HEAD = ["序号", "主体名称", "统一社会信用代码/身份证号", "结论", "信用指数", "等级",
                "关注等级", "受限类别"]
GROUND_HEAD = ["主体代码", "原因", "情形", "处罚机关/来源", "文书编号", "依据", "期间",
               "范围"]


def _restricted_in(categories: str) -> str:
    """The categories an answer is restricted in, in words (— for none)."""
    return _scope_text(categories) if categories else "—"


def subject_cells(payload: dict[str, Any]) -> list[list[str]]:
    """One row per subject, then the consortium's (the certificate's main table)."""
    rows = []
    for i, r in enumerate(payload["subjects"], start=1):
        rows.append([str(i), r["subject_name"], r["subject_id"], result_word(r["eligible"]),
                     f"{r['index']:.2f}", r["grade"], r["watch"] or "—",
                     _restricted_in(r["restricted_in"])])
    group = payload.get("consortium")
    if group:
        rows.append(["联合体", group["subject_name"], group["subject_id"],
                     result_word(group["eligible"]), f"{group['index']:.2f}", group["grade"],
                     group["watch"] or "—", _restricted_in(group["restricted_in"])])
    return rows


def ground_cells(payload: dict[str, Any]) -> list[list[str]]:
    """One row per ground of an ineligible answer."""
    return [[g["subject_id"], g["cause_zh"],
             g.get("what") or g["detail"],
             g["authority"] or "—", g["document_no"] or "—", g["basis"] or "—",
             f"{g['since']} 至 {g['until']}", g["scope"]]
            for g in payload["grounds"]]


def _html_table(head: list[str], rows: list[list[str]], verdict_col: int | None = None) -> str:
    esc = html.escape
    out = ["<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            cls = ""
            if i == verdict_col:
                cls = ' class="yes"' if v == "符合" else ' class="no"'
            cells.append(f"<td{cls}>{esc(v)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def render_html(payload: dict[str, Any]) -> str:
    """The certificate as a self-contained HTML page (Chinese)."""
    esc = html.escape
    facts = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>"
                    for k, v in fact_rows(payload))
    grounds = ground_cells(payload)
    ground_html = (_html_table(GROUND_HEAD, grounds) if grounds
                   else "<p>无限制交易的情形。</p>")
    verdict = result_word(payload["eligible"])
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>资格核查证明 {esc(payload['check_no'])}</title><style>{_CSS}</style></head><body>
<h1>公共资源交易信用资格核查证明</h1>
<table>{facts}</table>
<h2>核查结论：{esc(verdict)}</h2>
{_html_table(SUBJECT_HEAD, subject_cells(payload), verdict_col=3)}
<h2>不符合的依据</h2>{ground_html}
<p>本证明依据上述规则集及数据截至日的信用记录、名单和限制措施作出（以评标时的核查结果为准，
财库〔2016〕125号）。自然人身份证号已按统一规则脱敏。核验方式：<code>creditindex verify
<span class="code">{esc(payload['verify_code'])}</span></code> 或本中心网站“证明核验”页面。</p>
</body></html>"""
