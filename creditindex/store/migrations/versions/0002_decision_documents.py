"""Lifecycle decisions cite their document; records are found by subject.

Staff asked to record the decision document number (决定书文号) of an objection ruling
or a credit repair next to the step itself, and answers about a few subjects (explain,
check, the app's subject page) read that subject's records through an index instead of
scanning the whole table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``record_event.document_no`` and the per-subject index of records."""
    op.add_column("record_event", sa.Column("document_no", sa.String(255), nullable=True))
    op.create_index(op.f("ix_penalty_record_subject_id_subject_type"), "penalty_record",
                    ["subject_id", "subject_type"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index(op.f("ix_penalty_record_subject_id_subject_type"), "penalty_record")
    with op.batch_alter_table("record_event") as batch:
        batch.drop_column("document_no")
