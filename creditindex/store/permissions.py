"""Who may do what: the one table of roles and the permissions they grant. The store
enforces it on every change made in a user's name, whichever face asks (command line,
app, API), and the service checks it before calling the store
(:mod:`creditindex.service.auth`), so both faces follow one role model."""

from __future__ import annotations

from enum import StrEnum

from creditindex.store.names import ROLES


class Permission(StrEnum):
    """Things a user may be allowed to do."""

    VIEW = "view"            # rankings, public profiles, eligibility checks
    OBJECT = "object"        # file an objection or a repair application (the filer is kept)
    IMPORT = "import"        # import penalty records and list entries, store the day
    LIFECYCLE = "lifecycle"  # decide objections, grant repairs, manual restrictions
    AUDIT = "audit"          # read the audit log
    RULES = "rules"          # edit, try and publish rule sets
    CONFIDENTIAL = "confidential"  # experts' data, unpublished records, stored checks


GRANTS: dict[str, frozenset[Permission]] = {
    "public": frozenset({Permission.VIEW, Permission.OBJECT}),
    "staff": frozenset({Permission.VIEW, Permission.OBJECT, Permission.IMPORT,
                        Permission.LIFECYCLE, Permission.AUDIT, Permission.CONFIDENTIAL}),
    "regulator": frozenset({Permission.VIEW, Permission.OBJECT, Permission.RULES,
                            Permission.AUDIT, Permission.CONFIDENTIAL}),
}
assert set(GRANTS) == set(ROLES)


def roles_with(permission: Permission) -> tuple[str, ...]:
    """The roles that grant ``permission``, in the order of :data:`ROLES`."""
    return tuple(role for role in ROLES if permission in GRANTS[role])
