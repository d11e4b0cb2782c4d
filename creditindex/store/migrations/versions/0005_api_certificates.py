"""API keys, check certificates and tender credit points.

E-bidding platforms query eligibility over HTTP with API keys (kept as sha256, scoped,
revocable, every use logged); every check gets a certificate (资格核查证明) with a
number and a verification code; a tender's credit points (信用分) are computed by the
regulator's formula on the bid deadline and frozen with the check they came from.

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-30
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_first = importlib.import_module("creditindex.store.migrations.versions.0001_initial")
MYSQL = _first.MYSQL
big_id = _first.big_id
id_column = _first.id_column
append_only = _first.append_only

APPEND_ONLY = ("api_key_use", "check_certificate", "tender_formula", "tender_points")


def upgrade() -> None:
    """Create the tables of API keys, certificates and tender points."""
    op.create_table(
        "api_key",
        id_column(),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("client", sa.String(255), nullable=False),
        sa.Column("scopes", sa.String(128), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_key_key_id")),
        **MYSQL,
    )
    op.create_table(
        "api_key_use",
        id_column(),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("millis", sa.Double(), nullable=False),
        sa.Column("check_id", big_id(), nullable=True),
        sa.ForeignKeyConstraint(["check_id"], ["eligibility_check.id"],
                                name=op.f("fk_api_key_use_check_id_eligibility_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_use")),
        **MYSQL,
    )
    op.create_index(op.f("ix_api_key_use_key_id_at"), "api_key_use", ["key_id", "at"])
    op.create_table(
        "check_certificate",
        sa.Column("check_id", big_id(), autoincrement=False, nullable=False),
        sa.Column("check_no", sa.String(32), nullable=False),
        sa.Column("verify_code", sa.String(32), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("operator", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("api_key_id", sa.String(32), nullable=True),
        sa.Column("project_no", sa.String(255), nullable=True),
        sa.Column("project_name", sa.String(255), nullable=True),
        sa.Column("lot_no", sa.String(255), nullable=True),
        sa.Column("lot_name", sa.String(255), nullable=True),
        sa.Column("category", sa.String(16), nullable=True),
        sa.Column("financier", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["eligibility_check.id"],
                                name=op.f("fk_check_certificate_check_id_eligibility_check")),
        sa.PrimaryKeyConstraint("check_id", name=op.f("pk_check_certificate")),
        sa.UniqueConstraint("check_no", name=op.f("uq_check_certificate_check_no")),
        sa.UniqueConstraint("verify_code", name=op.f("uq_check_certificate_verify_code")),
        **MYSQL,
    )
    op.create_table(
        "tender_formula",
        id_column(),
        sa.Column("tender_no", sa.String(64), nullable=False),
        sa.Column("formula", sa.JSON(), nullable=False),
        sa.Column("formula_hash", sa.String(64), nullable=False),
        sa.Column("defined_by", sa.String(64), nullable=False),
        sa.Column("defined_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_formula")),
        **MYSQL,
    )
    op.create_index(op.f("ix_tender_formula_tender_no"), "tender_formula", ["tender_no"])
    op.create_table(
        "tender_points",
        id_column(),
        sa.Column("tender_no", sa.String(64), nullable=False),
        sa.Column("formula_id", big_id(), nullable=False),
        sa.Column("check_id", big_id(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_name", sa.String(255), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("credit_index", sa.Double(), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.Column("frozen_by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["eligibility_check.id"],
                                name=op.f("fk_tender_points_check_id_eligibility_check")),
        sa.ForeignKeyConstraint(["formula_id"], ["tender_formula.id"],
                                name=op.f("fk_tender_points_formula_id_tender_formula")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_points")),
        sa.UniqueConstraint("tender_no", "subject_id",
                            name=op.f("uq_tender_points_tender_no_subject_id")),
        **MYSQL,
    )
    for name in APPEND_ONLY:
        append_only(name)


def downgrade() -> None:
    """Drop them again (with their triggers)."""
    for name in ("tender_points", "tender_formula", "check_certificate", "api_key_use",
                 "api_key"):
        op.drop_table(name)
