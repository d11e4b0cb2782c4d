"""Checks stored and certified through the command line (the one way every face uses):
certificate files read back, verification, refusals storing nothing, credit points
frozen once, credit reports, and the new tables being append-only."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from creditindex.store.db import get_engine, table
from tests.store.storetest import F, G, S, V, run


def pdf_text(path: Path) -> str:
    return "".join("".join(p.extract_text().split()) for p in PdfReader(path).pages)


def count(url: str, name: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def test_check_certify_verify_and_refuse(db: list[str], tmp_path: Path) -> None:
    url = db[1]
    cert = tmp_path / "cert.pdf"
    done = run("check", *db, "--on", "2026-06-01", "--subjects", f"{V},{G}", "--consortium",
               "--project-no", "GZ-9", "--project-name", "体育馆", "--lot-no", "3",
               "--user", "alice", "--certificate", str(cert))
    found = re.search(r"number (HC\d+), verification code ([0-9A-Z-]{19})", done.stderr)
    assert found, done.stderr
    number, code = found.groups()
    text = pdf_text(cert)
    for needed in ("资格核查证明", number, code, "GZ-9体育馆", "alice", "联合体（", "不符合"):
        assert needed in text, needed
    html = tmp_path / "again.html"
    run("certificate", number, *db, "--out", str(html))
    assert code in html.read_text(encoding="utf-8")
    said = run("verify", code.replace("-", " ").lower(), *db).stdout
    assert number in said and "真实有效" in said
    assert run("verify", "ZZZZ-ZZZZ-ZZZZ-ZZZZ", *db, code=1).stdout.startswith("验证码")
    stored = count(url, "eligibility_check")
    bad = run("check", *db, "--on", "2026-06-01", "--subjects", f"{V},{G[:-1]}0", code=2)
    assert f"{G[:-1]}0" in bad.stderr and "check character" in bad.stderr
    assert count(url, "eligibility_check") == stored
    with pytest.raises(DBAPIError, match="append-only"), get_engine(url).begin() as conn:
        conn.exec_driver_sql("UPDATE check_certificate SET operator = 'mallory'")


def test_points_are_frozen_once_and_exported(db: list[str], tmp_path: Path) -> None:
    formula = tmp_path / "formula.toml"
    formula.write_text('name = "综合信用得分"\nbasis = "穗财采〔2026〕1号"\n'
                       'method = "grade_table"\ngrade_points = { A = 5, B = 3, C = 1, D = 0 }\n',
                       encoding="utf-8")
    run("points", "formula", *db, "--tender", "T-1", "--file", str(formula))
    local = tmp_path / "local.toml"
    local.write_text(formula.read_text(encoding="utf-8") + "local_bonus = 1\n",
                     encoding="utf-8")
    refused = run("points", "formula", *db, "--tender", "T-1", "--file", str(local), code=2)
    assert "860号" in refused.stderr
    out = tmp_path / "points.csv"
    run("points", "freeze", *db, "--tender", "T-1", "--bidders", f"{V},{F},{S}",
        "--deadline", "2026-06-01 09:30", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    points = {r["统一社会信用代码"]: float(r["信用分"]) for r in rows}
    assert points[V] == 5.0 and points[F] == 0.0  # F is restricted on the deadline (grade D)
    again = run("points", "freeze", *db, "--tender", "T-1", "--bidders", V, "--deadline",
                "2026-06-02 09:30", code=1)
    assert "already frozen" in again.stderr
    assert run("points", "formula", *db, "--tender", "T-1", "--file", str(formula),
               code=1).stderr.count("frozen") == 1
    shown = tmp_path / "shown.xlsx"
    run("points", "show", *db, "--tender", "T-1", "--out", str(shown))
    assert shown.stat().st_size > 0


def test_the_credit_report_command(db: list[str], tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    run("report", *db, "--subject", G, "--on", "2026-06-01", "--out", str(out))
    text = pdf_text(out)
    assert "信用报告" in text and "乙交通工程有限公司" in text and "公开版" in text
    bad = run("report", *db, "--subject", "X", "--on", "2026-06-01", "--out", str(out), code=2)
    assert "--subject" in bad.stderr


def test_api_key_commands_refuse_bad_input(db: list[str]) -> None:
    bad = run("apikeys", "add", *db, "--client", "x", "--scope", "root", code=1)
    assert "unknown scope" in bad.stderr
    assert "no API key" in run("apikeys", "revoke", "nosuch", *db, code=1).stderr
