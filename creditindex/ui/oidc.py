"""Sign-in through the platform's identity provider (统一身份认证, OpenID Connect) where
the app's secrets configure it: Streamlit's ``st.login`` sends the person to the
provider, which vouches for their e-mail address (``st.user.email``); the account
named by that address (:func:`creditindex.store.users.find_user_by_email`) gives the
role. An address no active account has browses as the public, and is told so. Without
configuration the sign-in page offers the password sign-in alone.

Configuration (``.streamlit/secrets.toml``; see docs/security.md): an ``[auth]`` table
with ``redirect_uri`` (``https://<host>/oauth2callback``) and ``cookie_secret``, and the
provider's ``client_id``, ``client_secret`` and ``server_metadata_url`` either in
``[auth]`` itself or in one named table ``[auth.<name>]``. Needs ``Authlib>=1.3.2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import streamlit as st

SHARED = ("redirect_uri", "cookie_secret")
PROVIDER = ("client_id", "client_secret", "server_metadata_url")
TRIED_KEY = "_oidc_tried"      # the address this session has already looked up
UNKNOWN_KEY = "_oidc_unknown"  # a verified address no active account has


@dataclass(frozen=True)
class Provider:
    """A configured identity provider: ``name`` of its ``[auth.<name>]`` table, or
    ``None`` when the provider's settings are in ``[auth]`` itself."""

    name: str | None


def _filled(section: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    return all(isinstance(section.get(k), str) and section[k].strip() for k in keys)


def provider_of(section: Mapping[str, Any] | None) -> Provider | None:
    """The provider an ``[auth]`` secrets table configures, or ``None`` when it is
    missing or incomplete (the shared settings, then the provider's own, in ``[auth]``
    or in the first named table that has them all; Streamlit allows no ``_`` in the
    name)."""
    if not section or not _filled(section, SHARED):
        return None
    if _filled(section, PROVIDER):
        return Provider(None)
    for name, sub in section.items():
        if isinstance(sub, Mapping) and "_" not in str(name) and _filled(sub, PROVIDER):
            return Provider(str(name))
    return None


def authlib_ready() -> bool:
    """Whether Authlib (1.3.2 or later), which ``st.login`` needs, is installed."""
    try:
        found = version("Authlib")
    except PackageNotFoundError:
        return False
    parts = tuple(int(p) for p in found.split(".")[:3] if p.isdigit())
    return parts >= (1, 3, 2)


def _auth_section() -> Mapping[str, Any] | None:
    try:
        if not st.secrets.load_if_toml_exists():
            return None
        section = st.secrets.get("auth")
    except Exception:  # unreadable secrets: as good as none
        return None
    return section if isinstance(section, Mapping) else None


def configured() -> Provider | None:
    """The identity provider this app is configured for (``None``: password only)."""
    provider = provider_of(_auth_section())
    return provider if provider is not None and authlib_ready() else None


def _logged_in() -> bool:
    """``st.user.is_logged_in`` (absent, as in a test run, when nobody signed in)."""
    return bool(st.user.get("is_logged_in", False))


def verified_email() -> str | None:
    """The address the identity provider vouched for in this browser (``None``: nobody
    signed in there, or the provider says the address is not verified)."""
    user = st.user
    if not _logged_in():
        return None
    email = user.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    if user.get("email_verified") is False:
        return None
    return email.strip().lower()


def log_in(provider: Provider) -> None:
    """Send the browser to the identity provider."""
    if provider.name is None:
        st.login()
    else:
        st.login(provider.name)


def log_out() -> None:
    """Forget the identity provider's sign-in in this browser too (after signing out)."""
    if configured() is not None and _logged_in():
        st.logout()
