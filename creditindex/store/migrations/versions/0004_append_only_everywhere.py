"""Facts stay facts on every backend: no replacing and no truncating.

0001 refused ``UPDATE`` and ``DELETE`` of append-only rows. Two ways round it remained:
SQLite's ``INSERT OR REPLACE`` / ``REPLACE INTO`` (the implicit delete of a conflicting
row fires no DELETE trigger) and ``TRUNCATE`` on PostgreSQL and MySQL/MariaDB (no row
triggers fire). Now:

- SQLite: a ``BEFORE INSERT`` trigger per append-only table aborts an insert whose key (the
  primary key or a unique key) is already stored -- so a replace never happens;
- PostgreSQL: a ``BEFORE TRUNCATE`` statement trigger per table aborts;
- MySQL/MariaDB: the table ``append_only_guard`` (never holds a row) has a foreign key to
  each append-only table, and InnoDB refuses ``TRUNCATE`` of a table another table's
  foreign key references. (``REPLACE`` there runs the DELETE triggers of 0001.) A session
  with ``foreign_key_checks = 0`` could still truncate: the application's database user
  should not hold ``DROP`` (which ``TRUNCATE`` needs) -- see docs/security.md.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each append-only table with its keys (a row whose key is stored already is refused).
KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "penalty_record": (("id",), ("source", "record_id")),
    "record_event": (("id",),),
    "rule_set_version": (("id",), ("content_hash",)),
    "audit_log": (("id",),),
    "snapshot_row": (("run_id", "subject_id", "subject_type"),),
    "eligibility_check": (("id",),),
}
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _sqlite_no_replace(name: str, keys: tuple[tuple[str, ...], ...]) -> None:
    taken = " OR ".join(
        "EXISTS (SELECT 1 FROM {t} WHERE {m})".format(
            t=name, m=" AND ".join(f"{c} = NEW.{c}" for c in key))
        for key in keys)
    op.execute(f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} WHEN {taken} "
               f"BEGIN SELECT RAISE(ABORT, '{name} is append-only: a row with this key is "
               "stored already and is never replaced'); END")


def upgrade() -> None:
    """Refuse replacing (SQLite) and truncating (PostgreSQL, MySQL/MariaDB)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, keys in KEYS.items():
            _sqlite_no_replace(name, keys)
    elif dialect == "postgresql":
        for name in KEYS:
            op.execute(f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION creditindex_append_only()")
    op.create_table(
        "append_only_guard",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("penalty_record_id", _big_id(), nullable=True),
        sa.Column("record_event_id", _big_id(), nullable=True),
        sa.Column("rule_set_version_id", _big_id(), nullable=True),
        sa.Column("audit_log_id", _big_id(), nullable=True),
        sa.Column("eligibility_check_id", _big_id(), nullable=True),
        sa.Column("snapshot_run_id", _big_id(), nullable=True),
        sa.Column("snapshot_subject_id", sa.String(32), nullable=True),
        sa.Column("snapshot_subject_type", sa.String(16), nullable=True),
        *(sa.ForeignKeyConstraint([f"{t}_id"], [f"{t}.id"],
                                  name=op.f(f"fk_append_only_guard_{t}_id_{t}"))
          for t in ("penalty_record", "record_event", "rule_set_version", "audit_log",
                    "eligibility_check")),
        sa.ForeignKeyConstraint(
            ["snapshot_run_id", "snapshot_subject_id", "snapshot_subject_type"],
            ["snapshot_row.run_id", "snapshot_row.subject_id", "snapshot_row.subject_type"],
            name=op.f("fk_append_only_guard_snapshot_run_id_snapshot_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_append_only_guard")),
        **MYSQL,
    )


def downgrade() -> None:
    """Back to 0002's guards (UPDATE and DELETE refused only)."""
    op.drop_table("append_only_guard")
    dialect = op.get_bind().dialect.name
    for name in KEYS:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER {name}_no_replace")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER {name}_no_truncate ON {name}")
