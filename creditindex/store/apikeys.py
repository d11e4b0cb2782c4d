"""API keys of client platforms (e-bidding platforms, 电子招投标交易平台).

A key reads ``ci_<key_id>_<secret>``: ``key_id`` names the key (it is shown in lists and
logs), the secret is 256 random bits shown once when the key is made. Only the sha256 of
the secret is stored: a secret of that entropy needs no slow hash, and a request is
checked in microseconds. Keys are scoped (:data:`API_SCOPES`: ``check`` may run checks
and freeze credit points, ``read`` may read profiles, rankings and certificates,
``staff`` may also see experts and non-publishable records) and revoked, never deleted.
Adding and revoking write audit rows; every request made with a key is logged in
``api_key_use``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from creditindex.store import audit
from creditindex.store.db import (
    StoreError,
    get_engine,
    read_transaction,
    table,
    utcnow,
    write_gate,
    write_transaction,
)
from creditindex.store.migrations import ensure_schema
from creditindex.store.names import API_SCOPES

PREFIX = "ci"


@dataclass(frozen=True)
class ApiKey:
    """A key as the server and the command line see it (never its secret)."""

    key_id: str
    client: str
    scopes: tuple[str, ...]
    rate_per_minute: int | None
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """A key just made: the full key is shown once and never stored."""

    key: ApiKey
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Scopes in the stored order, refused when unknown or none."""
    wanted = {s.strip() for part in scopes for s in part.replace(",", " ").split() if s.strip()}
    unknown = sorted(wanted - set(API_SCOPES))
    if unknown:
        raise StoreError(f"unknown scope(s) {', '.join(unknown)} (use {', '.join(API_SCOPES)})")
    if not wanted:
        raise StoreError(f"a key needs at least one scope ({', '.join(API_SCOPES)})")
    return tuple(s for s in API_SCOPES if s in wanted)


def _row_key(row: object) -> ApiKey:
    r = row
    return ApiKey(r.key_id, r.client, tuple(r.scopes.split()),  # type: ignore[attr-defined]
                  r.rate_per_minute, r.created_at, r.created_by,  # type: ignore[attr-defined]
                  r.revoked_at)  # type: ignore[attr-defined]


def add_key(url: str | None, client: str, scopes: Sequence[str],
            rate_per_minute: int | None = None, by: str | None = None) -> NewKey:
    """Make a key for ``client`` with ``scopes``; returns it with its secret (shown once)."""
    name = client.strip()
    if not name:
        raise StoreError("a key needs the client platform's name")
    if rate_per_minute is not None and rate_per_minute < 1:
        raise StoreError("a request limit must be at least 1 per minute")
    chosen = parse_scopes(scopes)
    key_id = secrets.token_hex(6)
    secret = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    actor = by or audit.system_actor()
    engine = get_engine(url)
    ensure_schema(engine)
    keys = table("api_key")
    now = utcnow()
    with write_transaction(engine) as conn:
        conn.execute(insert(keys).values(
            key_id=key_id, client=name, scopes=" ".join(chosen), secret_sha256=_digest(secret),
            rate_per_minute=rate_per_minute, created_at=now, created_by=actor))
        audit.record(conn, actor, "apikey.add", "api_key", key_id,
                     after={"client": name, "scopes": list(chosen),
                            "rate_per_minute": rate_per_minute})
    return NewKey(ApiKey(key_id, name, chosen, rate_per_minute, now, actor, None), secret)


def revoke_key(url: str | None, key_id: str, by: str | None = None) -> ApiKey:
    """Revoke a key from now on (its row and its log stay)."""
    actor = by or audit.system_actor()
    engine = get_engine(url)
    ensure_schema(engine)
    keys = table("api_key")
    with write_transaction(engine) as conn:
        row = conn.execute(select(keys).where(keys.c.key_id == key_id.strip())).first()
        if row is None:
            raise StoreError(f"no API key '{key_id}'")
        if row.revoked_at is not None:
            raise StoreError(f"API key '{key_id}' was revoked on {row.revoked_at:%Y-%m-%d %H:%M}")
        now = utcnow()
        conn.execute(update(keys).where(keys.c.id == row.id).values(revoked_at=now,
                                                                    revoked_by=actor))
        audit.record(conn, actor, "apikey.revoke", "api_key", row.key_id,
                     before={"revoked_at": None}, after={"revoked_at": now})
        found = conn.execute(select(keys).where(keys.c.id == row.id)).one()
    return _row_key(found)


def list_keys(url: str | None = None) -> list[ApiKey]:
    """Every key, oldest first."""
    engine = get_engine(url)
    ensure_schema(engine)
    keys = table("api_key")
    with read_transaction(engine) as conn:
        rows = conn.execute(select(keys).order_by(keys.c.id)).all()
    return [_row_key(r) for r in rows]


def find_key(url: str | None, presented: str) -> tuple[ApiKey | None, str | None]:
    """The key a request presents and its key_id: ``(key, key_id)`` when the secret
    matches (revoked or not: the caller says which), ``(None, key_id)`` when the named
    key does not exist or the secret is wrong, ``(None, None)`` when it is not a key."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1]:
        return None, None
    key_id = parts[1]
    keys = table("api_key")
    with read_transaction(get_engine(url)) as conn:
        row = conn.execute(select(keys).where(keys.c.key_id == key_id)).first()
    if row is None or not hmac.compare_digest(row.secret_sha256, _digest(presented.strip())):
        return None, key_id
    return _row_key(row), key_id


@dataclass(frozen=True)
class Use:
    """One request made with a key."""

    key_id: str
    at: dt.datetime
    method: str
    path: str
    status: int
    millis: float
    check_id: int | None = None


def log_uses(url: str | None, uses: Sequence[Use]) -> None:
    """Store requests made with keys (one insert for a batch)."""
    if not uses:
        return
    engine = get_engine(url)
    with write_gate(engine), engine.begin() as conn:
        conn.execute(insert(table("api_key_use")), [
            {"key_id": u.key_id, "at": u.at, "method": u.method, "path": u.path[:255],
             "status": u.status, "millis": round(u.millis, 3), "check_id": u.check_id}
            for u in uses])


def key_uses(url: str | None, key_id: str | None = None, limit: int = 1000) -> list[Use]:
    """Requests logged for a key (or every key), newest first."""
    engine = get_engine(url)
    ensure_schema(engine)
    log = table("api_key_use")
    query = select(log).order_by(log.c.id.desc()).limit(limit)
    if key_id:
        query = query.where(log.c.key_id == key_id)
    with read_transaction(engine) as conn:
        rows = conn.execute(query).all()
    return [Use(r.key_id, r.at, r.method, r.path, int(r.status), float(r.millis), r.check_id)
            for r in rows]
