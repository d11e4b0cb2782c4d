"""What the outputs show: formulas neutralised in CSV like XLSX, resident IDs masked by one
rule in the CLI table, spreadsheets, evidence and the app, no password of a database URL
anywhere, embedded JSON that no document number can break, and a refused check that
leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.engine import make_url

from creditindex.evidence import mask_personal
from creditindex.identifiers import mask_text, mask_text_expr, public_id, rid_check_char
from creditindex.output import write_frame
from creditindex.store.checks import get_check
from creditindex.ui import tables
from tests.adversarial.cases import (
    EXPERT,
    FIRM,
    RESTRICTED,
    embedded,
    no_traceback,
    records_file,
    run,
)

FORMULAS = ["=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)",
            "\t=1", "\r=1", "  =1"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_cells_are_neutralised_in_csv_as_in_xlsx(tmp_path: Path, suffix: str) -> None:
    frame = pl.DataFrame({"subject_name": FORMULAS, "n": list(range(len(FORMULAS)))})
    path = write_frame(frame, tmp_path / f"out{suffix}")
    back = (pl.read_csv(path, infer_schema=False) if suffix == ".csv"
            else pl.read_excel(path, infer_schema_length=0))
    assert back.get_column("subject_name").to_list() == ["'" + f for f in FORMULAS]


def test_a_lazy_frame_streamed_to_csv_is_written_as_the_frame(tmp_path: Path) -> None:
    frame = pl.DataFrame({"subject_name": [*FORMULAS, "plain", None, "a=b"],
                          "n": list(range(len(FORMULAS) + 3)),
                          "x": [0.1 * i for i in range(len(FORMULAS) + 3)],
                          "flag": [i % 2 == 0 for i in range(len(FORMULAS) + 3)]})
    eager = write_frame(frame, tmp_path / "eager.csv")
    lazy = write_frame(frame.lazy().with_columns(pl.col("n") * 2), tmp_path / "lazy.csv")
    assert lazy.read_bytes() == write_frame(frame.with_columns(pl.col("n") * 2),
                                            tmp_path / "eager2.csv").read_bytes()
    assert "'=cmd" in eager.read_text(encoding="utf-8")
    # other formats collect the lazy frame
    written = write_frame(frame.lazy(), tmp_path / "out.parquet")
    assert pl.read_parquet(written).equals(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eager.csv", "eager2.csv",
                                                          "lazy.csv", "out.parquet"]


def _mistyped(rid: str) -> str:
    """The same person's ID with a wrong check character."""
    wrong = "0" if rid_check_char(rid[:17]) != "0" else "1"
    return rid[:17] + wrong


def test_one_masking_rule_for_cli_evidence_and_app(tmp_path: Path) -> None:
    masked = EXPERT[:6] + "********" + EXPERT[14:]
    typo = _mistyped(EXPERT)
    text = f"{EXPERT}+{typo}; doc {typo}"
    expected = f"{masked}+{typo[:6]}********{typo[14:]}; doc {typo[:6]}********{typo[14:]}"
    by_expr = pl.DataFrame({"t": [text]}).select(mask_text_expr("t")).item()
    assert mask_text(text) == mask_personal(text) == tables.mask_text(text) == by_expr \
        == expected
    assert public_id(EXPERT) == tables.public_id(EXPERT, "expert") == masked
    assert public_id(typo, "expert") == typo[:6] + "********" + typo[14:]
    # the command line's table and the evidence report show the same masked ID
    evidence = tmp_path / "e.html"
    xlsx = tmp_path / "answer.xlsx"
    records = str(records_file(tmp_path / "r.csv"))
    shown = run("check", "--records", records, "--on", "2026-03-01",
                "--subjects", f"{EXPERT},{FIRM}", "--evidence", str(evidence))
    assert shown.exit_code == 0, shown.output
    html = evidence.read_text(encoding="utf-8")
    for out in (shown.output, html):
        assert masked in out and EXPERT not in out
    payload = embedded(html)
    assert payload["inputs"]["subjects"] == [masked, FIRM]  # type: ignore[index]
    assert run("check", "--records", records, "--on", "2026-03-01", "--subjects", EXPERT,
               "--out", str(xlsx)).exit_code == 0
    assert pl.read_excel(xlsx).get_column("subject_id").to_list() == [masked]
    table = run("compute", "--records", records, "--on", "2026-03-01")
    assert masked in table.output and EXPERT not in table.output


def test_machine_outputs_keep_identifiers_whole(tmp_path: Path) -> None:
    """CSV/JSON/Parquet answers are joined back to inputs (CONTRACT §5): IDs whole."""
    out = tmp_path / "answer.json"
    result = run("check", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--subjects", EXPERT, "--out", str(out))
    assert result.exit_code == 0
    assert json.loads(out.read_text())[0]["subject_id"] == EXPERT


def test_a_document_number_cannot_break_the_embedded_json(tmp_path: Path) -> None:
    evidence = tmp_path / "e.html"
    result = run("check", "--records", str(records_file(tmp_path / "r.csv")),
                 "--on", "2026-03-01", "--subjects", RESTRICTED, "--evidence", str(evidence))
    assert result.exit_code == 0, result.output
    html = evidence.read_text(encoding="utf-8")
    script = html.split('<script type="application/json" id="evidence">', 1)[1]
    body = script.split("</script>", 1)[0]
    assert "<" not in body and ">" not in body
    grounds = embedded(html)["grounds"]
    assert grounds[0]["document_no"] == "<!--<script>alert(1)</script>"  # type: ignore[index]


def _with_password(url: str) -> str:
    return make_url(url).set(password="s3cret-pw").render_as_string(hide_password=False)


def test_no_password_in_evidence_or_stored_check(tmp_path: Path) -> None:
    """On PostgreSQL (trust authentication: any password connects)."""
    from creditindex.store.db import dispose_engine
    from creditindex.store.migrations import upgrade
    from tests.databases import empty_database

    plain, drop = empty_database("postgresql", tmp_path)
    url = _with_password(plain)
    assert "s3cret-pw" in url
    try:
        upgrade(url)
        assert run("import", "--db", url, "--records",
                   str(records_file(tmp_path / "r.csv"))).exit_code == 0
        evidence = tmp_path / "e.html"
        result = run("check", "--db", url, "--on", "2026-03-01", "--subjects", FIRM,
                     "--evidence", str(evidence))
        assert result.exit_code == 0, result.output
        stored = get_check(url, 1)
        for text in (evidence.read_text(encoding="utf-8"), json.dumps(stored.inputs),
                     stored.evidence_html or "", json.dumps(stored.evidence),
                     stored.evidence_report() or "", result.output):
            assert "s3cret-pw" not in text
        assert "***" in stored.inputs["db"]
    finally:
        dispose_engine(url)
        drop()


def test_a_refused_check_leaves_no_evidence_and_no_stored_check(store_url: str,
                                                                tmp_path: Path) -> None:
    assert run("import", "--db", store_url, "--records",
               str(records_file(tmp_path / "r.csv"))).exit_code == 0
    evidence = tmp_path / "e.html"
    result = run("check", "--db", store_url, "--on", "2026-03-01", "--subjects", FIRM,
                 "--evidence", str(evidence), "--user", "nobody")
    no_traceback(result)
    assert "unknown or inactive user 'nobody'" in result.output
    assert not evidence.exists()
    from creditindex.store.db import StoreError

    with pytest.raises(StoreError):
        get_check(store_url, 1)


def test_evaluate_refuses_a_day_after_today_and_still_catches_up(store_url: str,
                                                                 tmp_path: Path) -> None:
    assert run("import", "--db", store_url, "--records",
               str(records_file(tmp_path / "r.csv"))).exit_code == 0
    result = run("evaluate", "--db", store_url, "--on", "2100-01-01")
    no_traceback(result)
    assert "after today" in result.output
    today = dt.date.today()
    first = run("evaluate", "--db", store_url, "--on",
                (today - dt.timedelta(days=3)).isoformat())
    assert first.exit_code == 0, first.output
    caught = run("evaluate", "--db", store_url, "--no-progress")
    assert caught.exit_code == 0, caught.output
    days = [line.split(":")[0] for line in caught.output.splitlines()
            if re.match(r"^\d{4}-\d{2}-\d{2}: ", line)]
    assert days == [(today - dt.timedelta(days=n)).isoformat() for n in (2, 1, 0)]
