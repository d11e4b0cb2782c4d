"""Forget a benchmark store's evaluations (not its records), so that the daily job can be
measured again from its first, whole evaluation. Benchmark stores only: it removes the
append-only guard of ``snapshot_row`` for a moment.

    .venv/bin/python bench/store_reset.py URL
"""

from __future__ import annotations

import sys

from sqlalchemy import text

from creditindex.store.db import get_engine
from creditindex.store.migrations import upgrade

TABLES = ("snapshot_row", "evaluation_state", "state_ledger", "subject_state",
          "evaluation_run")


def reset(url: str) -> None:
    """Delete every evaluation of the store at ``url``."""
    upgrade(url)
    engine = get_engine(url)
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if dialect == "sqlite":
            conn.execute(text("DROP TRIGGER snapshot_row_no_delete"))
        elif dialect == "postgresql":
            conn.execute(text("ALTER TABLE snapshot_row DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER snapshot_row_no_delete"))
        for name in TABLES:
            conn.execute(text(f"DELETE FROM {name}"))
        message = "snapshot_row is append-only: record a new fact instead"
        if dialect == "sqlite":
            conn.execute(text("CREATE TRIGGER snapshot_row_no_delete BEFORE DELETE ON "
                              f"snapshot_row BEGIN SELECT RAISE(ABORT, '{message}'); END"))
        elif dialect == "postgresql":
            conn.execute(text("ALTER TABLE snapshot_row ENABLE TRIGGER USER"))
        else:
            conn.execute(text("CREATE TRIGGER snapshot_row_no_delete BEFORE DELETE ON "
                              "snapshot_row FOR EACH ROW SIGNAL SQLSTATE '45000' "
                              f"SET MESSAGE_TEXT = '{message}'"))


if __name__ == "__main__":
    reset(sys.argv[1])
