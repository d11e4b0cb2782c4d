"""Evidence of an eligibility check: a self-contained HTML report a tenderer keeps, so the
answer given at evaluation time can be shown and reproduced later (the check made at
evaluation time prevails, 财库〔2016〕125号)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import json
import platform
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from creditindex.evaluate import CheckResult, CreditData
from creditindex.i18n import DEFAULT_LANG, LANGS, t, tr
from creditindex.identifiers import mask_text, mask_value
from creditindex.output import write_text_atomic
from creditindex.rules import RuleSet
from creditindex.wording import behaviour_names, ground_text, reasons_texts, source_words

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANONYMOUS_PREFIX = "anonymous:"  # how a visitor who did not sign in is named in the store

_DIGESTS: OrderedDict[int, tuple[pl.DataFrame, str]] = OrderedDict()
_DIGEST_LOCK = threading.Lock()


def frame_digest(frame: pl.DataFrame | None, remember: bool = False,
                 key: Sequence[str] = ()) -> str:
    """A stable sha256 of a frame's content, independent of row order. With
    ``remember``, kept for the last few such frames (by identity: frames are never
    changed in place), so that a server answering many checks on the same data hashes a
    million records once. ``key``: the frame's first columns, when no two rows have the
    same values in them and none is null: the rows are put in order by those alone (the
    order, and so the digest, sorting by every column gives, without comparing the
    rest)."""
    if frame is None or frame.height == 0:
        return hashlib.sha256(b"").hexdigest()
    if not remember:
        return _digest(frame, key)
    with _DIGEST_LOCK:
        known = _DIGESTS.get(id(frame))
        if known is not None and known[0] is frame:
            return known[1]
    digest = _digest(frame)
    with _DIGEST_LOCK:
        _DIGESTS[id(frame)] = (frame, digest)
        while len(_DIGESTS) > 4:
            _DIGESTS.popitem(last=False)
    return digest


def _digest(frame: pl.DataFrame, key: Sequence[str] = ()) -> str:
    assert list(key) == frame.columns[:len(key)]
    ordered = frame.sort(list(key) or frame.columns, nulls_last=True)
    return hashlib.sha256(ordered.write_csv().encode("utf-8")).hexdigest()


def data_facts(data: CreditData) -> dict[str, Any]:
    """What a check read: numbers of records and list entries and their sha256."""
    return {
        "records": data.records.height,
        "records_sha256": frame_digest(data.records, remember=True),
        "list_entries": 0 if data.lists is None else data.lists.height,
        "lists_sha256": frame_digest(data.lists, remember=True),
        "manual_restrictions": 0 if data.manual is None else data.manual.height,
    }


def mask_personal(text: str) -> str:
    """Every resident ID number inside ``text`` masked (:func:`identifiers.mask_text`)."""
    return mask_text(text)


def _masked(value: Any) -> Any:
    return mask_value(value)


_DEDUCTION_CODE = re.compile(r"(?:^|; )(\S+) -[\d.]+")


def row_codes(answer: dict[str, Any], grounds: Iterable[dict[str, Any]]) -> set[str]:
    """Behaviour codes one subject's answer names: deductions in its reasons, its
    behaviour grounds (the engine's rows)."""
    codes = {str(g["code"]) for g in grounds if g["cause"] == "behaviour"}
    codes.update(_DEDUCTION_CODE.findall(
        str(answer.get("reasons") or "").split(" | restricted: ")[0]))
    return codes


def _named_codes(result: CheckResult) -> set[str]:
    """Behaviour codes the answer names: deductions in its reasons, behaviour grounds."""
    grounds = result.grounds
    codes = {str(c) for c, cause in zip(grounds.get_column("code").to_list(),
                                        grounds.get_column("cause").to_list(), strict=True)
             if cause == "behaviour"}
    for reasons in result.table.get_column("reasons").to_list():
        codes.update(_DEDUCTION_CODE.findall(str(reasons or "").split(" | restricted: ")[0]))
    return codes


def answer_item(row: dict[str, Any]) -> dict[str, Any]:
    """One row of the engine's answer as the evidence payload states it (masked)."""
    return {k: _masked(v) for k, v in row.items()}


def ground_item(row: dict[str, Any]) -> dict[str, Any]:
    """One ground of the engine's answer as the evidence payload states it: every column
    but the engine's wording (``text``), dates as ISO text, masked."""
    return {k: _masked(v.isoformat() if isinstance(v, dt.date) else v)
            for k, v in row.items() if k != "text"}


def made_now(made_at: dt.datetime | None = None) -> dt.datetime:
    """When an evidence payload is made (now, UTC, unless given)."""
    return made_at or dt.datetime.now(dt.UTC)


def assemble_evidence(on: dt.date, known_on: dt.date, made: dt.datetime,
                      inputs: dict[str, Any], rules: RuleSet, facts: dict[str, Any],
                      answers: list[dict[str, Any]], grounds: list[dict[str, Any]],
                      named: set[str]) -> dict[str, Any]:
    """The evidence payload from its parts: :func:`answer_item` and :func:`ground_item`
    rows, the behaviour codes they name (:func:`row_codes`) and the facts of the data
    read (:func:`data_facts`). What :func:`evidence_payload` returns, and what a server
    answering from its day's answers assembles from rows it keeps per subject."""
    return {
        "check": {"on": on.isoformat(), "known_on": known_on.isoformat(),
                  "made_at": made.isoformat(timespec="seconds")},
        "inputs": mask_value(inputs),
        "rule_set": {"name": rules.ruleset.name, "version": rules.ruleset.version,
                     "sha256": rules.content_hash},
        "data": facts,
        "answers": answers,
        "grounds": grounds,
        "behaviour_names": {lang: _mentioned_names(rules, named, lang) for lang in LANGS},
        "software": _software(),
    }


def _mentioned_names(rules: RuleSet, named: set[str], lang: str) -> dict[str, str]:
    """The names in ``lang`` of the behaviours named, in the rule set's order."""
    if not named:
        return {}
    return behaviour_names([b for b in rules.behaviour if b.code in named], lang)


def evidence_payload(result: CheckResult, data: CreditData, inputs: dict[str, Any],
                     made_at: dt.datetime | None = None,
                     facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report states, as plain data (also embedded in the report as JSON).
    ``facts`` (:func:`data_facts`) describe the data read when ``data`` is a narrowed
    view of it. The names of the behaviours it mentions are kept in each language, so the
    report is worded from the payload alone."""
    made = made_now(made_at)
    return assemble_evidence(
        result.on, result.known_on, made, inputs, data.rules,
        facts if facts is not None else data_facts(data),
        [answer_item(row) for row in result.table.iter_rows(named=True)],
        [ground_item(row) for row in result.grounds.iter_rows(named=True)],
        _named_codes(result))


@functools.cache
def _software_versions() -> tuple[tuple[str, str], ...]:
    # The installed package's metadata is parsed once per process (a server's every
    # check would otherwise read it again).
    return (("creditindex", version("creditindex")), ("python", platform.python_version()),
            ("polars", pl.__version__))


def _software() -> dict[str, str]:
    return dict(_software_versions())


_CSS = """body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f2f2f2}.no{color:#b00;font-weight:bold}
.yes{color:#070;font-weight:bold}code{font-size:90%}.nw{white-space:nowrap}"""


def _html_table(head: list[str], rows: list[list[tuple[str, str]]],
                wide: frozenset[int] = frozenset()) -> str:
    """A table of (css class, text) cells under ``head``; only the columns ``wide``
    (names, sentences) wrap, the others (codes, dates, words) keep to one line."""
    esc = html.escape

    def cell(i: int, cls: str, v: str) -> str:
        classes = " ".join(c for c in (cls, "" if i in wide else "nw") if c)
        return f'<td class="{classes}">{esc(v)}</td>'

    top = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(cell(i, cls, v) for i, (cls, v) in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><tr>{top}</tr>{body}</table>"


def embedded_json(payload: dict[str, Any]) -> str:
    """``payload`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>``
    and ``&`` escaped as ``\\u003c``, ``\\u003e``, ``\\u0026`` (so ``</script>`` or
    ``<!--<script>`` in any value cannot end or change the script element); still valid
    JSON that decodes to the same values."""
    text = json.dumps(payload, ensure_ascii=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _input_value(key: str, value: Any, lang: str) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    if isinstance(value, list):
        return t("sep.list", lang).join(str(v) for v in value)
    if key in ("type", "subject_type"):
        return tr("type", value, lang)
    if key == "category":
        return tr("category", value, lang)
    if key == "checked_by" and str(value).startswith(ANONYMOUS_PREFIX):
        return t("evidence.anonymous", lang, session=str(value)[len(ANONYMOUS_PREFIX):])
    return str(value)


def _made_at(text: str) -> str:
    """The report's UTC time of making as Beijing time."""
    made = dt.datetime.fromisoformat(text)
    if made.tzinfo is None:
        made = made.replace(tzinfo=dt.UTC)
    return made.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _answer_rows(payload: dict[str, Any], names: dict[str, str], lang: str
                 ) -> list[list[tuple[str, str]]]:
    answers = payload["answers"]
    if not answers:
        return []
    words = reasons_texts([str(a["subject_id"]) for a in answers],
                          [str(a.get("reasons") or "") for a in answers], payload["grounds"],
                          names, lang)
    rows = []
    for a, why in zip(answers, words, strict=True):
        ok = bool(a["eligible"])
        rows.append([("", str(a["subject_id"])), ("", str(a.get("subject_name") or "")),
                     ("yes" if ok else "no", t("evidence.eligible" if ok
                                               else "evidence.ineligible", lang)),
                     ("", f"{float(a['index']):.2f}"), ("", str(a["grade"])), ("", why)])
    return rows


def _ground_rows(payload: dict[str, Any], names: dict[str, str], lang: str
                 ) -> list[list[tuple[str, str]]]:
    return [[("", str(g["subject_id"])), ("", tr("cause", g.get("cause"), lang)),
             ("", ground_text(g, names, lang)), ("", str(g.get("basis") or "—")),
             ("", source_words(g.get("source"), lang) or "—"), ("", str(g.get("since") or "")),
             ("", str(g.get("until") or t("reason.indefinite", lang)))]
            for g in payload["grounds"]]


def render_evidence(payload: dict[str, Any], lang: str = DEFAULT_LANG) -> str:
    """The HTML report for an evidence payload, worded in ``lang`` through the catalogue
    (the payload itself is embedded unchanged, as JSON)."""
    c, rs, d = payload["check"], payload["rule_set"], payload["data"]
    esc = html.escape
    names = dict(payload.get("behaviour_names", {}).get(lang, {}))
    facts = [
        ("evidence.on", c["on"]), ("evidence.known_on", c["known_on"]),
        ("evidence.made_at", _made_at(c["made_at"])),
        ("evidence.rule_set", f"{rs['name']} {rs['version']}"),
        ("evidence.rule_set_sha", rs["sha256"]),
        ("evidence.records", d["records"]), ("evidence.records_sha", d["records_sha256"]),
        ("evidence.list_entries", d["list_entries"]), ("evidence.lists_sha", d["lists_sha256"]),
        ("evidence.manual", d["manual_restrictions"]),
    ]
    fact_rows = "".join(f"<tr><th>{esc(t(k, lang))}</th><td><code>{esc(str(v))}</code></td>"
                        "</tr>" for k, v in facts)
    input_rows = "".join(
        f"<tr><th>{esc(tr('evidence.input', k, lang))}</th>"
        f"<td><code>{esc(_input_value(k, v, lang))}</code></td></tr>"
        for k, v in payload["inputs"].items())
    answer_head = [t(k, lang) for k in ("col.subject_id", "col.subject_name",
                                        "col.eligible", "col.index", "col.grade",
                                        "col.reasons")]
    ground_head = [t(k, lang) for k in ("col.subject_id", "col.cause", "col.detail",
                                        "col.basis", "col.source", "col.since", "col.until")]
    grounds = (_html_table(ground_head, _ground_rows(payload, names, lang),
                           wide=frozenset({2, 3, 4}))
               if payload["grounds"] else f"<p>{esc(t('evidence.no_grounds', lang))}</p>")
    command = (f"creditindex check --on {c['on']} --known-on {c['known_on']}")
    software = t("sep.list", lang).join(f"{k} {v}" for k, v in payload["software"].items())
    html_lang = "zh-CN" if lang == "zh" else "en"
    return f"""<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">
<title>{esc(t("evidence.title", lang))} {esc(c['on'])}</title><style>{_CSS}</style></head>
<body><h1>{esc(t("evidence.title", lang))}</h1>
<table>{fact_rows}</table>
<h2>{esc(t("evidence.answer", lang))}</h2>{_html_table(
    answer_head, _answer_rows(payload, names, lang), wide=frozenset({1, 5}))}
<h2>{esc(t("evidence.grounds", lang))}</h2>{grounds}
<h2>{esc(t("evidence.inputs", lang))}</h2><table>{input_rows}</table>
<p>{esc(t("evidence.reproduce", lang))} <code>{esc(command)}</code></p>
<p>{esc(t("evidence.software", lang))} <code>{esc(software)}</code></p>
<script type="application/json" id="evidence">{embedded_json(payload)}</script>
</body></html>"""


def write_evidence(result: CheckResult, data: CreditData, path: Path,
                   inputs: dict[str, Any] | None = None,
                   made_at: dt.datetime | None = None,
                   lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Write the evidence report for ``result`` to ``path`` (atomically), worded in
    ``lang``; return its payload."""
    payload = evidence_payload(result, data, inputs or {}, made_at)
    write_text_atomic(path, render_evidence(payload, lang))
    return payload
