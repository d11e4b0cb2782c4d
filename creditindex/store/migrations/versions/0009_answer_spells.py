"""The daily job keeps each recomputed subject's answers ahead (spells), so that a
catch-up reads them instead of the subjects' records.

When the daily job recomputes a subject from its records, it also computes the subject's
answer on each of its coming change points, up to the first day on which facts already
in the store (a record recorded, revoked or repaired later) change what is known
(``subject_spell``: one row per subject and change point, the state row the subject
would get on that day), with the ledger rows along which such an answer decays
(``spell_ledger``). A later run that reaches one of those days takes the row instead
of reading the records. Both are derived state, replaced whenever the subject is
recomputed from its records; the state is forgotten so that the next evaluation starts
again from every subject (and computes every subject's spells).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit key (SQLite's INTEGER PRIMARY KEY is its 64-bit rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add ``subject_spell`` and ``spell_ledger``; forget the state (it has no spells)."""
    op.create_table(
        "subject_spell",
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("from_day", sa.Date(), nullable=False),
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
        sa.PrimaryKeyConstraint("subject_id", "subject_type", "from_day",
                                name=op.f("pk_subject_spell")),
        **MYSQL,
    )
    op.create_index(op.f("ix_subject_spell_from_day"), "subject_spell", ["from_day"])
    op.create_table(
        "spell_ledger",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spell_ledger")),
        **MYSQL,
    )
    op.create_index(op.f("ix_spell_ledger_subject_id"), "spell_ledger", ["subject_id"])
    op.execute("DELETE FROM evaluation_state")


def downgrade() -> None:
    """Back to 0008 (the state forgotten again: its subjects' spells go)."""
    op.execute("DELETE FROM evaluation_state")
    op.drop_index(op.f("ix_spell_ledger_subject_id"), "spell_ledger")
    op.drop_table("spell_ledger")
    op.drop_index(op.f("ix_subject_spell_from_day"), "subject_spell")
    op.drop_table("subject_spell")
