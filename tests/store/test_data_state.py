"""One list of the audited actions that change nothing the engine reads: the store's data
state (API server, app) and the daily job's data version are the same number, and
sign-ins, users, API keys and frozen points move neither."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from creditindex.store import snapshots
from creditindex.store.apikeys import add_key, revoke_key
from creditindex.store.audit import NOT_DATA_ACTIONS
from creditindex.store.db import get_engine, read_transaction, table
from creditindex.store.importer import import_lists, import_records
from creditindex.store.sessions import sign_in
from creditindex.store.state import data_state
from creditindex.store.users import add_user
from tests.store.storetest import PASSWORD, TODAY, write_examples


def _states(url: str) -> tuple[int, int]:
    with read_transaction(get_engine(url)) as conn:
        return data_state(conn), snapshots.data_version(conn)


def test_sign_ins_users_and_keys_move_no_data_state(store_url: str, tmp_path: Path) -> None:
    files = write_examples(tmp_path)
    import_records(store_url, [files["records"]], subjects_path=files["subjects"],
                   user="alice", today=TODAY, rules_path=files["rules"])
    before = _states(store_url)
    assert before[0] > 0 and before[0] == before[1]
    sign_in(store_url, "alice", PASSWORD)
    sign_in(store_url, "alice", "wrong password")
    add_user(store_url, "bob", "staff", PASSWORD, by="alice")
    key = add_key(store_url, "platform", ["check"], by="alice")
    revoke_key(store_url, key.key.key_id, by="alice")
    assert _states(store_url) == before
    with read_transaction(get_engine(store_url)) as conn:
        log = table("audit_log")
        actions = set(conn.execute(select(log.c.action).where(
            log.c.id > before[0])).scalars())
    assert actions and actions <= set(NOT_DATA_ACTIONS)
    import_lists(store_url, [files["lists"]], user="alice")
    after = _states(store_url)
    assert after[0] > before[0] and after[0] == after[1]
