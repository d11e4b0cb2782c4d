"""The engine's reasons, grounds and bad-input messages in words, in a chosen language.

The engine answers with structured grounds (cause, code, dates, document, scope,
financier) and a compact reasons text (``CODE -points; ...`` for deductions). No face
shows that English text: the app, the evidence report, the certificate and the credit
report build each sentence from the structure through the one catalogue
(:mod:`creditindex.i18n`; behaviour names from the rule set, category names, dates).
Faces-neutral: the language is an argument (the app passes the session's)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from creditindex.errors import Reason
from creditindex.i18n import DEFAULT_LANG, t, tr
from creditindex.identifiers import public_id

_SUSPENSION = re.compile(r"([\d.]+) points in (\d+) days \(thresholds ([\d.]+) single / "
                         r"([\d.]+) total\)")
_LIST = re.compile(r"(.+) matched by (\w+): (.*)")
_DEDUCTION = re.compile(r"^(\S+) -([\d.]+)$")


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value or "")


def scope_words(scope: str | None, lang: str) -> str:
    """``engineering|procurement`` as ``工程建设、政府采购`` (empty: every category)."""
    parts = [p for p in str(scope or "").split("|") if p]
    if not parts:
        return ""
    return t("sep.list", lang).join(tr("category", p, lang) for p in parts)


def ground_what(row: Mapping[str, Any], names: Mapping[str, str],
                lang: str = DEFAULT_LANG) -> str:
    """What restricts, by cause: the behaviour's name, the grade, the suspension's count,
    the list, the staff's reason (without document, period or scope)."""
    cause, code = str(row.get("cause") or ""), str(row.get("code") or "")
    detail = str(row.get("detail") or "")
    if cause == "behaviour":
        return t("reason.behaviour", lang, name=names.get(code, code), code=code,
                 since=_date(row.get("since")))
    if cause == "grade":
        return t("reason.grade", lang, grade=code)
    if cause == "suspension":
        m = _SUSPENSION.match(detail)
        return (t("reason.suspension", lang, points=m.group(1), days=m.group(2),
                  single=m.group(3), total=m.group(4)) if m
                else t("reason.suspension_short", lang))
    if cause == "list":
        m = _LIST.match(detail)
        if m is None:
            return t("reason.list_only", lang, list=code)
        how = tr("reason.match", m.group(2), lang)
        if not m.group(3):
            return t("reason.list_how", lang, list=m.group(1), how=how)
        return t("reason.list", lang, list=m.group(1), how=how, name=m.group(3))
    if cause == "manual":
        return t("reason.manual", lang, reason=detail)
    return detail


def source_words(source: object, lang: str = DEFAULT_LANG) -> str:
    """Who decided a ground: the authority or list as the data names it, the staff's own
    entries in words (empty when nobody is named)."""
    return "" if source is None else tr("source", source, lang)


def ground_text(row: Mapping[str, Any], names: Mapping[str, str],
                lang: str = DEFAULT_LANG) -> str:
    """One restriction ground as a sentence: what, document, until when, scope, financier."""
    what = ground_what(row, names, lang)
    parts = [what]
    if row.get("document_no"):
        parts.append(t("reason.document", lang, doc=row["document_no"]))
    until = row.get("until")
    parts.append(t("reason.until", lang, day=_date(until)) if until
                 else t("reason.indefinite", lang))
    scope = scope_words(row.get("scope"), lang)
    if scope and len(str(row.get("scope") or "").split("|")) < 5:
        parts.append(t("reason.scope", lang, scope=scope))
    if row.get("financier"):
        parts.append(t("reason.financier", lang, who=row["financier"]))
    return t("sep.clause", lang).join(parts)


def deductions_text(reasons: str, names: Mapping[str, str], lang: str = DEFAULT_LANG) -> str:
    """The deduction part of the engine's reasons (``CODE -points; ...``) in words."""
    head = reasons.split(" | restricted: ")[0]
    if head.startswith("restricted: "):
        return ""
    out = []
    for item in (p.strip() for p in head.split(";")):
        m = _DEDUCTION.match(item)
        if m:
            out.append(t("reason.deduction", lang, name=names.get(m.group(1), m.group(1)),
                         points=m.group(2)))
    return t("sep.items", lang).join(out)


def grounds_frame(grounds: pl.DataFrame, names: Mapping[str, str],
                  lang: str = DEFAULT_LANG) -> pl.DataFrame:
    """Grounds with ``detail`` replaced by the sentence of :func:`ground_text` and
    ``source`` by :func:`source_words` (a staff entry's placeholder code left empty)."""
    if grounds.height == 0:
        return grounds
    rows = list(grounds.iter_rows(named=True))
    texts = [ground_text(r, names, lang) for r in rows]
    sources = [source_words(r.get("source"), lang) or None for r in rows]
    codes = [None if r.get("cause") == "manual" else r.get("code") for r in rows]
    return grounds.with_columns(pl.Series("detail", texts, pl.String),
                                pl.Series("source", sources, pl.String),
                                pl.Series("code", codes, pl.String))


def reasons_column(rows: pl.DataFrame, grounds: pl.DataFrame, names: Mapping[str, str],
                   lang: str = DEFAULT_LANG) -> pl.Series:
    """The ``reasons`` of ranking or check rows in words: deductions, then every
    restriction ground of that subject (``grounds`` from ``evaluate.check``)."""
    return pl.Series("reasons", reasons_texts(
        rows.get_column("subject_id").to_list(), rows.get_column("reasons").to_list(),
        grounds.iter_rows(named=True), names, lang), pl.String)


def reasons_texts(subject_ids: Sequence[Any], reasons: Sequence[Any],
                  grounds: Iterable[Mapping[str, Any]], names: Mapping[str, str],
                  lang: str = DEFAULT_LANG) -> list[str]:
    """:func:`reasons_column` of plain values: each row's subject and engine reasons,
    and the grounds as mappings."""
    by_subject: dict[str, list[str]] = {}
    for r in grounds:
        by_subject.setdefault(str(r["subject_id"]), []).append(ground_text(r, names, lang))
    out = []
    sep = t("sep.items", lang)
    for sid, text in zip(subject_ids, reasons, strict=True):
        parts = [deductions_text(str(text or ""), names, lang)]
        members = str(sid).split("+")
        if len(members) == 1 and by_subject.get(str(sid)):
            parts.append(t("reason.restricted", lang, grounds=sep.join(by_subject[str(sid)])))
        elif len(members) > 1:  # a consortium: each member's grounds, named
            for member in members:
                if by_subject.get(member):
                    parts.append(t("reason.member", lang, member=public_id(member),
                                   grounds=sep.join(by_subject[member])))
        out.append(sep.join(p for p in parts if p))
    return out


def problem_text(reason: str, lang: str = DEFAULT_LANG) -> str:
    """A bad-input message in ``lang``: a :class:`~creditindex.errors.Reason` through its
    catalogue key and values (a bound's ``actual`` value added as "got"); any other
    reason stays as written."""
    if not isinstance(reason, Reason):
        return reason
    values = {k: v for k, v in reason.params.items() if k != "actual"}
    text = t(reason.code, lang, **values)
    if "actual" in reason.params:
        text += t("problem.got", lang, got=reason.params["actual"])
    return text


def behaviour_names(behaviours: Iterable[Any], lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Behaviour codes with their names in ``lang`` (a rule set's ``behaviour`` entries;
    the code where the rule set has no English name)."""
    if lang == "en":
        return {b.code: b.name_en or b.code for b in behaviours}
    return {b.code: b.name for b in behaviours}
