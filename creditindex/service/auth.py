"""Who may do what. Roles and permissions are checked on the server for every action:
the service's actions call :func:`require` before touching the store (the app's pages
also call ``guard``), so hiding a button is never the only defence.

A visitor who has not signed in is a ``public`` user (rankings, profiles and eligibility
checks are public information); staff and regulators sign in with a password that the
store keeps only as an scrypt hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from creditindex.store.names import ROLES as ROLES
from creditindex.store.permissions import GRANTS as GRANTS
from creditindex.store.permissions import Permission as Permission
from creditindex.store.permissions import roles_with


@dataclass(frozen=True)
class User:
    """A signed-in user (or the anonymous public visitor)."""

    username: str
    role: str
    display_name: str = ""

    @property
    def signed_in(self) -> bool:
        """Whether this is an account rather than the anonymous visitor."""
        return bool(self.username)

    def may(self, permission: Permission) -> bool:
        """Whether the user's role grants ``permission`` (a filing keeps who filed it:
        the anonymous visitor may look, not file)."""
        if permission is Permission.OBJECT and not self.signed_in:
            return False
        return permission in GRANTS.get(self.role, frozenset())


ANONYMOUS = User(username="", role="public")


class PermissionDenied(Exception):
    """An action refused because the user's role does not allow it."""

    def __init__(self, user: User, permission: Permission) -> None:
        self.user = user
        self.permission = permission
        needs = " or ".join(roles_with(permission))
        super().__init__(f"user '{user.username}' is {user.role}; this needs {needs}"
                         if user.signed_in else f"this needs a signed-in user ({needs})")


def require(user: User | None, permission: Permission) -> User:
    """Return ``user`` if its role grants ``permission``; raise :class:`PermissionDenied`
    otherwise (``None`` is the anonymous public visitor)."""
    who = user or ANONYMOUS
    if not who.may(permission):
        raise PermissionDenied(who, permission)
    return who
