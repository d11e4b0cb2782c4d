"""Restrictions grounded in law and in the decision (docs/semantics.md).

Penalty records keep what the publication of an administrative penalty requires and what
the decision states about its bar: ``restrict_until`` (the last barred day; 9999-12-31
stands for a permanent bar), ``restrict_scope`` (the trading categories barred),
``authority`` (处罚机关), ``basis`` (处罚依据) and ``publish_until`` (公示截止期). External
list entries gain ``scope`` (the categories they bar) and ``financier`` (a lender whose
own projects alone they bar). A stored day's answer keeps the grade's ``watch`` label
and the categories restricted that day (``restricted_in``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECORD_COLUMNS = (
    ("restrict_until", sa.Date()),
    ("restrict_scope", sa.String(128)),
    ("authority", sa.String(255)),
    ("basis", sa.Text()),
    ("publish_until", sa.Date()),
)
_LIST_COLUMNS = (("scope", sa.String(128)), ("financier", sa.String(64)))
_SNAPSHOT_COLUMNS = (("watch", sa.String(64)), ("restricted_in", sa.String(128)))


def upgrade() -> None:
    """Add the columns (all nullable: older rows state nothing)."""
    for name, type_ in _RECORD_COLUMNS:
        op.add_column("penalty_record", sa.Column(name, type_, nullable=True))
    for name, type_ in _LIST_COLUMNS:
        op.add_column("list_entry", sa.Column(name, type_, nullable=True))
    for name, type_ in _SNAPSHOT_COLUMNS:
        op.add_column("snapshot_row", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("penalty_record") as batch:
        for name, _ in reversed(_RECORD_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("list_entry") as batch:
        for name, _ in reversed(_LIST_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("snapshot_row") as batch:
        for name, _ in reversed(_SNAPSHOT_COLUMNS):
            batch.drop_column(name)
