"""The store's tables (SQLModel): the one declaration of every table and column. Code
reaches a table through :func:`creditindex.store.db.table`, which imports this module on
first use, so that a process that only reads through SQL (a check of a few subjects)
starts without SQLModel and the ORM. Penalty records are append-only: a revocation, an
objection or a repair is a dated row of ``record_event``; rule-set versions are immutable
once published; every change writes an ``audit_log`` row.

Column names avoid words some databases reserve (``index``, ``rank``, ``list``, ``user``).
Text that may be long uses ``Text`` (``MEDIUMTEXT``/``LONGTEXT`` on MySQL/MariaDB).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlmodel import Field, SQLModel

from creditindex.store.names import API_SCOPES as API_SCOPES
from creditindex.store.names import CHANNELS as CHANNELS
from creditindex.store.names import EVENT_KINDS as EVENT_KINDS
from creditindex.store.names import LOCKS as LOCKS
from creditindex.store.names import ROLES as ROLES
from creditindex.text_limits import LIST_TEXT, NAME, RECORD_TEXT, SUBJECT_ID, SUBJECT_TEXT

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
# Every table of the store (what Alembic compares the migrations with).
METADATA = SQLModel.metadata

# Every table is created with these options on MySQL/MariaDB (Chinese text needs utf8mb4).
MYSQL_TABLE_ARGS: dict[str, Any] = {"mysql_charset": "utf8mb4",
                                    "mysql_collate": "utf8mb4_bin",
                                    "mysql_engine": "InnoDB"}

# An auto-increment key that may outgrow 32 bits (SQLite's rowid is already 64-bit).
BigId = BigInteger().with_variant(Integer(), "sqlite")
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Lengths of canonical columns come from creditindex.text_limits (one declaration).
SubjectId = String(SUBJECT_ID)
Name = String(NAME)
UserName = String(64)


def _id() -> Any:
    return Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))


def _col(type_: Any, *args: Any, nullable: bool = False, **kwargs: Any) -> Any:
    default = None if nullable else ...
    return Field(default=default, sa_column=Column(type_, *args, nullable=nullable, **kwargs))


class AppUser(SQLModel, table=True):
    """A person who uses the store: ``public`` (may look things up and file objections),
    ``staff`` (imports, decisions, repairs, restrictions) or ``regulator`` (also publishes
    rule sets). Passwords are kept as salted scrypt hashes."""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("name"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    name: str = _col(UserName)
    role: str = _col(String(16))
    password_hash: str = _col(String(255))
    active: bool = _col(Boolean(), default=True)
    created_at: dt.datetime = _col(DateTime())
    created_by: str = _col(UserName)


class AuditLog(SQLModel, table=True):
    """Who changed what, when, with the state before and after (JSON)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_key"), Index(None, "at"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    at: dt.datetime = _col(DateTime())
    actor: str = _col(UserName)
    action: str = _col(String(64))
    entity: str = _col(String(64))
    entity_key: str = _col(String(255))
    before: Any = _col(JSON(), nullable=True)
    after: Any = _col(JSON(), nullable=True)


class RuleSetVersion(SQLModel, table=True):
    """A published rule set: its TOML text, named by the sha256 of that text, in force from
    ``effective_from`` until a later version takes over. Never changed once published."""

    __tablename__ = "rule_set_version"
    __table_args__ = (UniqueConstraint("content_hash"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    content_hash: str = _col(String(64))
    name: str = _col(Name)
    version: str = _col(String(64))
    toml_text: str = _col(LongText)
    effective_from: dt.date = _col(Date())
    published_by: str = _col(UserName)
    published_at: dt.datetime = _col(DateTime())
    note: str | None = _col(Text(), nullable=True)


class ImportBatch(SQLModel, table=True):
    """One import: the files read (name, sha256, rows) and what it added."""

    __tablename__ = "import_batch"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: int | None = _id()
    kind: str = _col(String(16))  # records | subjects | lists
    at: dt.datetime = _col(DateTime())
    by: str = _col(UserName)
    files: Any = _col(JSON())
    rules_hash: str | None = _col(String(64), nullable=True)
    added: int = _col(Integer(), default=0)
    changed: int = _col(Integer(), default=0)
    events: int = _col(Integer(), default=0)


class PenaltyRecord(SQLModel, table=True):
    """A penalty record as first imported (docs/semantics.md §2); never updated or deleted.
    ``revoked_on``/``repaired_on`` are the values its source carried when first imported;
    later revocations and repairs are ``record_event`` rows."""

    __tablename__ = "penalty_record"
    __table_args__ = (UniqueConstraint("source", "record_id"), Index(None, "import_id"),
                      # Added by revision 0002: answers for a few subjects read by this.
                      Index(None, "subject_id", "subject_type"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    source: str = _col(String(RECORD_TEXT["source"]))
    record_id: str = _col(String(RECORD_TEXT["record_id"]))
    industry: str = _col(String(RECORD_TEXT["industry"]))
    region: str = _col(String(RECORD_TEXT["region"]))
    subject_id: str = _col(String(RECORD_TEXT["subject_id"]))
    subject_name: str = _col(String(RECORD_TEXT["subject_name"]))
    subject_type: str = _col(String(RECORD_TEXT["subject_type"]))
    behaviour_code: str = _col(String(RECORD_TEXT["behaviour_code"]))
    decided_on: dt.date = _col(Date())
    recorded_on: dt.date = _col(Date())
    document_no: str | None = _col(String(RECORD_TEXT["document_no"]), nullable=True)
    revoked_on: dt.date | None = _col(Date(), nullable=True)
    repaired_on: dt.date | None = _col(Date(), nullable=True)
    restrict_until: dt.date | None = _col(Date(), nullable=True)  # 9999-12-31: permanent
    restrict_scope: str | None = _col(String(RECORD_TEXT["restrict_scope"]), nullable=True)
    authority: str | None = _col(String(RECORD_TEXT["authority"]), nullable=True)
    basis: str | None = _col(Text(), nullable=True)
    publish_until: dt.date | None = _col(Date(), nullable=True)
    import_id: int = _col(BigId, ForeignKey("import_batch.id"))


class RecordEvent(SQLModel, table=True):
    """A dated step in a record's life. ``effective_on`` is the day it takes effect: for
    ``revoked`` the record's revoked_on, for ``repair_granted`` its repaired_on.
    ``objection_decided`` carries ``outcome`` (upheld | rejected) and points at the
    objection it decides; an upheld objection also writes ``revoked``."""

    __tablename__ = "record_event"
    __table_args__ = (Index(None, "record_pk"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    record_pk: int = _col(BigId, ForeignKey("penalty_record.id"))
    kind: str = _col(String(32))
    effective_on: dt.date = _col(Date())
    outcome: str | None = _col(String(16), nullable=True)
    refers_to: int | None = _col(BigId, ForeignKey("record_event.id"), nullable=True)
    reason: str | None = _col(Text(), nullable=True)
    # Added by revision 0002: the decision document (决定书文号) of a ruling or repair.
    document_no: str | None = _col(Name, nullable=True)
    origin: str = _col(String(16))  # staff | import
    import_id: int | None = _col(BigId, ForeignKey("import_batch.id"), nullable=True)
    by: str = _col(UserName)
    at: dt.datetime = _col(DateTime())


class Subject(SQLModel, table=True):
    """A registered subject (from a subjects file): counted at full marks without records;
    its name and country are used for list matching."""

    __tablename__ = "subject"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    subject_id: str = Field(sa_column=Column(String(SUBJECT_TEXT["subject_id"]),
                                              primary_key=True))
    subject_type: str = Field(sa_column=Column(String(SUBJECT_TEXT["subject_type"]),
                                                primary_key=True))
    subject_name: str = _col(String(SUBJECT_TEXT["subject_name"]))
    country: str | None = _col(String(SUBJECT_TEXT["country"]), nullable=True)
    import_id: int | None = _col(BigId, ForeignKey("import_batch.id"), nullable=True)


class ListEntry(SQLModel, table=True):
    """An external list entry (docs/semantics.md §7), keyed by (list, entry_id)."""

    __tablename__ = "list_entry"
    __table_args__ = (UniqueConstraint("list_name", "entry_id"),
                      # Added by revision 0007: a few subjects' entries found by id.
                      Index(None, "subject_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    list_name: str = _col(String(LIST_TEXT["list"]))
    entry_id: str = _col(String(LIST_TEXT["entry_id"]))
    subject_id: str | None = _col(String(LIST_TEXT["subject_id"]), nullable=True)
    name: str | None = _col(Text(), nullable=True)
    country: str | None = _col(String(LIST_TEXT["country"]), nullable=True)
    listed_on: dt.date = _col(Date())
    until: dt.date | None = _col(Date(), nullable=True)
    grounds: str | None = _col(Text(), nullable=True)
    scope: str | None = _col(String(LIST_TEXT["scope"]), nullable=True)
    financier: str | None = _col(String(LIST_TEXT["financier"]), nullable=True)
    source_row: int | None = _col(BigInteger(), nullable=True)
    import_id: int = _col(BigId, ForeignKey("import_batch.id"))


class ManualRestriction(SQLModel, table=True):
    """A restriction entered by staff: ``start`` through ``until`` inclusive (null:
    indefinite), in every role, industry and region."""

    __tablename__ = "manual_restriction"
    __table_args__ = (Index(None, "subject_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    subject_id: str = _col(SubjectId)
    start: dt.date = _col(Date())
    until: dt.date | None = _col(Date(), nullable=True)
    reason: str = _col(Text())
    document_no: str | None = _col(Name, nullable=True)
    entered_by: str = _col(UserName)
    entered_at: dt.datetime = _col(DateTime())
    approved_by: str | None = _col(UserName, nullable=True)


class EvaluationRun(SQLModel, table=True):
    """One stored daily evaluation: the day, as known on ``known_on``, by the rule set
    ``rules_hash``. A day is evaluated again only when the data changed; a new result is
    a new ``revision`` (earlier ones are kept, as published then)."""

    __tablename__ = "evaluation_run"
    __table_args__ = (UniqueConstraint("day", "rules_hash", "revision"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    day: dt.date = _col(Date())
    known_on: dt.date = _col(Date())
    rules_hash: str = _col(String(64))
    rule_set_id: int = _col(BigId, ForeignKey("rule_set_version.id"))
    revision: int = _col(Integer())
    data_version: int = _col(BigInteger())
    digest: str = _col(String(64))
    n_subjects: int = _col(Integer())
    started_at: dt.datetime = _col(DateTime())
    finished_at: dt.datetime = _col(DateTime())
    by: str = _col(UserName)
    # Added by revision 0007: a run stored as the changes from this earlier run (its
    # snapshot rows are the subjects whose answer differs); null: stored whole.
    parent_run_id: int | None = _col(BigId, ForeignKey("evaluation_run.id"), nullable=True)


def _typed(type_: Any) -> Any:
    """A non-null column of ``type_`` declared in a base class that several tables share
    (each table gets its own ``Column``; ``_col``'s one ``Column`` cannot be shared)."""
    return Field(sa_type=type_, nullable=False)


def _typed_or_null(type_: Any) -> Any:
    """:func:`_typed`, nullable."""
    return Field(default=None, sa_type=type_, nullable=True)


class AnswerColumns(SQLModel):
    """One subject's answer on a day, as the store keeps it (the columns of ``compute``
    but the rank): shared by ``snapshot_row`` and ``subject_spell``."""

    subject_id: str = Field(sa_type=SubjectId, primary_key=True, nullable=False)
    subject_type: str = Field(sa_type=String(16), primary_key=True, nullable=False)
    subject_name: str | None = _typed_or_null(Name)
    credit_index: float = _typed(Double())
    grade: str = _typed(String(32))
    watch: str | None = _typed_or_null(String(64))
    deducted: float = _typed(Double())
    restricted: bool = _typed(Boolean())
    restricted_in: str | None = _typed_or_null(String(128))
    reasons: str = _typed(Text())


class StandingColumns(AnswerColumns):
    """An answer with the days it holds until: ``next_change``, the first later day on
    which it may change (null: never, unless new facts arrive), and ``decays_until``, the
    last day of a linear decay it is on (``subject_spell``'s)."""

    next_change: dt.date | None = _typed_or_null(Date())
    decays_until: dt.date | None = _typed_or_null(Date())


class SnapshotRow(AnswerColumns, table=True):
    """One subject's answer in a stored evaluation (the columns of ``compute``)."""

    __tablename__ = "snapshot_row"
    # a page of a day's ranking by an indexed, LIMITed query (revision 0008)
    __table_args__ = (Index(None, "run_id", "subject_type", "credit_index", "subject_id"),
                      MYSQL_TABLE_ARGS)

    run_id: int = Field(sa_column=Column(BigId, ForeignKey("evaluation_run.id"),
                                         primary_key=True))
    type_rank: int = _typed(Integer())


class SubjectState(SQLModel, table=True):
    """The daily job's state (revision 0007): every subject's answer on the state's day
    and ``next_change``, the first later day on which that answer may change (null:
    never, unless new facts arrive), and ``decays_until``, the last day of a linear decay
    it is on. The daily job recomputes only the subjects due and those with new facts.
    The answer itself is the subject's row of run ``answer_run_id`` in ``snapshot_row``
    (revision 0012: a stored answer is never changed, and a row of ~1 KB of reasons
    rewritten for every move of its days cost a catch-up most of what it wrote)."""

    __tablename__ = "subject_state"
    __table_args__ = (Index(None, "next_change"), Index(None, "decays_until"),
                      MYSQL_TABLE_ARGS)

    subject_id: str = Field(sa_type=SubjectId, primary_key=True, nullable=False)
    subject_type: str = Field(sa_type=String(16), primary_key=True, nullable=False)
    # the run whose snapshot row of the subject is this answer (revision 0012; null only
    # inside the transaction that stores it)
    answer_run_id: int | None = _col(BigId, nullable=True)
    next_change: dt.date | None = _typed_or_null(Date())
    decays_until: dt.date | None = _typed_or_null(Date())
    # the run whose decay_ledger rows this answer decays along (revision 0008)
    decay_run_id: int | None = _col(BigId, nullable=True)


class LedgerRowColumns(SQLModel):
    """The columns of one ledger row along which a stored answer decays linearly, as the
    engine has them (days are integers, days since 1970-01-01): shared by
    ``decay_ledger`` and ``spell_ledger``."""

    subject_id: str = _typed(SubjectId)
    subject_type: str = _typed(String(16))
    source: str = _typed(String(128))
    record_id: str = _typed(String(128))
    behaviour_code: str = _typed(String(64))
    decided: int = _typed(Integer())
    end_day: int = _typed(Integer())
    nominal_end: int = _typed(Integer())
    days: int = _typed(Integer())
    amount: float = _typed(Double())
    is_linear: bool = _typed(Boolean())


class DecayLedger(LedgerRowColumns, table=True):
    """The ledger rows along which a stored answer decays (revision 0008): a snapshot row
    of run ``run_id`` whose subject has rows here is the start of a linear decay, and
    the subject's answer on a later day read through that run is derived from these rows
    (:func:`creditindex.daily.decayed_answer`) instead of being stored day by day. Rows
    as known on the run's day, still counting after it; days are integers (days since
    1970-01-01), as inside the engine."""

    __tablename__ = "decay_ledger"
    __table_args__ = (Index(None, "run_id", "subject_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    run_id: int = _col(BigId, ForeignKey("evaluation_run.id"))


class SubjectSpell(StandingColumns, table=True):
    """A subject's answer ahead (revision 0009): the state row it gets on ``from_day``,
    one of its change points after the day it was last recomputed from its records and
    before any fact in the store becomes known (a record recorded, revoked or repaired
    later). Derived state: replaced whenever the subject is recomputed from its records;
    the daily job takes it instead of reading them (:mod:`creditindex.store.spells`)."""

    __tablename__ = "subject_spell"
    __table_args__ = (Index(None, "from_day"), MYSQL_TABLE_ARGS)

    from_day: dt.date = Field(sa_type=Date(), primary_key=True, nullable=False)


class SpellLedger(LedgerRowColumns, table=True):
    """The ledger rows along which a subject's spells that decay linearly decay
    (revision 0009): as known when its spells were computed, still counting after that
    day; days are integers, as in ``decay_ledger``."""

    __tablename__ = "spell_ledger"
    __table_args__ = (Index(None, "subject_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()


class DecaySpell(SQLModel, table=True):
    """A decaying answer stored with run ``run_id`` that decays along its subject's
    stored spell ledger rows (revision 0011): those still counting after ``after_day``
    (the run's day; days since 1970-01-01) are the run's ledger rows for the subject,
    read as if kept in ``decay_ledger`` instead of copied there day by day. They are
    copied there, and the row goes, before the subject's spells are replaced
    (:func:`creditindex.store.spells.replace_spells`)."""

    __tablename__ = "decay_spell"
    __table_args__ = (Index(None, "subject_id"), MYSQL_TABLE_ARGS)

    run_id: int = Field(sa_column=Column(BigId, ForeignKey("evaluation_run.id"),
                                         primary_key=True))
    subject_id: str = Field(sa_column=Column(SubjectId, primary_key=True))
    subject_type: str = Field(sa_column=Column(String(16), primary_key=True))
    after_day: int = _col(Integer())


class EvaluationState(SQLModel, table=True):
    """Where the daily job's state stands (one row, ``id`` 1, revision 0007): the run it
    belongs to, its day and rule set, and the newest row of each input table it has
    seen, so that the next run reads only what arrived since."""

    __tablename__ = "evaluation_state"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    run_id: int = _col(BigId, ForeignKey("evaluation_run.id"))
    day: dt.date = _col(Date())
    rules_hash: str = _col(String(64))
    record_pk: int = _col(BigInteger())
    event_pk: int = _col(BigInteger())
    list_pk: int = _col(BigInteger())
    manual_pk: int = _col(BigInteger())
    batch_pk: int = _col(BigInteger())


class EligibilityCheck(SQLModel, table=True):
    """An eligibility check as answered: its inputs, the answer and the evidence report."""

    __tablename__ = "eligibility_check"
    __table_args__ = (Index(None, "check_day"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    created_at: dt.datetime = _col(DateTime())
    by: str = _col(UserName)
    check_day: dt.date = _col(Date())
    known_on: dt.date = _col(Date())
    subject_ids: str = _col(Text())
    rules_hash: str = _col(String(64))
    inputs: Any = _col(JSON())
    answer: Any = _col(JSON())
    # The evidence report as stored until revision 0010; since then its payload
    # (``evidence``), from which the report is rendered when asked.
    evidence_html: str | None = _col(LongText, nullable=True)
    evidence: Any = _col(JSON(), nullable=True)


class StoreLock(SQLModel, table=True):
    """Rows locked (``SELECT ... FOR UPDATE``) so that imports, lifecycle steps and
    evaluations of one store never interleave on PostgreSQL and MySQL/MariaDB."""

    __tablename__ = "store_lock"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    name: str = Field(sa_column=Column(String(32), primary_key=True))


# Facts the database refuses to change, delete, replace or truncate (migrations 0001, 0004).
APPEND_ONLY = ("penalty_record", "record_event", "rule_set_version", "audit_log",
               "snapshot_row", "eligibility_check")


class AppendOnlyGuard(SQLModel, table=True):
    """Never holds a row: its foreign keys reference every append-only table, and
    MySQL/MariaDB refuse ``TRUNCATE`` of a table another table's foreign key references
    (PostgreSQL refuses it by trigger, SQLite has no ``TRUNCATE``)."""

    __tablename__ = "append_only_guard"
    __table_args__ = (ForeignKeyConstraint(
        ["snapshot_run_id", "snapshot_subject_id", "snapshot_subject_type"],
        ["snapshot_row.run_id", "snapshot_row.subject_id", "snapshot_row.subject_type"]),
        MYSQL_TABLE_ARGS)

    id: int | None = _id()
    penalty_record_id: int | None = _col(BigId, ForeignKey("penalty_record.id"),
                                         nullable=True)
    record_event_id: int | None = _col(BigId, ForeignKey("record_event.id"), nullable=True)
    rule_set_version_id: int | None = _col(BigId, ForeignKey("rule_set_version.id"),
                                           nullable=True)
    audit_log_id: int | None = _col(BigId, ForeignKey("audit_log.id"), nullable=True)
    eligibility_check_id: int | None = _col(BigId, ForeignKey("eligibility_check.id"),
                                            nullable=True)
    snapshot_run_id: int | None = _col(BigId, nullable=True)
    snapshot_subject_id: str | None = _col(SubjectId, nullable=True)
    snapshot_subject_type: str | None = _col(String(16), nullable=True)


# --------------------------------------------------------------------------------------
# Added by revision 0005: API keys, check certificates, tender credit points.
# --------------------------------------------------------------------------------------

class ApiKey(SQLModel, table=True):
    """A client platform's API key: only the sha256 of its secret is kept. ``scopes`` is
    space-separated (:data:`API_SCOPES`); a revoked key keeps its row (``revoked_at``)."""

    __tablename__ = "api_key"
    __table_args__ = (UniqueConstraint("key_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    key_id: str = _col(String(32))
    client: str = _col(Name)
    scopes: str = _col(String(128))
    secret_sha256: str = _col(String(64))
    rate_per_minute: int | None = _col(Integer(), nullable=True)
    created_at: dt.datetime = _col(DateTime())
    created_by: str = _col(UserName)
    revoked_at: dt.datetime | None = _col(DateTime(), nullable=True)
    revoked_by: str | None = _col(UserName, nullable=True)


class ApiKeyUse(SQLModel, table=True):
    """One request made with an API key (or refused for it): what, when, the answer's
    status and, for a check, the check it stored."""

    __tablename__ = "api_key_use"
    __table_args__ = (Index(None, "key_id", "at"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    key_id: str = _col(String(32))
    at: dt.datetime = _col(DateTime())
    method: str = _col(String(8))
    path: str = _col(String(255))
    status: int = _col(Integer())
    millis: float = _col(Double())
    check_id: int | None = _col(BigId, ForeignKey("eligibility_check.id"), nullable=True)


class CheckCertificate(SQLModel, table=True):
    """The certificate (资格核查证明) of a stored check: its number, its verification code,
    who asked through which channel, for which project and lot, and everything the
    certificate states (``payload``), frozen when the check was made."""

    __tablename__ = "check_certificate"
    __table_args__ = (UniqueConstraint("check_no"), UniqueConstraint("verify_code"),
                      MYSQL_TABLE_ARGS)

    check_id: int = Field(sa_column=Column(BigId, ForeignKey("eligibility_check.id"),
                                           primary_key=True, autoincrement=False))
    check_no: str = _col(String(32))
    verify_code: str = _col(String(32))
    issued_at: dt.datetime = _col(DateTime())
    operator: str = _col(Name)
    channel: str = _col(String(16))
    api_key_id: str | None = _col(String(32), nullable=True)
    project_no: str | None = _col(Name, nullable=True)
    project_name: str | None = _col(Name, nullable=True)
    lot_no: str | None = _col(Name, nullable=True)
    lot_name: str | None = _col(Name, nullable=True)
    category: str | None = _col(String(16), nullable=True)
    financier: str | None = _col(String(64), nullable=True)
    payload: Any = _col(JSON())


class TenderFormula(SQLModel, table=True):
    """The credit-points formula (信用分) a regulator set for one tender; a new definition
    is a new row, the newest before the points are frozen applies."""

    __tablename__ = "tender_formula"
    __table_args__ = (Index(None, "tender_no"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    tender_no: str = _col(String(64))
    formula: Any = _col(JSON())
    formula_hash: str = _col(String(64))
    defined_by: str = _col(UserName)
    defined_at: dt.datetime = _col(DateTime())


class TenderPoints(SQLModel, table=True):
    """One bidder's credit points for a tender, frozen on the bid deadline with the check
    they came from and the formula used."""

    __tablename__ = "tender_points"
    __table_args__ = (UniqueConstraint("tender_no", "subject_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    tender_no: str = _col(String(64))
    formula_id: int = _col(BigId, ForeignKey("tender_formula.id"))
    check_id: int = _col(BigId, ForeignKey("eligibility_check.id"))
    deadline: dt.datetime = _col(DateTime())
    subject_id: str = _col(SubjectId)
    subject_name: str | None = _col(Name, nullable=True)
    eligible: bool = _col(Boolean())
    credit_index: float = _col(Double())
    grade: str = _col(String(32))
    points: float = _col(Double())
    frozen_at: dt.datetime = _col(DateTime())
    frozen_by: str = _col(UserName)


class AppSession(SQLModel, table=True):
    """A signed-in browser session: the sha256 of its random token (the browser keeps the
    token in a cookie), whose it is, and until when it is good. Signing out ends it."""

    __tablename__ = "app_session"
    __table_args__ = (UniqueConstraint("token_hash"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    token_hash: str = _col(String(64))
    user_name: str = _col(UserName)
    created_at: dt.datetime = _col(DateTime())
    expires_at: dt.datetime = _col(DateTime())
    ended_at: dt.datetime | None = _col(DateTime(), nullable=True)


class SignInAttempt(SQLModel, table=True):
    """Every sign-in attempt, kept on the server so that the lockout of an account
    survives reloads and new browsers: the name tried, when, and whether it succeeded."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index(None, "user_name", "at"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    user_name: str = _col(UserName)
    at: dt.datetime = _col(DateTime())
    ok: bool = _col(Boolean())


class ApprovalRequest(SQLModel, table=True):
    """A change that needs a second person (maker-checker): publishing a rule set, adding,
    lifting or amending a manual restriction. ``payload`` holds what will be done."""

    __tablename__ = "approval_request"
    __table_args__ = (Index(None, "kind"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    kind: str = _col(String(32))
    payload: Any = _col(JSON())
    proposed_by: str = _col(UserName)
    proposed_at: dt.datetime = _col(DateTime())
    note: str | None = _col(Text(), nullable=True)


class ApprovalDecision(SQLModel, table=True):
    """The second person's decision on an approval request (one per request)."""

    __tablename__ = "approval_decision"
    __table_args__ = (UniqueConstraint("request_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    request_id: int = _col(BigId, ForeignKey("approval_request.id"))
    outcome: str = _col(String(16))  # approved | rejected | withdrawn
    decided_by: str = _col(UserName)
    decided_at: dt.datetime = _col(DateTime())
    note: str | None = _col(Text(), nullable=True)
    result_key: str | None = _col(String(255), nullable=True)


class RestrictionChange(SQLModel, table=True):
    """A manual restriction lifted or amended: from ``effective_on`` its end is
    ``until`` (a lift ends it the day before ``effective_on``). Dated, named, audited."""

    __tablename__ = "restriction_change"
    __table_args__ = (Index(None, "restriction_id"), MYSQL_TABLE_ARGS)

    id: int | None = _id()
    restriction_id: int = _col(BigId, ForeignKey("manual_restriction.id"))
    kind: str = _col(String(16))  # lift | amend
    effective_on: dt.date = _col(Date())
    until: dt.date | None = _col(Date(), nullable=True)
    reason: str = _col(Text())
    document_no: str | None = _col(Name, nullable=True)
    by: str = _col(UserName)
    approved_by: str | None = _col(UserName, nullable=True)
    at: dt.datetime = _col(DateTime())
