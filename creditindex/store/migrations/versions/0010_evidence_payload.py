"""A check's evidence is stored as its payload, rendered when asked.

``eligibility_check.evidence`` (JSON) keeps everything the evidence report states (the
answer and grounds as shown, behaviour names in both languages, rule set and data
digests, inputs, software versions); the report (HTML in Chinese or English) is worded
from it when asked. Checks stored before keep their report in ``evidence_html`` (which
stays, nullable) and are served as stored.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``eligibility_check.evidence`` (a plain ADD COLUMN: the table's append-only
    triggers stay)."""
    op.add_column("eligibility_check", sa.Column("evidence", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``eligibility_check.evidence`` (the reports of checks stored since are
    lost: the payloads were their only copy)."""
    op.drop_column("eligibility_check", "evidence")
