"""Signing in to the app: a lockout per account kept in the store (so a reload or a new
browser does not reset it), every attempt audited, the same work done whether or not the
name exists (sign-in time reveals nothing), and browser sessions that survive reloads.

A session is a random token the browser keeps in a cookie; the store keeps only the
token's sha256, whose it is and when it expires. Signing out ends it on the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import Connection, Engine, insert, select, update

from creditindex.limits import env_int
from creditindex.store import audit
from creditindex.store.db import get_engine, read_transaction, table, utcnow, write_transaction
from creditindex.store.migrations import ensure_schema
from creditindex.store.sample import DEMO_PASSWORDS, is_demo_store
from creditindex.store.users import User, authenticate, find_user, find_user_by_email

MAX_FAILURES_ENV = "CREDITINDEX_SIGNIN_MAX_FAILURES"
LOCK_MINUTES_ENV = "CREDITINDEX_SIGNIN_LOCK_MINUTES"
SESSION_HOURS_ENV = "CREDITINDEX_SESSION_HOURS"
_NAME_LEN = 64


def max_failures() -> int:
    """Failed sign-ins in a row after which an account is locked (``5``)."""
    return env_int(MAX_FAILURES_ENV, 5)


def lock_minutes() -> int:
    """How long a locked account stays locked after its last failure (``15`` minutes)."""
    return env_int(LOCK_MINUTES_ENV, 15)


def session_hours() -> int:
    """How long a browser session lasts after signing in (``8`` hours)."""
    return env_int(SESSION_HOURS_ENV, 8)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: ``ok`` (with the user and a session token), ``failed``,
    ``locked`` (with the time it ends, UTC) or ``empty``. A demo password is refused on
    a production store (see :mod:`creditindex.store.sample`)."""

    status: str  # also ``unknown``: a verified e-mail address no active account has
    user: User | None = None
    token: str | None = None
    locked_until: dt.datetime | None = None


def _engine(url: str | None) -> Engine:
    engine = get_engine(url)
    ensure_schema(engine)
    return engine


def _clean(name: str) -> str:
    return name.strip()[:_NAME_LEN]


def locked_until(url: str | None, name: str, now: dt.datetime | None = None
                 ) -> dt.datetime | None:
    """When the lock of account ``name`` ends (UTC), or ``None`` when it is not locked:
    locked after :func:`max_failures` failures in a row, each within
    :func:`lock_minutes` of the next, until that long after the last one."""
    moment = now or utcnow()
    window = dt.timedelta(minutes=lock_minutes())
    attempts = table("sign_in_attempt")
    limit = max_failures()
    with read_transaction(_engine(url)) as conn:
        rows = conn.execute(select(attempts.c.at, attempts.c.ok).where(
            attempts.c.user_name == _clean(name)).order_by(attempts.c.id.desc())
            .limit(limit)).all()
    if len(rows) < limit or any(r.ok for r in rows):
        return None
    last: dt.datetime = rows[0].at
    if moment - last >= window:
        return None
    if any(newer.at - older.at >= window for newer, older in pairwise(rows)):
        return None
    return last + window


def _start_session(conn: Connection, user: User) -> str:
    """A new browser session of ``user``: its random token (the store keeps its hash)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    conn.execute(insert(table("app_session")).values(
        token_hash=token_hash(token), user_name=user.name, created_at=now,
        expires_at=now + dt.timedelta(hours=session_hours())))
    return token


def sign_in(url: str | None, name: str, password: str) -> SignIn:
    """Check ``name`` and ``password``; on success start a browser session. Every attempt
    is kept and audited (never the password); a locked account is refused without
    looking at the password. The password hash is computed whether or not the name
    exists, so the time taken reveals nothing."""
    clean = _clean(name)
    if not clean or not password:
        return SignIn("empty")
    if password in DEMO_PASSWORDS and not is_demo_store(url):
        authenticate(url, clean, password)  # the same work as any other attempt
        with write_transaction(_engine(url), lock="sessions") as conn:
            conn.execute(insert(table("sign_in_attempt")).values(
                user_name=clean, at=utcnow(), ok=False))
            audit.record(conn, clean, "signin.demo_refused", "app_user", clean)
        return SignIn("failed")
    until = locked_until(url, clean)
    if until is not None:
        authenticate(url, clean, password)  # the same work as any other attempt
        with write_transaction(_engine(url), lock="sessions") as conn:
            audit.record(conn, clean, "signin.locked", "app_user", clean,
                         after={"locked_until": until})
        return SignIn("locked", locked_until=until)
    user = authenticate(url, clean, password)
    with write_transaction(_engine(url), lock="sessions") as conn:
        conn.execute(insert(table("sign_in_attempt")).values(
            user_name=clean, at=utcnow(), ok=user is not None))
        if user is None:
            audit.record(conn, clean, "signin.failed", "app_user", clean)
            return SignIn("failed")
        token = _start_session(conn, user)
        audit.record(conn, user.name, "signin.ok", "app_user", user.name)
    return SignIn("ok", user=user, token=token)


def sign_in_verified(url: str | None, email: str) -> SignIn:
    """Start a browser session for the active account named by ``email``, an address the
    platform's identity provider (OpenID Connect) has just verified: ``ok`` with the
    user and a token, or ``unknown`` (no active account has that address: the person
    browses as the public). Both are audited; no password is involved."""
    clean = email.strip().lower()
    with write_transaction(_engine(url), lock="sessions") as conn:
        user = find_user_by_email(conn, clean) if clean else None
        if user is None or not user.active:
            audit.record(conn, clean or "-", "signin.oidc_unknown", "app_user", clean or "-")
            return SignIn("unknown")
        token = _start_session(conn, user)
        audit.record(conn, user.name, "signin.oidc", "app_user", user.name,
                     after={"email": clean})
    return SignIn("ok", user=user, token=token)


def token_hash(token: str) -> str:
    """The sha256 (hex) the store keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_user(url: str | None, token: str, now: dt.datetime | None = None
                 ) -> User | None:
    """The active user of a session token that has neither expired nor been ended."""
    if not token or len(token) > 256:
        return None
    sessions = table("app_session")
    moment = now or utcnow()
    with read_transaction(_engine(url)) as conn:
        row = conn.execute(select(sessions.c.user_name, sessions.c.expires_at,
                                  sessions.c.ended_at).where(
            sessions.c.token_hash == token_hash(token))).first()
        if row is None or row.ended_at is not None or row.expires_at <= moment:
            return None
        user = find_user(conn, row.user_name)
    return user if user is not None and user.active else None


def end_session(url: str | None, token: str) -> bool:
    """Sign out: end the session of ``token`` (audited). Whether one was open."""
    sessions = table("app_session")
    with write_transaction(_engine(url), lock="sessions") as conn:
        row = conn.execute(select(sessions.c.id, sessions.c.user_name).where(
            sessions.c.token_hash == token_hash(token),
            sessions.c.ended_at.is_(None))).first()
        if row is None:
            return False
        conn.execute(update(sessions).where(sessions.c.id == row.id).values(
            ended_at=utcnow()))
        audit.record(conn, row.user_name, "signout", "app_user", row.user_name)
    return True
