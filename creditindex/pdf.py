"""PDF documents in Chinese (reportlab): the check certificate and the subject credit
report. Text is embedded with Debian's WenQuanYi Zen Hei font (``fonts-wqy-zenhei``,
installed by ``scripts/setup.sh``; ``CREDITINDEX_CJK_FONT`` names another TrueType
font), so a PDF reads and copies as text on any machine."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from creditindex import certificate as cert

FONT = "CreditIndexCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
)
_font_lock = threading.Lock()
_registered = False


class FontMissing(RuntimeError):
    """No CJK font to embed: PDFs in Chinese cannot be made."""


def font_path() -> Path:
    """The CJK font file: ``CREDITINDEX_CJK_FONT`` or WenQuanYi Zen Hei."""
    named = os.environ.get("CREDITINDEX_CJK_FONT", "").strip()
    for candidate in ([named] if named else []) + list(FONT_CANDIDATES):
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("no CJK font for PDFs: install Debian's fonts-wqy-zenhei "
                      "(bash scripts/setup.sh does) or set CREDITINDEX_CJK_FONT to a .ttf/.ttc")


def register_font() -> str:
    """Register the CJK font with reportlab once per process; returns its name."""
    global _registered
    with _font_lock:
        if not _registered:
            path = font_path()
            kwargs: dict[str, Any] = {"subfontIndex": 0} if path.suffix == ".ttc" else {}
            pdfmetrics.registerFont(TTFont(FONT, str(path), **kwargs))
            _registered = True
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = register_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22,
                                alignment=TA_CENTER, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11, leading=15, spaceBefore=8,
                             spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
    }


def _esc(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(head: Sequence[str] | None, rows: Sequence[Sequence[str]], widths: Sequence[float],
           style: ParagraphStyle, verdict_col: int | None = None) -> Table:
    data = []
    if head:
        data.append([Paragraph(_esc(h), style) for h in head])
    for row in rows:
        data.append([Paragraph(_esc(str(v)), style) for v in row])
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1 if head else 0)
    commands: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if head:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f4f4f4")))
    if verdict_col is not None:
        for i, row in enumerate(rows, start=1 if head else 0):
            if row[verdict_col] == "不符合":
                commands.append(("TEXTCOLOR", (verdict_col, i), (verdict_col, i), colors.red))
    table.setStyle(TableStyle(commands))
    return table


def _build(story: list[Any], title: str) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=title,
                            author="creditindex")
    doc.build(story)
    return buf.getvalue()


def certificate_pdf(payload: dict[str, Any]) -> bytes:
    """The check certificate (资格核查证明) of a payload as PDF bytes."""
    s = _styles()
    facts = cert.fact_rows(payload)
    story: list[Any] = [
        Paragraph("公共资源交易信用资格核查证明", s["title"]),
        _table(None, facts, (45, 135), s["base"]),
        Paragraph(f"核查结论：{cert.result_word(payload['eligible'])}", s["h2"]),
        _table(cert.SUBJECT_HEAD, cert.subject_cells(payload),
               (12, 40, 38, 14, 16, 12, 20, 28), s["small"], verdict_col=3),
        Paragraph("不符合的依据", s["h2"]),
    ]
    grounds = cert.ground_cells(payload)
    if grounds:
        story.append(_table(cert.GROUND_HEAD, grounds, (30, 16, 26, 24, 24, 24, 22, 14),
                            s["small"]))
    else:
        story.append(Paragraph("无限制交易的情形。", s["base"]))
    story += [
        Spacer(1, 4 * mm),
        Paragraph("本证明依据上述规则集及数据截至日的信用记录、名单和限制措施作出（以评标时的核查"
                  "结果为准，财库〔2016〕125号）。自然人身份证号已按统一规则脱敏。", s["small"]),
        Paragraph(f"验证码 {payload['verify_code']}：可用 creditindex verify 命令或本中心网站"
                  "“证明核验”页面核验本证明。", s["small"]),
    ]
    return _build(story, f"资格核查证明 {payload['check_no']}")


def report_pdf(payload: dict[str, Any]) -> bytes:
    """The subject credit report (信用报告) of a payload (:mod:`creditindex.report`)."""
    from creditindex import report

    s = _styles()
    story: list[Any] = [Paragraph("公共资源交易主体信用报告", s["title"]),
                        _table(None, report.fact_rows(payload), (45, 135), s["base"])]
    for role in payload["roles"]:
        story += [
            Paragraph(f"{role['role_zh']}：信用指数 {role['index']:.2f}，等级 {role['grade']}"
                      f"{('，' + role['watch']) if role['watch'] else ''}", s["h2"]),
            Paragraph(f"计算：{role['arithmetic']}", s["base"]),
        ]
        rows = report.deduction_cells(role)
        if rows:
            story.append(_table(report.DEDUCTION_HEAD, rows, (28, 40, 14, 24, 24, 24, 26),
                                s["small"]))
    story.append(Paragraph("限制交易措施", s["h2"]))
    grounds = report.restriction_cells(payload)
    if grounds:
        story.append(_table(report.RESTRICTION_HEAD, grounds, (18, 34, 30, 34, 36, 28),
                            s["small"]))
    else:
        story.append(Paragraph("报告日无限制交易措施。", s["base"]))
    story.append(Paragraph(report.records_title(payload), s["h2"]))
    records = report.record_cells(payload)
    if records:
        story.append(_table(report.record_head(payload), records,
                            report.record_widths(payload), s["small"]))
    else:
        story.append(Paragraph("无。", s["base"]))
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph(report.FOOTNOTE if payload["audience"] == "public"
                           else report.FOOTNOTE_STAFF, s["small"]))
    return _build(story, f"信用报告 {payload['subject_id']} {payload['on']}")
