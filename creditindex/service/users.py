"""Users as the faces see them: a signed-in user as the store knows them now, and the
audit log (staff and regulators only)."""

from __future__ import annotations

import polars as pl

from creditindex.service.auth import ANONYMOUS, Permission, User, require
from creditindex.service.state import ready_engine
from creditindex.store.audit import audit_trail
from creditindex.store.db import read_transaction
from creditindex.store.users import find_user


def refresh(url: str, user: User) -> User:
    """``user`` as the store knows them now: a deactivated account is signed out and a
    changed role takes effect at once."""
    if not user.signed_in:
        return user
    with read_transaction(ready_engine(url)) as conn:
        found = find_user(conn, user.username)
    if found is None or not found.active:
        return ANONYMOUS
    return User(username=found.name, role=found.role)


def audit_log(url: str, user: User) -> pl.DataFrame:
    """The whole audit log (staff and regulators only)."""
    require(user, Permission.AUDIT)
    ready_engine(url)
    return audit_trail(url)
