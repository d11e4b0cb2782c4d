"""The first release of the store: subjects, append-only penalty records and their events,
external list entries, rule-set versions, daily evaluations and their snapshots,
eligibility checks, users and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin",
                         "mysql_engine": "InnoDB"}


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit key (SQLite's INTEGER PRIMARY KEY is its 64-bit rowid)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def long_text() -> sa.types.TypeEngine[str]:
    """Text that may exceed 64 KB on MySQL/MariaDB."""
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def id_column() -> sa.Column[int]:
    """The auto-increment primary key column ``id``."""
    return sa.Column("id", big_id(), autoincrement=True, nullable=False)


# Facts are never changed or deleted: the database refuses it, whoever asks.
APPEND_ONLY = ("penalty_record", "record_event", "rule_set_version", "audit_log",
               "snapshot_row", "eligibility_check")


def append_only(table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on ``table``."""
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
    """Create every table of the first release."""
    op.create_table(
        "app_user",
        id_column(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("name", name=op.f("uq_app_user_name")),
        **MYSQL,
    )
    op.create_table(
        "audit_log",
        id_column(),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("entity_key", sa.String(255), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        **MYSQL,
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_entity_entity_key"), "audit_log", ["entity", "entity_key"])
    op.create_table(
        "eligibility_check",
        id_column(),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("check_day", sa.Date(), nullable=False),
        sa.Column("known_on", sa.Date(), nullable=False),
        sa.Column("subject_ids", sa.Text(), nullable=False),
        sa.Column("rules_hash", sa.String(64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("evidence_html", long_text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_check")),
        **MYSQL,
    )
    op.create_index(op.f("ix_eligibility_check_check_day"), "eligibility_check", ["check_day"])
    op.create_table(
        "import_batch",
        id_column(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("rules_hash", sa.String(64), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
        **MYSQL,
    )
    op.create_table(
        "manual_restriction",
        id_column(),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document_no", sa.String(255), nullable=True),
        sa.Column("entered_by", sa.String(64), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_restriction")),
        **MYSQL,
    )
    op.create_index(op.f("ix_manual_restriction_subject_id"), "manual_restriction",
                    ["subject_id"])
    op.create_table(
        "rule_set_version",
        id_column(),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("toml_text", long_text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_set_version")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_rule_set_version_content_hash")),
        **MYSQL,
    )
    locks = op.create_table(
        "store_lock",
        sa.Column("name", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_lock")),
        **MYSQL,
    )
    op.bulk_insert(locks, [{"name": "records"}, {"name": "evaluate"}])
    op.create_table(
        "evaluation_run",
        id_column(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("known_on", sa.Date(), nullable=False),
        sa.Column("rules_hash", sa.String(64), nullable=False),
        sa.Column("rule_set_id", big_id(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("n_subjects", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["rule_set_id"], ["rule_set_version.id"],
                                name=op.f("fk_evaluation_run_rule_set_id_rule_set_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_run")),
        sa.UniqueConstraint("day", "rules_hash", "revision",
                            name=op.f("uq_evaluation_run_day_rules_hash_revision")),
        **MYSQL,
    )
    op.create_table(
        "list_entry",
        id_column(),
        sa.Column("list_name", sa.String(128), nullable=False),
        sa.Column("entry_id", sa.String(128), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("country", sa.String(64), nullable=True),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("grounds", sa.Text(), nullable=True),
        sa.Column("source_row", sa.BigInteger(), nullable=True),
        sa.Column("import_id", big_id(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["import_batch.id"],
                                name=op.f("fk_list_entry_import_id_import_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entry")),
        sa.UniqueConstraint("list_name", "entry_id", name=op.f("uq_list_entry_list_name_entry_id")),
        **MYSQL,
    )
    op.create_table(
        "penalty_record",
        id_column(),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("industry", sa.String(32), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_name", sa.String(255), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("behaviour_code", sa.String(64), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("document_no", sa.String(255), nullable=True),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("repaired_on", sa.Date(), nullable=True),
        sa.Column("import_id", big_id(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["import_batch.id"],
                                name=op.f("fk_penalty_record_import_id_import_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_record")),
        sa.UniqueConstraint("source", "record_id",
                            name=op.f("uq_penalty_record_source_record_id")),
        **MYSQL,
    )
    op.create_index(op.f("ix_penalty_record_import_id"), "penalty_record", ["import_id"])
    op.create_table(
        "subject",
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_name", sa.String(255), nullable=False),
        sa.Column("country", sa.String(64), nullable=True),
        sa.Column("import_id", big_id(), nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["import_batch.id"],
                                name=op.f("fk_subject_import_id_import_batch")),
        sa.PrimaryKeyConstraint("subject_id", "subject_type", name=op.f("pk_subject")),
        **MYSQL,
    )
    op.create_table(
        "record_event",
        id_column(),
        sa.Column("record_pk", big_id(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("refers_to", big_id(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("import_id", big_id(), nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["import_batch.id"],
                                name=op.f("fk_record_event_import_id_import_batch")),
        sa.ForeignKeyConstraint(["record_pk"], ["penalty_record.id"],
                                name=op.f("fk_record_event_record_pk_penalty_record")),
        sa.ForeignKeyConstraint(["refers_to"], ["record_event.id"],
                                name=op.f("fk_record_event_refers_to_record_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_event")),
        **MYSQL,
    )
    op.create_index(op.f("ix_record_event_record_pk"), "record_event", ["record_pk"])
    op.create_table(
        "snapshot_row",
        sa.Column("run_id", big_id(), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_name", sa.String(255), nullable=True),
        sa.Column("credit_index", sa.Double(), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("type_rank", sa.Integer(), nullable=False),
        sa.Column("deducted", sa.Double(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_run.id"],
                                name=op.f("fk_snapshot_row_run_id_evaluation_run")),
        sa.PrimaryKeyConstraint("run_id", "subject_id", "subject_type",
                                name=op.f("pk_snapshot_row")),
        **MYSQL,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION creditindex_append_only() RETURNS trigger "
                   "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = "
                   "TG_TABLE_NAME || ' is append-only: record a new fact instead'; END $$")
    for name in APPEND_ONLY:
        append_only(name)


def downgrade() -> None:
    """Drop every table (the store's data with it)."""
    for name in ("snapshot_row", "record_event", "subject", "penalty_record", "list_entry",
                 "evaluation_run", "store_lock", "rule_set_version", "manual_restriction",
                 "import_batch", "eligibility_check", "audit_log", "app_user"):
        op.drop_table(name)  # with its triggers
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION creditindex_append_only()")
