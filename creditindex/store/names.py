"""The store's closed vocabularies (roles, record event kinds, lock names, API scopes,
channels), importable without SQLModel: :mod:`creditindex.store.models` declares the
tables that hold them."""

from __future__ import annotations

ROLES = ("public", "staff", "regulator")
EVENT_KINDS = ("objection_filed", "objection_decided", "revoked", "repair_applied",
               "repair_granted")
LOCKS = ("records", "evaluate")
API_SCOPES = ("check", "read", "staff")
CHANNELS = ("cli", "app", "api")
