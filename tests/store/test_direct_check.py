"""``check --db`` through the database's own driver (:mod:`creditindex.store.driver`):
the same answers, files and stored rows, byte for byte, as through SQLAlchemy, on every
backend (MariaDB keeps the engine path); neither SQLAlchemy nor pydantic imported on
SQLite and PostgreSQL; the raw SQL it runs names the columns the store's models
declare."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Date, DateTime

from creditindex.store import audit, checks, driver
from creditindex.store.db import dispose_engine, get_engine, table
from creditindex.store.migrations import upgrade
from creditindex.store.rulesets import IN_FORCE_SQL
from creditindex.store.users import add_user
from tests.databases import empty_database
from tests.store.storetest import PASSWORD, E, G, H, S, V, run, write_examples

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("eligibility_check", "check_certificate")


def build_store(url: str, data: Path) -> None:
    """The worked examples' store of the ``db`` fixture (conftest.py), made the same way."""
    upgrade(url)
    for name, role in (("alice", "staff"), ("rita", "regulator"), ("pat", "public")):
        add_user(url, name, role, PASSWORD, by="setup")
    files = write_examples(data)
    run("rules", "publish", str(files["rules"]), "--db", url, "--user", "rita",
        "--effective", "2020-01-01")
    run("import", "--db", url, "--records", str(files["records"]), "--subjects",
        str(files["subjects"]), "--user", "alice", "--today", "2026-11-26", "--no-progress")


def stored_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of the checks' rows (and their audit rows) as the database holds it,
    as text."""
    engine = get_engine(url)
    as_text = "CHAR" if engine.dialect.name == "mysql" else "TEXT"
    found = {}
    with engine.connect() as conn:
        for name, where in (*((t, "") for t in CHECKED),
                            ("audit_log", " WHERE action = 'check.save'")):
            columns = ", ".join(f"CAST({conn.dialect.identifier_preparer.quote(c.name)} "
                                f"AS {as_text})" for c in table(name).columns)
            key = "id" if name != "check_certificate" else "check_id"
            found[name] = [tuple(r) for r in conn.exec_driver_sql(
                f"SELECT {columns} FROM {name}{where} ORDER BY {key}").all()]
    return found


CHECKS = [
    ["--on", "2026-06-01", "--subjects", f"{V},{G}", "--consortium", "--project-no", "GZ-9",
     "--project-name", "体育馆", "--lot-no", "3", "--category", "engineering"],
    ["--on", "2026-12-31", "--subjects", f"{H},{S},{E}", "--known-on", "2026-11-26",
     "--financier", "worldbank"],
]


def checks_of(url: str, folder: Path, engine_path: bool,
              monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run :data:`CHECKS` on ``url`` at fixed times and codes (through SQLAlchemy when
    ``engine_path``); their output files and stored rows."""
    codes = iter(["ABCD-EFGH-JKMN-PQRS", "2345-6789-ABCD-EFGH"])
    times = iter([dt.datetime(2026, 11, 30, 8, 1, 2, 345678),
                  dt.datetime(2026, 11, 30, 9, 0, 0, 0)])  # whole seconds too
    now = {"at": dt.datetime(2026, 1, 1)}

    def clock() -> dt.datetime:
        return now["at"]

    monkeypatch.setattr(checks, "new_verify_code", lambda: next(codes))
    monkeypatch.setattr(checks, "utcnow", clock)
    monkeypatch.setattr(audit, "utcnow", clock)
    made = checks.evidence_payload
    monkeypatch.setattr(checks, "evidence_payload", lambda *a, **k: made(
        *a, **k, made_at=clock().replace(tzinfo=dt.UTC)))
    if engine_path:
        monkeypatch.setattr(driver, "connect", lambda url: None)
    folder.mkdir()
    outputs: dict[str, Any] = {}
    for i, args in enumerate(CHECKS):
        now["at"] = next(times)
        files = {"out": folder / f"{i}.csv", "evidence": folder / f"{i}.html",
                 "certificate": folder / f"{i}-cert.html"}
        done = run("check", "--db", url, *args, *(x for k, p in files.items()
                                                   for x in (f"--{k}", str(p))))
        outputs[f"stderr {i}"] = done.stderr.replace(str(folder), "<folder>")
        outputs |= {f"{k} {i}": p.read_bytes() for k, p in files.items()}
    monkeypatch.undo()
    outputs["rows"] = stored_rows(url)
    return unnamed(outputs, url)


def unnamed(value: Any, url: str) -> Any:
    """``value`` with the store's URL (in the inputs and evidence) replaced by ``<db>``:
    the two stores compared are two databases."""
    if isinstance(value, bytes):
        return value.replace(url.encode(), b"<db>")
    if isinstance(value, str):
        return value.replace(url, "<db>")
    if isinstance(value, dict):
        return {k: unnamed(v, url) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(unnamed(v, url) for v in value)
    return value


def test_direct_checks_answer_and_store_what_the_engine_path_does(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls, drops = [], []
    for name in ("direct", "engine"):
        url, drop = empty_database(backend, tmp_path / name)
        urls.append(url)
        drops.append(drop)
    try:
        for url, name in zip(urls, ("direct", "engine"), strict=True):
            build_store(url, tmp_path / name / "data")
        direct = checks_of(urls[0], tmp_path / "direct" / "out", False, monkeypatch)
        through_engine = checks_of(urls[1], tmp_path / "engine" / "out", True, monkeypatch)
    finally:
        for url, drop in zip(urls, drops, strict=True):
            dispose_engine(url)
            drop()
    rows = direct["rows"]
    assert [len(rows[t]) for t in (*CHECKED, "audit_log")] == [2, 2, 2]
    assert "<db>" in rows["eligibility_check"][0][7]  # the inputs name the store
    assert direct.keys() == through_engine.keys()
    for key, value in direct.items():
        assert value == through_engine[key], key


def test_a_check_takes_the_direct_path_where_it_can(store_url: str, backend: str) -> None:
    # No SQLAlchemy on SQLite and PostgreSQL; MariaDB keeps the engine path (documented).
    # No pydantic either: the rule set in force was validated when it was published
    # (creditindex.rules keeps its canonical form).
    code = (f"import sys\nfrom click.testing import CliRunner\nfrom creditindex.cli import "
            f"main\nr = CliRunner().invoke(main, ['check', '--db', {store_url!r}, '--on', "
            f"'2026-06-01', '--subjects', {V!r}])\nassert r.exit_code == 0, (r.output, "
            f"r.exception)\nprint(sorted(m.split('.')[0] for m in sys.modules if "
            f"m.startswith(('sqlalchemy', 'alembic', 'sqlmodel', 'pydantic'))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    loaded = set(eval(done.stdout.strip().splitlines()[-1]))
    assert loaded == (set() if backend != "mariadb" else {"sqlalchemy"})
    stored = stored_rows(store_url)["eligibility_check"]
    assert len(stored) == 1 and json.loads(stored[0][7])["db"] is not None


def test_the_direct_sql_names_the_declared_columns(store_url: str, backend: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # The rule set in force: its columns, and the two it reads back as dates and times.
    versions = table("rule_set_version").columns
    named = IN_FORCE_SQL.split("SELECT ", 1)[1].split(" FROM ", 1)[0].split(", ")
    assert set(named) <= set(versions.keys())
    assert isinstance(versions["effective_from"].type, Date)
    assert isinstance(versions["published_at"].type, DateTime)
    # Every row a check inserts: known columns, JSON columns named as JSON, dates and
    # times bound as the declared types store them, every required column given.
    inserted: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    real: Callable[..., Any] = driver.insert_row

    def spy(conn: Any, name: str, values: Any, json_columns: Any = (),
            returning: str | None = None) -> Any:
        inserted.append((name, dict(values), tuple(json_columns)))
        return real(conn, name, values, json_columns, returning)

    monkeypatch.setattr(driver, "insert_row", spy)
    run("check", "--db", store_url, "--on", "2026-06-01", "--subjects", f"{V},{G}",
        "--consortium")
    if backend == "mariadb":
        assert inserted == []
        return
    assert sorted(name for name, _, _ in inserted) == [
        "audit_log", "check_certificate", "eligibility_check"]
    for name, values, json_columns in inserted:
        columns = table(name).columns
        assert set(values) <= set(columns.keys()), name
        assert set(json_columns) == {c for c in values if isinstance(columns[c].type, JSON)}
        for column, value in values.items():
            kind = columns[column].type
            if isinstance(value, dt.datetime):
                assert isinstance(kind, DateTime), (name, column)
            elif isinstance(value, dt.date):
                assert isinstance(kind, Date), (name, column)
            elif isinstance(kind, Date | DateTime):
                assert value is None, (name, column)
        required = {c.name for c in columns if not c.nullable and c.server_default is None
                    and not (c.primary_key and c.autoincrement is not False
                             and c.name not in values)}
        assert required <= set(values), (name, required - set(values))


def test_a_check_process_ends_with_all_its_output_and_its_code(store_url: str,
                                                                tmp_path: Path) -> None:
    # The command line as a process ends a check at once (creditindex.cli.run): what it
    # printed and wrote is all there, and its exit code is the command's.
    files = write_examples(tmp_path / "data")
    run("rules", "publish", str(files["rules"]), "--db", store_url, "--user", "rita",
        "--effective", "2020-01-01")
    run("import", "--db", store_url, "--records", str(files["records"]), "--user", "alice",
        "--today", "2026-11-26", "--no-progress")
    asked = ["check", "--db", store_url, "--on", "2026-06-01", "--subjects", f"{V},{G},{H}"]
    expected = run(*asked).stdout
    out = tmp_path / "answer.csv"
    for argv, code in ((asked, 0), ([*asked, "--out", str(out)], 0),
                       ([*asked[:-1], f"{V[:-1]}X"], 2)):
        done = subprocess.run([sys.executable, "-m", "creditindex", *argv], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode == code, done.stderr
        if code == 2:
            assert "check character" in done.stderr and done.stdout == ""
        elif "--out" in argv:
            assert done.stdout == "" and "wrote 3 rows" in done.stderr
            assert out.read_text(encoding="utf-8").count("\n") == 4
        else:
            assert done.stdout == expected and "check saved" in done.stderr
