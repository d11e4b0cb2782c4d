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
import threading
from collections import OrderedDict
from importlib.metadata import version
from pathlib import Path
from typing import Any

import polars as pl

from creditindex.evaluate import CheckResult, CreditData
from creditindex.identifiers import mask_text, mask_value
from creditindex.output import write_text_atomic

_DIGESTS: OrderedDict[int, tuple[pl.DataFrame, str]] = OrderedDict()
_DIGEST_LOCK = threading.Lock()


def frame_digest(frame: pl.DataFrame | None, remember: bool = False) -> str:
    """A stable sha256 of a frame's content, independent of row order. With
    ``remember``, kept for the last few such frames (by identity: frames are never
    changed in place), so that a server answering many checks on the same data hashes a
    million records once."""
    if frame is None or frame.height == 0:
        return hashlib.sha256(b"").hexdigest()
    if not remember:
        return _digest(frame)
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


def _digest(frame: pl.DataFrame) -> str:
    ordered = frame.sort(frame.columns, nulls_last=True)
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


def evidence_payload(result: CheckResult, data: CreditData, inputs: dict[str, Any],
                     made_at: dt.datetime | None = None,
                     facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report states, as plain data (also embedded in the report as JSON).
    ``facts`` (:func:`data_facts`) describe the data read when ``data`` is a narrowed
    view of it."""
    made = made_at or dt.datetime.now(dt.UTC)
    answers = [{k: _masked(v) for k, v in row.items()}
               for row in result.table.iter_rows(named=True)]
    grounds = [
        {k: _masked(v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}
        for row in result.grounds.drop("text").iter_rows(named=True)
    ]
    return {
        "check": {"on": result.on.isoformat(), "known_on": result.known_on.isoformat(),
                  "made_at": made.isoformat(timespec="seconds")},
        "inputs": mask_value(inputs),
        "rule_set": {"name": data.rules.ruleset.name, "version": data.rules.ruleset.version,
                     "sha256": data.rules.content_hash},
        "data": facts if facts is not None else data_facts(data),
        "answers": answers,
        "grounds": grounds,
        "software": _software(),
    }


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
text-align:left}th{background:#f2f2f2}.no{color:#b00;font-weight:bold}.yes{color:#070;
font-weight:bold}code{font-size:90%}"""


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            if c == "eligible":
                cls, word = ("yes", "是 eligible") if v else ("no", "否 ineligible")
                cells.append(f'<td class="{cls}">{word}</td>')
            else:
                cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def embedded_json(payload: dict[str, Any]) -> str:
    """``payload`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>``
    and ``&`` escaped as ``\\u003c``, ``\\u003e``, ``\\u0026`` (so ``</script>`` or
    ``<!--<script>`` in any value cannot end or change the script element); still valid
    JSON that decodes to the same values."""
    text = json.dumps(payload, ensure_ascii=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render_evidence(payload: dict[str, Any]) -> str:
    """The HTML report for an evidence payload."""
    c, rs, d = payload["check"], payload["rule_set"], payload["data"]
    esc = html.escape
    facts = [
        ("检查日 Day checked", c["on"]), ("数据截至 Known on", c["known_on"]),
        ("生成时间 Made at (UTC)", c["made_at"]),
        ("规则集 Rule set", f"{rs['name']} {rs['version']}"),
        ("规则集哈希 Rule-set sha256", rs["sha256"]),
        ("记录数 Records read", d["records"]), ("记录哈希 Records sha256", d["records_sha256"]),
        ("名单条目 List entries", d["list_entries"]), ("名单哈希 Lists sha256", d["lists_sha256"]),
        ("人工限制 Manual restrictions", d["manual_restrictions"]),
    ]
    fact_rows = "".join(f"<tr><th>{esc(k)}</th><td><code>{esc(str(v))}</code></td></tr>"
                        for k, v in facts)
    inputs = esc(json.dumps(payload["inputs"], ensure_ascii=False, indent=1))
    embedded = embedded_json(payload)
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>信用核查证据 Eligibility evidence {esc(c['on'])}</title><style>{_CSS}</style></head>
<body><h1>公共资源交易信用核查证据<br><small>Eligibility check evidence</small></h1>
<table>{fact_rows}</table>
<h2>结论 Answer</h2>{_table(payload['answers'], ['subject_id', 'eligible', 'index', 'grade',
                                                 'reasons'])}
<h2>依据 Grounds</h2>{_table(payload['grounds'], ['subject_id', 'cause', 'code', 'source',
                                                   'document_no', 'since', 'until', 'detail'])}
<h2>输入 Inputs</h2><pre>{inputs}</pre>
<p>To reproduce: run <code>creditindex check --on {esc(c['on'])} --known-on
{esc(c['known_on'])}</code> on data whose sha256 digests equal those above, with the rule
set of the sha256 above. 软件版本 Software: {esc(json.dumps(payload['software']))}</p>
<script type="application/json" id="evidence">{embedded}</script>
</body></html>"""


def write_evidence(result: CheckResult, data: CreditData, path: Path,
                   inputs: dict[str, Any] | None = None,
                   made_at: dt.datetime | None = None) -> dict[str, Any]:
    """Write the evidence report for ``result`` to ``path`` (atomically); return its payload."""
    payload = evidence_payload(result, data, inputs or {}, made_at)
    write_text_atomic(path, render_evidence(payload))
    return payload
