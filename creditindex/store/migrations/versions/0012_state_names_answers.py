"""The daily state names the stored row of each subject's answer instead of copying it.

``subject_state`` kept every subject's whole answer, its ~1 KB of reasons included, so
that moving a subject's days rewrote the row: a catch-up of a month rewrote some 11,000
of them, dirtying nearly every page of the table (27 of the 51 MB it wrote on SQLite).
Every answer in the state is stored as a ``snapshot_row`` (append-only) of some run:
the state now names that run (``answer_run_id``) and keeps only the days. A state
row is named by the newest run of the state's chain that stores its subject, when that
row is the same answer; if any is not found so, the state is forgotten and the next
evaluation starts again from every subject (as 0008 did).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ANSWER: list[tuple[str, sa.types.TypeEngine[Any], bool]] = [
    ("subject_name", sa.String(255), True), ("credit_index", sa.Double(), False),
    ("grade", sa.String(32), False), ("watch", sa.String(64), True),
    ("deducted", sa.Double(), False), ("restricted", sa.Boolean(), False),
    ("restricted_in", sa.String(128), True), ("reasons", sa.Text(), False)]
_SAME_ROW = ("a.subject_id = subject_state.subject_id "
             "AND a.subject_type = subject_state.subject_type")


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit key (SQLite's INTEGER PRIMARY KEY is its 64-bit rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _chain(conn: sa.Connection) -> list[int]:
    """The state's run and its parents, back to the run stored whole (newest first)."""
    found = conn.execute(sa.text("SELECT run_id FROM evaluation_state WHERE id = 1")).first()
    if found is None:
        return []
    parents = {int(r[0]): r[1] for r in conn.execute(sa.text(
        "SELECT id, parent_run_id FROM evaluation_run"))}
    chain = [int(found[0])]
    while parents.get(chain[-1]) is not None:
        chain.append(int(parents[chain[-1]]))
    return chain


def _same(dialect: str, left: str, right: str) -> str:
    """SQL: ``left`` equals ``right``, null equal to null."""
    if dialect == "sqlite":
        return f"{left} IS {right}"
    if dialect == "mysql":
        return f"{left} <=> {right}"
    return f"{left} IS NOT DISTINCT FROM {right}"


def upgrade() -> None:
    """Name each state row's answer by its run (or forget the state), then drop the
    answer's columns from ``subject_state``."""
    conn = op.get_bind()
    with op.batch_alter_table("subject_state") as batch:
        batch.add_column(sa.Column("answer_run_id", big_id(), nullable=True))
    for run_id in _chain(conn):
        conn.execute(sa.text(
            "UPDATE subject_state SET answer_run_id = :run WHERE answer_run_id IS NULL "
            f"AND EXISTS (SELECT 1 FROM snapshot_row a WHERE a.run_id = :run AND {_SAME_ROW})"
        ), {"run": run_id})
    same = " AND ".join(_same(conn.dialect.name, f"s.{c}", f"a.{c}") for c, _, _ in _ANSWER)
    # (a join, not NOT EXISTS: PostgreSQL probed the latter through the ranking index,
    # every row of the run for each state row, some 90 s on a 1M-record store)
    unnamed = conn.execute(sa.text(
        "SELECT COUNT(*) FROM subject_state s LEFT JOIN snapshot_row a ON "
        "a.run_id = s.answer_run_id AND a.subject_id = s.subject_id AND "
        f"a.subject_type = s.subject_type WHERE a.run_id IS NULL OR NOT ({same})")
    ).scalar_one()
    if unnamed:  # an answer not found stored: evaluate every subject again
        op.execute("DELETE FROM subject_state")
        op.execute("DELETE FROM evaluation_state")
    with op.batch_alter_table("subject_state") as batch:
        for name, _, _ in _ANSWER:
            batch.drop_column(name)


def downgrade() -> None:
    """Back to 0011: the answers copied back into ``subject_state`` from the rows named."""
    with op.batch_alter_table("subject_state") as batch:
        for name, type_, _ in _ANSWER:
            batch.add_column(sa.Column(name, type_, nullable=True))
    for name, _, _ in _ANSWER:
        op.execute(f"UPDATE subject_state SET {name} = (SELECT a.{name} FROM snapshot_row a "
                   f"WHERE a.run_id = subject_state.answer_run_id AND {_SAME_ROW})")
    with op.batch_alter_table("subject_state") as batch:
        for name, type_, nullable in _ANSWER:
            if not nullable:
                batch.alter_column(name, existing_type=type_, nullable=False)
        batch.drop_column("answer_run_id")
