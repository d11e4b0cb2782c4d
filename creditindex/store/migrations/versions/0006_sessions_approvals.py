"""Sessions that survive reloads, a server-side sign-in lockout, the two-person rule and
dated lifts and amendments of manual restrictions.

Staff were signed out by every reload and the five-failure lockout reset with the
browser session; publishing a rule set or restricting a firm took one click by one
person; a manual restriction could not be lifted. This adds the browser sessions
(``app_session``: only the sha256 of each token), every sign-in attempt
(``sign_in_attempt``), requests and decisions of the two-person rule
(``approval_request``, ``approval_decision``), the changes of manual restrictions
(``restriction_change``) and who approved a manual restriction.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}
APPEND_ONLY = ("sign_in_attempt", "approval_request", "approval_decision",
               "restriction_change")


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit key (SQLite's INTEGER PRIMARY KEY is its 64-bit rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def id_column() -> sa.Column[int]:
    """The auto-increment primary key column ``id``."""
    return sa.Column("id", big_id(), autoincrement=True, nullable=False)


def append_only(table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on ``table`` (as in revision 0001)."""
    dialect = op.get_bind().dialect.name
    message = f"{table} is append-only: record a new fact instead"
    if dialect == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION creditindex_append_only()")
        return
    for action in ("UPDATE", "DELETE"):
        name = f"{table}_no_{action.lower()}"
        if dialect == "mysql":
            op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON {table} FOR EACH ROW "
                       f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'")
        else:
            op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def upgrade() -> None:
    """Create the tables and add ``manual_restriction.approved_by``."""
    op.create_table(
        "app_session",
        id_column(),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_app_session_token_hash")),
        **MYSQL,
    )
    op.create_table(
        "sign_in_attempt",
        id_column(),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempt")),
        **MYSQL,
    )
    op.create_index(op.f("ix_sign_in_attempt_user_name_at"), "sign_in_attempt",
                    ["user_name", "at"])
    op.create_table(
        "approval_request",
        id_column(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
        **MYSQL,
    )
    op.create_index(op.f("ix_approval_request_kind"), "approval_request", ["kind"])
    op.create_table(
        "approval_decision",
        id_column(),
        sa.Column("request_id", big_id(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("result_key", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["approval_request.id"],
                                name=op.f("fk_approval_decision_request_id_approval_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_decision")),
        sa.UniqueConstraint("request_id", name=op.f("uq_approval_decision_request_id")),
        **MYSQL,
    )
    op.create_table(
        "restriction_change",
        id_column(),
        sa.Column("restriction_id", big_id(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document_no", sa.String(255), nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["restriction_id"], ["manual_restriction.id"],
            name=op.f("fk_restriction_change_restriction_id_manual_restriction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restriction_change")),
        **MYSQL,
    )
    op.create_index(op.f("ix_restriction_change_restriction_id"), "restriction_change",
                    ["restriction_id"])
    with op.batch_alter_table("manual_restriction") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(64), nullable=True))
    for name in APPEND_ONLY:
        append_only(name)


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("manual_restriction") as batch:
        batch.drop_column("approved_by")
    for name in ("restriction_change", "approval_decision", "approval_request",
                 "sign_in_attempt", "app_session"):
        op.drop_table(name)
