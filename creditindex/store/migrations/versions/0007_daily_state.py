"""The daily job keeps its state; answers about a few subjects read only their rows.

The daily evaluation stores every subject's answer and the next day it may change
(``subject_state``, with ``evaluation_state`` saying where it stands, and the ledger
rows of linearly decaying subjects in ``state_ledger``), so that the next
day, or a month of missed days, recomputes only the subjects due and those with new
facts; a day's snapshot may be stored as its changes from an earlier run
(``evaluation_run.parent_run_id``). List entries are found by subject_id through an
index (``check``/``explain``/``history`` of a few subjects never read the whole store).

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit key (SQLite's INTEGER PRIMARY KEY is its 64-bit rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the state tables, ``evaluation_run.parent_run_id`` and the list index."""
    with op.batch_alter_table("evaluation_run") as batch:
        batch.add_column(sa.Column("parent_run_id", big_id(), nullable=True))
        batch.create_foreign_key(op.f("fk_evaluation_run_parent_run_id_evaluation_run"),
                                 "evaluation_run", ["parent_run_id"], ["id"])
    op.create_index(op.f("ix_list_entry_subject_id"), "list_entry", ["subject_id"])
    op.create_table(
        "subject_state",
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_name", sa.String(255), nullable=True),
        sa.Column("credit_index", sa.Double(), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("watch", sa.String(64), nullable=True),
        sa.Column("deducted", sa.Double(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("restricted_in", sa.String(128), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("next_change", sa.Date(), nullable=True),
        sa.Column("decays_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "subject_type", name=op.f("pk_subject_state")),
        **MYSQL,
    )
    op.create_index(op.f("ix_subject_state_next_change"), "subject_state", ["next_change"])
    op.create_index(op.f("ix_subject_state_decays_until"), "subject_state", ["decays_until"])
    op.create_table(
        "state_ledger",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_ledger")),
        **MYSQL,
    )
    op.create_index(op.f("ix_state_ledger_subject_id"), "state_ledger", ["subject_id"])
    op.create_table(
        "evaluation_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run_id", big_id(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rules_hash", sa.String(64), nullable=False),
        sa.Column("record_pk", sa.BigInteger(), nullable=False),
        sa.Column("event_pk", sa.BigInteger(), nullable=False),
        sa.Column("list_pk", sa.BigInteger(), nullable=False),
        sa.Column("manual_pk", sa.BigInteger(), nullable=False),
        sa.Column("batch_pk", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_run.id"],
                                name=op.f("fk_evaluation_state_run_id_evaluation_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_state")),
        **MYSQL,
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("evaluation_state")
    op.drop_index(op.f("ix_state_ledger_subject_id"), "state_ledger")
    op.drop_table("state_ledger")
    op.drop_index(op.f("ix_subject_state_decays_until"), "subject_state")
    op.drop_index(op.f("ix_subject_state_next_change"), "subject_state")
    op.drop_table("subject_state")
    op.drop_index(op.f("ix_list_entry_subject_id"), "list_entry")
    with op.batch_alter_table("evaluation_run") as batch:
        batch.drop_constraint(op.f("fk_evaluation_run_parent_run_id_evaluation_run"),
                              type_="foreignkey")
        batch.drop_column("parent_run_id")
