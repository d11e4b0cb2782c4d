"""Users and roles: ``public`` (look up, file objections), ``staff`` (imports, decisions,
repairs, restrictions) and ``regulator`` (also publishes rule sets). Passwords are stored
as salted scrypt hashes (``hashlib.scrypt``) and checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, text

from creditindex.store import audit
from creditindex.store.db import (
    StoreError,
    get_engine,
    read_transaction,
    table,
    utcnow,
    write_transaction,
)
from creditindex.store.migrations import ensure_schema
from creditindex.store.names import ROLES
from creditindex.store.permissions import Permission, roles_with

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _KEY_LEN = 2**14, 8, 1, 32


@dataclass(frozen=True)
class User:
    """A user as the app sees one."""

    id: int
    name: str
    role: str
    active: bool


def hash_password(password: str) -> str:
    """A salted scrypt hash: ``scrypt$n$r$p$salt$key`` (hex)."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                         p=_SCRYPT_P, dklen=_KEY_LEN)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${key.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password`."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(key)
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def add_user(url: str | None, name: str, role: str, password: str, by: str | None = None
             ) -> User:
    """Create a user; the audit row names ``by`` (default: the system actor), never the
    password or its hash."""
    clean = name.strip()
    if not clean:
        raise StoreError("a user needs a name")
    if role not in ROLES:
        raise StoreError(f"unknown role '{role}' (use {', '.join(ROLES)})")
    if len(password) < 8:
        raise StoreError("a password needs at least 8 characters")
    engine = get_engine(url)
    ensure_schema(engine)
    actor = by or audit.system_actor()
    users = table("app_user")
    with write_transaction(engine) as conn:
        if find_user(conn, clean) is not None:
            raise StoreError(f"user '{clean}' already exists")
        new_id = conn.execute(insert(users).values(
            name=clean, role=role, password_hash=hash_password(password), active=True,
            created_at=utcnow(), created_by=actor)).inserted_primary_key
        assert new_id is not None
        audit.record(conn, actor, "user.add", "app_user", clean,
                     after={"name": clean, "role": role, "active": True})
    return User(int(new_id[0]), clean, role, True)


def find_user(conn: Connection, name: str) -> User | None:
    """The user called ``name`` (active or not), or ``None``."""
    row = conn.execute(text("SELECT id, name, role, active FROM app_user WHERE name = :name")
                       .bindparams(name=name.strip())).first()
    return None if row is None else User(int(row.id), row.name, row.role, bool(row.active))


def find_user_by_email(conn: Connection, email: str) -> User | None:
    """The user whose name is the e-mail address ``email`` (letter case aside), active or
    not, or ``None``: accounts of people who sign in through the platform's identity
    provider (OpenID Connect) are named by the address the provider vouches for."""
    clean = email.strip().lower()
    if "@" not in clean:
        return None
    users = table("app_user")
    row = conn.execute(select(users.c.id, users.c.name, users.c.role, users.c.active)
                       .where(func.lower(users.c.name) == clean)
                       .order_by(users.c.id).limit(1)).first()
    return None if row is None else User(int(row.id), row.name, row.role, bool(row.active))


def require_user(conn: Connection, name: str, permission: Permission | None = None
                 ) -> User:
    """The active user ``name`` whose role grants ``permission`` (any role when none is
    named; :data:`creditindex.store.permissions.GRANTS`); refused otherwise."""
    allowed = ROLES if permission is None else roles_with(permission)
    user = find_user(conn, name)
    if user is None or not user.active:
        raise StoreError(f"unknown or inactive user '{name}' (add one with "
                         "`creditindex users add`)")
    if user.role not in allowed:
        raise StoreError(f"user '{user.name}' is {user.role}; this needs "
                         f"{' or '.join(allowed)}")
    return user


def refuse_unknown_user(url: str | None, name: str) -> User:
    """The active user ``name``, or :class:`InputError` (bad input: exit 2 on the command
    line) -- checked before any work is done in their name."""
    from creditindex.errors import InputError

    engine = get_engine(url)
    ensure_schema(engine)
    with read_transaction(engine) as conn:
        try:
            return require_user(conn, name)
        except StoreError as exc:
            raise InputError.one("--user", str(exc)) from exc


# A hash of no one's password, checked when a name is unknown (same cost as a real one).
_DUMMY_HASH = ("scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32)


def authenticate(url: str | None, name: str, password: str) -> User | None:
    """The active user ``name`` if ``password`` is theirs, else ``None``."""
    engine = get_engine(url)
    ensure_schema(engine)
    users = table("app_user")
    with read_transaction(engine) as conn:
        row = conn.execute(select(users).where(users.c.name == name.strip())).first()
    # The hash is computed whether or not the name exists: the time reveals nothing.
    matches = check_password(password, row.password_hash if row is not None else _DUMMY_HASH)
    if row is None or not row.active or not matches:
        return None
    return User(int(row.id), row.name, row.role, True)


def list_users(url: str | None = None) -> list[User]:
    """Every user, by name."""
    engine = get_engine(url)
    ensure_schema(engine)
    users = table("app_user")
    with read_transaction(engine) as conn:
        rows = conn.execute(select(users.c.id, users.c.name, users.c.role, users.c.active)
                            .order_by(users.c.name)).all()
    return [User(int(r.id), r.name, r.role, bool(r.active)) for r in rows]
