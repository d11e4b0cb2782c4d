"""A stored day's decaying answers are derived on read instead of stored day by day.

A subject whose index decays linearly changed every day, so each day's run stored a row
for every such subject and catching up a month of missed days wrote a month of them.
Now the run where a decay starts keeps the ledger rows it decays along
(``decay_ledger``, append-only history keyed by that run), and a later day read through
that run derives the subject's answer from them; the daily state says which run that is
(``subject_state.decay_run_id``). A page of a stored day's ranking is read through an
index on ``snapshot_row`` (run, subject type, index, subject). The state's own ledger
(``state_ledger``) goes, and the state is forgotten so that the next evaluation starts
again from every subject.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit key (SQLite's INTEGER PRIMARY KEY is its 64-bit rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ledger_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("behaviour_code", sa.String(64), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("end_day", sa.Integer(), nullable=False),
        sa.Column("nominal_end", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("is_linear", sa.Boolean(), nullable=False),
    ]


def upgrade() -> None:
    """Add ``decay_ledger`` and ``subject_state.decay_run_id``; drop ``state_ledger``;
    forget the state (its rows name no decay run)."""
    op.create_table(
        "decay_ledger",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("run_id", big_id(), nullable=False),
        *_ledger_columns(),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_run.id"],
                                name=op.f("fk_decay_ledger_run_id_evaluation_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decay_ledger")),
        **MYSQL,
    )
    op.create_index(op.f("ix_decay_ledger_run_id_subject_id"), "decay_ledger",
                    ["run_id", "subject_id"])
    with op.batch_alter_table("subject_state") as batch:
        batch.add_column(sa.Column("decay_run_id", big_id(), nullable=True))
    op.drop_index(op.f("ix_state_ledger_subject_id"), "state_ledger")
    op.drop_table("state_ledger")
    op.execute("DELETE FROM evaluation_state")
    op.create_index(op.f("ix_snapshot_row_run_id_subject_type_credit_index_subject_id"),
                    "snapshot_row", ["run_id", "subject_type", "credit_index", "subject_id"])


def downgrade() -> None:
    """Back to 0006's daily state (forgotten again: it kept no ledger)."""
    op.drop_index(op.f("ix_snapshot_row_run_id_subject_type_credit_index_subject_id"),
                  "snapshot_row")
    op.execute("DELETE FROM evaluation_state")
    op.create_table(
        "state_ledger",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        *_ledger_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_ledger")),
        **MYSQL,
    )
    op.create_index(op.f("ix_state_ledger_subject_id"), "state_ledger", ["subject_id"])
    with op.batch_alter_table("subject_state") as batch:
        batch.drop_column("decay_run_id")
    op.drop_table("decay_ledger")  # with its index (MariaDB's foreign key needs it)
