"""Who is signed in, across reloads and deep links.

Signing in starts a session in the store (:mod:`creditindex.store.sessions`: lockout per
account, audited attempts, constant work); the browser keeps the session's random token
in a cookie (``SameSite=Strict``, expiring with the session, ``Secure`` over HTTPS).
Streamlit reads the cookies the browser sent when the page was loaded
(``st.context.cookies``), so a reload, a bookmark or a typed URL finds the session again;
writing the cookie needs a line of JavaScript in the page. Signing out ends the session
in the store, so a copied token is worthless afterwards.
"""

from __future__ import annotations

import json

import streamlit as st

from creditindex.service import auth
from creditindex.service.users import as_user
from creditindex.store import sessions

COOKIE = "creditindex_session"
USER_KEY = "user"  # the signed-in user in the session state
TOKEN_KEY = "_session_token"


def _cookie_token() -> str:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser request (a test run): no cookies
        return ""
    return str(value or "")


def restore(url: str) -> auth.User | None:
    """The user of the session whose token the browser sent (``None``: none, expired or
    ended). Asked on every run without a signed-in user: one indexed look-up."""
    token = _cookie_token()
    if not token:
        return None
    found = sessions.session_user(url, token)
    if found is None:
        return None
    st.session_state[TOKEN_KEY] = token
    return as_user(found)


def still_valid(url: str) -> bool:
    """Whether the session this Streamlit session signed in with is still open (an
    account signed in without a browser session, as in tests, counts as valid)."""
    token = st.session_state.get(TOKEN_KEY)
    return not token or sessions.session_user(url, str(token)) is not None


def sign_in(url: str, name: str, password: str) -> sessions.SignIn:
    """Sign in; on success the user and the session's token go into session state
    (the cookie is written by :func:`sync_cookie` on this and later runs)."""
    outcome = sessions.sign_in(url, name, password)
    if outcome.status == "ok" and outcome.user is not None:
        st.session_state[USER_KEY] = as_user(outcome.user)
        st.session_state[TOKEN_KEY] = outcome.token
    return outcome


def sign_in_verified(url: str, email: str) -> sessions.SignIn:
    """Sign in the account named by ``email``, which the platform's identity provider has
    verified (:mod:`creditindex.ui.oidc`); like :func:`sign_in` on success."""
    outcome = sessions.sign_in_verified(url, email)
    if outcome.status == "ok" and outcome.user is not None:
        st.session_state[USER_KEY] = as_user(outcome.user)
        st.session_state[TOKEN_KEY] = outcome.token
    return outcome


def sign_out(url: str) -> None:
    """End the session in the store and forget it here."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        sessions.end_session(url, str(token))
    st.session_state.pop(USER_KEY, None)


def sync_cookie() -> None:
    """Make the browser's cookie match this session: written after signing in, removed
    after signing out (a script element without any visible content)."""
    token = st.session_state.get(TOKEN_KEY)
    sent = _cookie_token()
    if token and token != sent:
        age = sessions.session_hours() * 3600
        script = (f"document.cookie = {json.dumps(COOKIE)} + '=' + {json.dumps(str(token))}"
                  f" + '; Max-Age={age}; Path=/; SameSite=Strict'"
                  " + (location.protocol === 'https:' ? '; Secure' : '');")
    elif not token and sent:
        script = (f"document.cookie = {json.dumps(COOKIE)} + '=; Max-Age=0; Path=/; "
                  "SameSite=Strict';")
    else:
        return
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)
