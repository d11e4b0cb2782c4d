"""A run's decaying answer may decay along its subject's stored spell ledger rows
instead of a copy of them.

A day that takes a subject's stored spell whose decay starts anew kept that spell's
ledger rows (still counting after the day) as its own, copied into ``decay_ledger``: a
catch-up of a month copied some 65,000 rows. Now the run names the subject in
``decay_spell`` (run, subject, the run's day as an integer) and its ledger rows are the
subject's ``spell_ledger`` rows still counting after that day, read as if kept in
``decay_ledger``; before a subject's spells are replaced those rows are copied there
after all (and the ``decay_spell`` row goes), so a run's ledger rows never change.
Runs stored before keep their copies.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}
_LEDGER = ("subject_id", "subject_type", "source", "record_id", "behaviour_code", "decided",
           "end_day", "nominal_end", "days", "amount", "is_linear")


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit key (SQLite's INTEGER PRIMARY KEY is its 64-bit rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add ``decay_spell`` (stored runs keep their ledger rows in ``decay_ledger``)."""
    op.create_table(
        "decay_spell",
        sa.Column("run_id", big_id(), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("after_day", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_run.id"],
                                name=op.f("fk_decay_spell_run_id_evaluation_run")),
        sa.PrimaryKeyConstraint("run_id", "subject_id", "subject_type",
                                name=op.f("pk_decay_spell")),
        **MYSQL,
    )
    op.create_index(op.f("ix_decay_spell_subject_id"), "decay_spell", ["subject_id"])


def downgrade() -> None:
    """Back to 0010: the spell ledger rows the runs name copied into ``decay_ledger``
    first, so that every stored day reads as before."""
    names = ", ".join(_LEDGER)
    op.execute(
        f"INSERT INTO decay_ledger (run_id, {names}) SELECT s.run_id, "
        f"{', '.join('l.' + c for c in _LEDGER)} FROM decay_spell s JOIN spell_ledger l "
        "ON l.subject_id = s.subject_id AND l.subject_type = s.subject_type "
        "AND l.end_day > s.after_day ORDER BY s.run_id, l.subject_id, l.id")
    op.drop_index(op.f("ix_decay_spell_subject_id"), "decay_spell")
    op.drop_table("decay_spell")
