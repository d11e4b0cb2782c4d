"""Schema migrations: an empty database goes up to the current schema (which matches the
models exactly) and back down; a database written by the first release is read after
``upgrade``, and refused before it."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import JSON, MetaData, inspect
from sqlalchemy.exc import DBAPIError

from creditindex.cli import main
from creditindex.store.db import StoreError, get_engine
from creditindex.store.lifecycle import decide_objection, file_objection, record_events
from creditindex.store.load import load_data
from creditindex.store.migrations import (
    alembic_config,
    alembic_config_for_scripts,
    current_revision,
    ensure_schema,
    head_of_files,
    head_revision,
    upgrade,
)
from creditindex.store.models import METADATA
from creditindex.store.users import add_user
from tests.store.storetest import RULES_TOML, F, example_rules


def test_an_empty_database_goes_up_to_head_and_down_again(empty_url: str) -> None:
    assert current_revision(get_engine(empty_url)) is None
    head = head_revision()
    # one head (ids are reserved per branch, so the chain's order need not be the ids'
    # order: the API's 0005 follows the daily state's 0007)
    chain = {r.revision for r in ScriptDirectory.from_config(
        alembic_config_for_scripts()).walk_revisions()}
    assert head is not None and {"0003", "0006", "0007"} <= chain  # one chain, one head
    assert upgrade(empty_url) == head == head_of_files()
    with get_engine(empty_url).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                METADATA) == []
    engine = get_engine(empty_url)
    with engine.begin() as conn:
        config = alembic_config(empty_url)
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert upgrade(empty_url) == head


def test_facts_are_append_only_in_the_database(store_url: str) -> None:
    engine = get_engine(store_url)
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log",
                      "UPDATE rule_set_version SET name = 'x'"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            if "rule_set" in statement:
                conn.exec_driver_sql("INSERT INTO rule_set_version (content_hash, name, "
                                     "version, toml_text, effective_from, published_by, "
                                     "published_at) VALUES ('h', 'n', 'v', 't', "
                                     "'2026-01-01', 'rita', '2026-01-01 00:00:00')")
            conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM audit_log").scalar_one() == 3


def test_the_command_creates_the_schema(empty_url: str) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["db", "upgrade", "--db", empty_url])
    assert done.exit_code == 0, done.output
    head = head_revision()
    assert f"revision {head}" in done.output
    shown = runner.invoke(main, ["db", "current", "--db", empty_url])
    assert f"schema at revision {head}; newest {head}" in shown.output


def test_a_database_of_the_first_release_is_read_after_upgrade(empty_url: str) -> None:
    assert upgrade(empty_url, "0001") == "0001"
    engine = get_engine(empty_url)
    with pytest.raises(StoreError, match="db upgrade"):
        ensure_schema(engine)
    old = MetaData()
    old.reflect(engine)
    assert "document_no" not in old.tables["record_event"].c
    old.tables["import_batch"].c.files.type = JSON()  # MariaDB reflects JSON as LONGTEXT
    now = dt.datetime(2026, 3, 1, 9, 30)
    rules = example_rules()
    with engine.begin() as conn:  # rows as the first release wrote them
        conn.execute(old.tables["rule_set_version"].insert().values(
            id=1, content_hash=rules.content_hash, name="store-test", version="1",
            toml_text=RULES_TOML, effective_from=dt.date(2020, 1, 1), published_by="rita",
            published_at=now))
        conn.execute(old.tables["import_batch"].insert().values(
            id=1, kind="records", at=now, by="alice", files=[], added=2, changed=0, events=1))
        conn.execute(old.tables["penalty_record"].insert(), [
            {"id": 1, "source": "src", "record_id": "F1", "industry": "housing",
             "region": "440106", "subject_id": F, "subject_name": "广州甲建设有限公司",
             "subject_type": "bidder", "behaviour_code": "BID-FRAUD",
             "decided_on": dt.date(2026, 1, 1), "recorded_on": dt.date(2026, 1, 1),
             "import_id": 1},
            {"id": 2, "source": "src", "record_id": "F2", "industry": "housing",
             "region": "440106", "subject_id": F, "subject_name": "广州甲建设有限公司",
             "subject_type": "bidder", "behaviour_code": "BID-COLLUSION",
             "decided_on": dt.date(2026, 2, 1), "recorded_on": dt.date(2026, 2, 1),
             "import_id": 1}])
        conn.execute(old.tables["record_event"].insert().values(
            record_pk=1, kind="revoked", effective_on=dt.date(2026, 3, 1), origin="import",
            import_id=1, by="alice", at=now))
    assert upgrade(empty_url) == head_revision()
    data = load_data(empty_url)
    assert data.rules.content_hash == rules.content_hash
    assert data.records.select("record_id", "revoked_on").sort("record_id").rows() == [
        ("F1", dt.date(2026, 3, 1)), ("F2", None)]
    add_user(empty_url, "alice", "staff", "a long password")
    file_objection(empty_url, "src", "F2", user="alice", reason="x", on=dt.date(2026, 3, 2))
    decide_objection(empty_url, "src", "F2", user="alice", upheld=False,
                     on=dt.date(2026, 3, 3), document_no="裁〔2026〕1号")
    assert record_events(empty_url, "src", "F2").get_column("document_no").to_list() == [
        None, "裁〔2026〕1号"]
