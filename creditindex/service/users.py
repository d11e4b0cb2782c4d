"""Users as the faces see them: a signed-in user as the store knows them now, and the
audit log (staff and regulators only)."""

from __future__ import annotations

import polars as pl

from creditindex.service.auth import ANONYMOUS, Permission, User, require
from creditindex.service.state import ActionError, ready_engine
from creditindex.store.audit import audit_trail
from creditindex.store.db import StoreError, read_transaction
from creditindex.store.users import User as Account
from creditindex.store.users import find_user, require_user


def as_user(account: Account) -> User:
    """A store account as the user the faces check permissions of."""
    return User(username=account.name, role=account.role)


def account(url: str, name: str) -> User:
    """The active account ``name`` as a user (the command line's ``--user``); refused
    with :class:`~creditindex.service.state.ActionError` when unknown or inactive."""
    with read_transaction(ready_engine(url)) as conn:
        try:
            found = require_user(conn, name)
        except StoreError as exc:
            raise ActionError(str(exc)) from exc
    return as_user(found)


def refresh(url: str, user: User) -> User:
    """``user`` as the store knows them now: a deactivated account is signed out and a
    changed role takes effect at once."""
    if not user.signed_in:
        return user
    with read_transaction(ready_engine(url)) as conn:
        found = find_user(conn, user.username)
    if found is None or not found.active:
        return ANONYMOUS
    return as_user(found)


def audit_log(url: str, user: User) -> pl.DataFrame:
    """The whole audit log (staff and regulators only)."""
    require(user, Permission.AUDIT)
    ready_engine(url)
    return audit_trail(url)
