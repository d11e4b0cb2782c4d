"""Append-only means append-only on every backend: besides UPDATE and DELETE (0001),
SQLite's INSERT OR REPLACE / REPLACE INTO and TRUNCATE on PostgreSQL and MariaDB are
refused, and the stored facts are unchanged afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import DBAPIError

from creditindex.cli import main
from creditindex.records import records_frame
from creditindex.store.db import get_engine
from creditindex.store.models import APPEND_ONLY
from tests.helpers import row, uscc


def _import_one(url: str, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    records_frame([row(uscc(1), "bidder", "BID-WITHDRAW", "2025-06-01",
                       record_id="R1", source="S")]).write_csv(path)
    result = CliRunner().invoke(main, ["import", "--db", url, "--records", str(path)])
    assert result.exit_code == 0, result.output


def _facts(url: str) -> dict[str, list[tuple[object, ...]]]:
    with get_engine(url).connect() as conn:
        return {t: [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t}").all()]
                for t in APPEND_ONLY}


def _rewrites(backend: str) -> list[str]:
    if backend == "sqlite":
        return [
            "INSERT OR REPLACE INTO penalty_record (id, source, record_id, industry, region, "
            "subject_id, subject_name, subject_type, behaviour_code, decided_on, recorded_on,"
            " import_id) SELECT id, source, record_id, industry, region, subject_id, "
            "'forged', subject_type, behaviour_code, decided_on, recorded_on, import_id "
            "FROM penalty_record",
            "REPLACE INTO penalty_record (source, record_id, industry, region, subject_id, "
            "subject_name, subject_type, behaviour_code, decided_on, recorded_on, import_id) "
            "SELECT source, record_id, industry, region, subject_id, 'forged', subject_type,"
            " behaviour_code, decided_on, recorded_on, import_id FROM penalty_record",
            "INSERT OR REPLACE INTO audit_log SELECT * FROM audit_log",
            "REPLACE INTO audit_log (id, at, actor, action, entity, entity_key) "
            "SELECT id, at, 'mallory', action, entity, entity_key FROM audit_log",
        ]
    if backend == "mariadb":
        return [
            "REPLACE INTO audit_log (id, at, actor, action, entity, entity_key) "
            "SELECT id, at, 'mallory', action, entity, entity_key FROM audit_log",
            *(f"TRUNCATE TABLE {t}" for t in APPEND_ONLY),
        ]
    return [f"TRUNCATE TABLE {t}" for t in APPEND_ONLY] + [
        "TRUNCATE TABLE penalty_record CASCADE"]


def test_no_backend_lets_a_fact_be_replaced_or_truncated(store_url: str, backend: str,
                                                         tmp_path: Path) -> None:
    _import_one(store_url, tmp_path)
    before = _facts(store_url)
    assert before["penalty_record"] and before["audit_log"]
    engine = get_engine(store_url)
    for statement in _rewrites(backend):
        with pytest.raises(DBAPIError, match=r"append-only|foreign key"), \
                engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert _facts(store_url) == before
    # a new fact is still welcome
    path = tmp_path / "more.csv"
    records_frame([row(uscc(2), "bidder", "BID-WITHDRAW", "2025-06-02",
                       record_id="R2", source="S")]).write_csv(path)
    result = CliRunner().invoke(main, ["import", "--db", store_url, "--records", str(path)])
    assert result.exit_code == 0, result.output
    assert len(_facts(store_url)["penalty_record"]) == 2
