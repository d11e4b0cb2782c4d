"""Inputs an adversary sends, shared by the adversarial tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
from click.testing import CliRunner, Result

from creditindex.cli import main
from creditindex.records import records_frame
from tests.helpers import rid, row, uscc

FIRM, RESTRICTED, EXPERT = uscc(1), uscc(2), rid(5)


def run(*args: str) -> Result:
    """The command line, as a user runs it (exceptions are not caught for us)."""
    return CliRunner().invoke(main, list(args))


def records_file(path: Path) -> Path:
    """A small records file: a restricted firm, a clean firm, an expert."""
    records_frame([
        row(FIRM, "bidder", "BID-WITHDRAW", "2025-06-01"),
        row(RESTRICTED, "bidder", "BID-COLLUSION", "2026-02-01",
            document_no="<!--<script>alert(1)</script>"),
        row(EXPERT, "expert", "LATE", "2026-01-05"),
    ]).write_csv(path)
    return path


def bomb_xlsx(path: Path, far: str = "XFD1048576") -> Path:
    """A tiny workbook whose used range is huge: cells at A1 and ``far``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "subject_id"
    ws[far] = "x"
    wb.save(path)
    return path


def embedded(html: str) -> dict[str, object]:
    """The JSON payload embedded in an evidence report."""
    found = re.search(r'<script type="application/json" id="evidence">(.*?)</script>',
                      html, re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


def no_traceback(result: Result) -> None:
    """Refused as bad input: exit 2, a message, no Python traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
