"""Forget a benchmark store's evaluations (not its records), so that the daily job can be
measured again from its first, whole evaluation; with ``--forget-rules`` also its
published rule sets (a store built by an older release, whose rule files this one
refuses; the next evaluation publishes the current default). Benchmark stores only: it
removes the append-only guards for a moment.

    .venv/bin/python bench/store_reset.py URL [--forget-rules]
"""

from __future__ import annotations

import sys

from sqlalchemy import Connection, text

from creditindex.store.db import get_engine
from creditindex.store.migrations import upgrade

TABLES = ("snapshot_row", "evaluation_state", "decay_ledger", "decay_spell", "subject_state",
          "subject_spell",
          "spell_ledger",
          "evaluation_run")


def _delete_all(conn: Connection, name: str, guarded: bool) -> None:
    """Delete every row of table ``name`` (lifting its append-only guard if ``guarded``)."""
    dialect = conn.dialect.name
    if guarded and dialect == "postgresql":
        conn.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
    elif guarded:
        conn.execute(text(f"DROP TRIGGER {name}_no_delete"))
    conn.execute(text(f"DELETE FROM {name}"))
    message = f"{name} is append-only: record a new fact instead"
    if guarded and dialect == "postgresql":
        conn.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
    elif guarded and dialect == "sqlite":
        conn.execute(text(f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name} "
                          f"BEGIN SELECT RAISE(ABORT, '{message}'); END"))
    elif guarded:
        conn.execute(text(f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name} "
                          f"FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'"))


def reset(url: str, forget_rules: bool = False) -> None:
    """Delete every evaluation of the store at ``url`` (and its rule sets)."""
    upgrade(url)
    with get_engine(url).begin() as conn:
        for name in TABLES:
            _delete_all(conn, name, guarded=name == "snapshot_row")
        if forget_rules:
            _delete_all(conn, "rule_set_version", guarded=True)


if __name__ == "__main__":
    reset(sys.argv[1], forget_rules="--forget-rules" in sys.argv[2:])
