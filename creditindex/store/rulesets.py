"""Rule-set versions: regulators publish a rule file, which is stored as text, named by
its content hash and in force from its effective date until a later version takes over.
A published version is never changed; publishing the same text again changes nothing."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditindex.rules import DEFAULT_RULES, RuleSet, load_rules, parse_rules
from creditindex.store import audit
from creditindex.store.db import get_engine, read_transaction, table, utcnow, write_transaction
from creditindex.store.driver import Driver
from creditindex.store.migrations import ensure_schema
from creditindex.store.permissions import Permission

if TYPE_CHECKING:  # the rule set in force is read without SQLAlchemy on the direct path
    import polars as pl
    from sqlalchemy import Connection

# The project's default rule set, when a store that never had one published needs one,
# counts from this day.
DEFAULT_EFFECTIVE_FROM = dt.date(1970, 1, 1)
_parsed: dict[str, RuleSet] = {}


@dataclass(frozen=True)
class PublishedRules:
    """A published rule-set version and its parsed rules."""

    id: int
    content_hash: str
    name: str
    version: str
    effective_from: dt.date
    published_by: str
    published_at: dt.datetime
    rules: RuleSet
    new: bool = False  # published by this call


def _from_row(row: Any, new: bool = False) -> PublishedRules:
    m: Mapping[str, Any] = row if isinstance(row, Mapping) else row._mapping
    digest = str(m["content_hash"])
    if digest not in _parsed:
        _parsed[digest] = parse_rules(str(m["toml_text"]), f"rule set {m['name']} "
                                                           f"{m['version']}")
    return PublishedRules(
        id=int(str(m["id"])), content_hash=digest, name=str(m["name"]),
        version=str(m["version"]), effective_from=m["effective_from"],
        published_by=str(m["published_by"]),
        published_at=m["published_at"],
        rules=_parsed[digest], new=new)


def publish_text(conn: Connection, text: str, file: str, actor: str,
                 effective_from: dt.date, note: str | None = None) -> PublishedRules:
    """Publish rule-set text on ``conn`` (checked first; the same text twice is one version)."""
    from sqlalchemy import insert, select

    rules = parse_rules(text, file)
    versions = table("rule_set_version")
    existing = conn.execute(select(versions).where(
        versions.c.content_hash == rules.content_hash)).first()
    if existing is not None:
        return _from_row(existing)
    conn.execute(insert(versions).values(
        content_hash=rules.content_hash, name=rules.ruleset.name, version=rules.ruleset.version,
        toml_text=text, effective_from=effective_from, published_by=actor,
        published_at=utcnow(), note=note))
    row = conn.execute(select(versions).where(
        versions.c.content_hash == rules.content_hash)).one()
    audit.record(conn, actor, "rules.publish", "rule_set_version", rules.content_hash,
                 after={"id": row.id, "name": row.name, "version": row.version,
                        "content_hash": rules.content_hash,
                        "effective_from": effective_from, "note": note, "file": file})
    return _from_row(row, new=True)


def publish_rules(url: str | None, path: str | Path, user: str,
                  effective_from: dt.date | None = None, note: str | None = None
                  ) -> PublishedRules:
    """Publish the rule file ``path`` as ``user`` (a regulator), in force from
    ``effective_from`` (default: today). Raises ``InputError`` for a bad rule file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError:
        load_rules(p)  # raises InputError naming the file
        raise
    from creditindex.store.users import require_user

    engine = get_engine(url)
    ensure_schema(engine)
    with write_transaction(engine) as conn:
        who = require_user(conn, user, Permission.RULES)
        return publish_text(conn, text, str(p), who.name, effective_from or dt.date.today(),
                            note)


# The version in force on a day (one parameter, the day): the latest effective on or
# before it. One statement for the engine (``:day``) and the direct path (its marker).
IN_FORCE_SQL = ("SELECT id, content_hash, name, version, toml_text, effective_from, "
                "published_by, published_at FROM rule_set_version WHERE effective_from <= "
                "{day} ORDER BY effective_from DESC, id DESC LIMIT 1")


def in_force(conn: Connection | Driver, day: dt.date) -> PublishedRules | None:
    """The version in force on ``day``: the latest effective on or before it."""
    if isinstance(conn, Driver):
        return _in_force_direct(conn, day)
    from sqlalchemy import Date, DateTime, bindparam, text

    row = conn.execute(text(IN_FORCE_SQL.format(day=":day")).bindparams(
        bindparam("day", day, type_=Date())).columns(
        effective_from=Date(), published_at=DateTime())).first()
    return None if row is None else _from_row(row)


def _in_force_direct(driver: Driver, day: dt.date) -> PublishedRules | None:
    """:func:`in_force` through the driver: on SQLite the day is bound, and the dates
    and times read back, as SQLAlchemy's Date and DateTime types store them (ISO text)."""
    sqlite = driver.dialect == "sqlite"
    cursor = driver.execute(IN_FORCE_SQL.format(day="?" if sqlite else "%s"),
                            (day.isoformat() if sqlite else day,))
    try:
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    found = dict(zip(names, row, strict=True))
    if sqlite:
        found["effective_from"] = dt.date.fromisoformat(found["effective_from"])
        found["published_at"] = dt.datetime.fromisoformat(found["published_at"])
    return _from_row(found)


def version_by_id(conn: Connection, version_id: int) -> PublishedRules:
    """The published version with id ``version_id``."""
    from sqlalchemy import select

    versions = table("rule_set_version")
    return _from_row(conn.execute(select(versions).where(versions.c.id == version_id)).one())


def all_versions(conn: Connection) -> list[PublishedRules]:
    """Every published version, by effective date."""
    from sqlalchemy import select

    versions = table("rule_set_version")
    rows = conn.execute(select(versions).order_by(versions.c.effective_from,
                                                  versions.c.id)).all()
    return [_from_row(r) for r in rows]


def ensure_published(conn: Connection, day: dt.date, actor: str) -> PublishedRules:
    """The version in force on ``day``; a store that has none gets the project's default
    rule set published (by ``actor``, in force from 1970)."""
    found = in_force(conn, day)
    if found is not None:
        return found
    return publish_text(conn, DEFAULT_RULES.read_text(encoding="utf-8"), str(DEFAULT_RULES),
                        actor, DEFAULT_EFFECTIVE_FROM, note="default rule set, published "
                        "automatically for the first evaluation")


def rules_for(conn: Connection | Driver, rules_path: str | Path | None, day: dt.date) -> RuleSet:
    """``rules_path`` if given, else the version in force on ``day``, else the project's
    default rule set."""
    if rules_path is not None:
        return load_rules(rules_path)
    found = in_force(conn, day)
    return found.rules if found is not None else _default_rules()


@functools.cache
def _default_rules() -> RuleSet:
    # Parsed once per process: a server answering a store without a published version
    # would otherwise parse and validate the file on every request.
    return load_rules(None)


def list_versions(url: str | None = None, today: dt.date | None = None) -> pl.DataFrame:
    """Every published version with ``in_force`` marking the one in force today."""
    import polars as pl

    engine = get_engine(url)
    ensure_schema(engine)
    day = today or dt.date.today()
    with read_transaction(engine) as conn:
        versions = all_versions(conn)
        current = in_force(conn, day)
    return pl.DataFrame(
        [(v.id, v.name, v.version, v.content_hash, v.effective_from, v.published_by,
          v.published_at, current is not None and v.id == current.id) for v in versions],
        schema={"id": pl.Int64, "name": pl.String, "version": pl.String,
                "content_hash": pl.String, "effective_from": pl.Date,
                "published_by": pl.String, "published_at": pl.Datetime("us"),
                "in_force": pl.Boolean},
        orient="row")
