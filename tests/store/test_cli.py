"""The store's commands end to end, and the engine's commands reading ``--db``: their
answers equal the same commands reading the files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from creditindex.cli import main
from creditindex.store.audit import audit_trail
from creditindex.store.users import authenticate
from tests.store.storetest import TODAY, F, G, example_rows, write_csv, write_examples


def run(*args: str, ok: bool = True, stdin: str | None = None) -> Result:
    """Invoke the command line in-process."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    if ok:
        assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = write_examples(tmp_path / "data")
    rows = example_rows()
    rows[5] = {**rows[5], "revoked_on": "2026-05-10"}  # G1, as the store will have it
    made["expected"] = write_csv(tmp_path / "data" / "expected.csv", rows)
    return made


def test_the_store_commands_and_reading_the_store(store_url: str, files: dict[str, Path],
                                                  tmp_path: Path) -> None:
    db = ["--db", store_url]
    out = run("rules", "publish", str(files["rules"]), *db, "--user", "rita",
              "--effective", "2020-01-01").output
    assert out.startswith("published: store-test 1")
    assert "in force from 2020-01-01" in out
    imported = run("import", *db, "--records", str(files["records"]), "--subjects",
                   str(files["subjects"]), "--user", "alice", "--today", TODAY.isoformat())
    assert "11 new records" in imported.output and "3 subjects registered" in imported.output
    assert "inserting records" in imported.stderr  # the progress bar
    again = run("import", *db, "--records", str(files["records"]), "--today",
                TODAY.isoformat(), "--no-progress")
    assert again.output.startswith("nothing new")
    assert "new entries" in run("lists", "import", str(files["lists"]), *db).output

    bad = write_csv(tmp_path / "bad.csv", [{**example_rows()[0], "decided_on": "someday"}])
    refused = run("import", *db, "--records", str(bad), ok=False)
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (f"{bad}: row 2: column decided_on: not a date: "
                                      "'someday' (use YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or "
                                      "YYYY年M月D日)")

    src = ["--source", "广州市住建局"]
    run("object", *db, *src, "--record", "G1", "--user", "pat", "--reason", "not ours",
        "--on", "2026-03-01")
    by_regulator = run("decide", *db, *src, "--record", "G1", "--user", "rita", "--upheld",
                       "--on", "2026-05-10", ok=False)  # one role model: staff decide
    assert by_regulator.exit_code == 1
    assert "'rita' is regulator; this needs staff" in by_regulator.output
    decided = run("decide", *db, *src, "--record", "G1", "--user", "alice", "--upheld",
                  "--on", "2026-05-10", "--document-no", "撤〔2026〕1号")
    assert "upheld: record revoked" in decided.output
    early = run("repair", *db, *src, "--record", "F1", "--user", "alice", "--on",
                "2026-11-01", ok=False)
    assert early.exit_code == 1 and "refused" in early.output
    assert "application" in run("repair", *db, *src, "--record", "F1", "--user", "pat",
                                "--applied", "--on", "2026-11-01").output
    run("restrict", *db, "--subject", F, "--user", "alice", "--from", "2026-07-01",
        "--until", "2026-07-31", "--reason", "联合惩戒")
    assert "stored revision 1" in run("evaluate", *db, "--on", "2026-06-01", "--user",
                                      "alice").output
    assert "already evaluated" in run("evaluate", *db, "--on", "2026-06-01").output

    from_files = ["--rules", str(files["rules"]), "--records", str(files["expected"]),
                  "--lists", str(files["lists"])]
    for day in ("2026-05-09", "2026-06-01"):
        a, b = tmp_path / f"db-{day}.csv", tmp_path / f"files-{day}.csv"
        run("compute", *db, "--on", day, "--out", str(a))
        run("compute", *from_files, "--subjects", str(files["subjects"]), "--on", day,
            "--out", str(b))
        assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
    snap = tmp_path / "snapshot.csv"
    run("snapshot", *db, "--on", "2026-06-01", "--out", str(snap))
    assert snap.read_text(encoding="utf-8") == (tmp_path / "db-2026-06-01.csv").read_text(
        encoding="utf-8")
    for args in (["history", "--subject", G, "--from", "2026-01-01", "--to", "2026-06-30"],
                 ["explain", "--subject", F, "--on", "2026-06-01"],
                 ["check", "--on", "2026-06-01", "--subjects", f"{F},{G}"]):
        assert run(*args, *db).stdout == run(*args, *from_files).stdout

    assert "user bob (staff) added" in run("users", "add", "bob", *db, "--role", "staff",
                                           "--password-stdin", stdin="a secret phrase\n"
                                           ).output
    assert authenticate(store_url, "bob", "a secret phrase") is not None
    assert "bob\tstaff" in run("users", "list", *db).output
    listed = tmp_path / "rules.csv"
    run("rules", "list", *db, "--out", str(listed))
    assert pl.read_csv(listed).get_column("in_force").to_list() == [True]
    trail = tmp_path / "audit.csv"
    run("audit", *db, "--out", str(trail))
    assert pl.read_csv(trail).height == audit_trail(store_url).height
    assert [a for a in audit_trail(store_url).get_column("action").to_list()
            if a != "user.add"] == [
        "rules.publish", "records.import", "lists.import", "objection.file",
        "objection.decide", "repair.apply", "restriction.add", "evaluate", "check.save"]
