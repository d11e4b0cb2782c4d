"""Sign-in through the platform's identity provider (OpenID Connect, ``st.login``) where
configured: the configuration is recognised, the verified address maps to an account
and its role, an unknown address browses as the public and is told so, and without
configuration the sign-in page is the password form alone."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from creditindex.service.auth import User
from creditindex.store import sessions
from creditindex.store.audit import audit_trail
from creditindex.store.db import get_engine, table, write_transaction
from creditindex.store.users import add_user
from creditindex.ui import oidc
from creditindex.ui.i18n import t
from tests.ui.uihelpers import APP, PAGES, no_exception

SHARED = {"redirect_uri": "https://credit.example.gov.cn/oauth2callback",
          "cookie_secret": "a-long-random-secret-for-the-cookie"}
CLIENT = {"client_id": "creditindex", "client_secret": "s3cret",
          "server_metadata_url": "https://sso.example.gov.cn/.well-known/openid-configuration"}
EMAIL = "Zhang.San@Centre.example.gov.cn"


@pytest.mark.parametrize(("section", "expected"), [
    (None, None),
    ({}, None),
    (CLIENT, None),                                   # no redirect_uri / cookie_secret
    ({**SHARED, "client_id": "x"}, None),             # provider settings incomplete
    ({**SHARED, **CLIENT}, oidc.Provider(None)),      # all in [auth]
    ({**SHARED, "platform": CLIENT}, oidc.Provider("platform")),  # [auth.platform]
    ({**SHARED, "my_sso": CLIENT}, None),             # Streamlit allows no "_" in names
    ({**SHARED, **CLIENT, "cookie_secret": "  "}, None),
])
def test_the_configuration_is_recognised(section: dict[str, Any] | None,
                                         expected: oidc.Provider | None) -> None:
    assert oidc.provider_of(section) == expected


def test_authlib_is_installed_for_st_login() -> None:
    assert oidc.authlib_ready()


def test_a_verified_address_maps_to_its_account_and_role(db: str) -> None:
    add_user(db, EMAIL, "regulator", "an unused password", by="setup")
    found = sessions.sign_in_verified(db, "zhang.san@centre.example.gov.cn")
    assert found.status == "ok" and found.user is not None
    assert (found.user.name, found.user.role) == (EMAIL, "regulator")
    assert found.token and sessions.session_user(db, found.token) is not None
    assert sessions.sign_in_verified(db, "li.si@centre.example.gov.cn").status == "unknown"
    users = table("app_user")
    with write_transaction(get_engine(db)) as conn:
        conn.execute(users.update().where(users.c.name == EMAIL).values(active=False))
    assert sessions.sign_in_verified(db, EMAIL).status == "unknown"  # deactivated
    assert audit_trail(db, action="signin.oidc").height == 1
    assert audit_trail(db, action="signin.oidc_unknown").height == 2


def _app(secrets: dict[str, Any] | None = None, user: dict[str, Any] | None = None,
         page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    if secrets is not None:
        at.secrets["auth"] = secrets
    if user is not None:
        at.user = user
    at.run()
    if page is not None:
        at.switch_page(f"{PAGES}/{page}.py").run()
    no_exception(at)
    return at


def _keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key}


def test_without_configuration_the_password_form_alone(db: str) -> None:
    at = _app(page="signin")
    assert "si_oidc" not in _keys(at)
    assert at.text_input(key="si_user") is not None
    assert t("signin.caption", "zh") in [c.value for c in at.caption]


def test_configured_sign_in_page_offers_the_platform_sign_in(db: str) -> None:
    at = _app(secrets={**SHARED, **CLIENT}, page="signin")
    assert at.button(key="si_oidc").label == t("signin.oidc_button", "zh") == "使用统一身份认证登录"
    assert at.text_input(key="si_user") is not None  # the password sign-in stays


def test_a_signed_in_platform_user_gets_the_role_of_their_account(db: str) -> None:
    add_user(db, EMAIL, "staff", "an unused password", by="setup")
    at = _app(secrets={**SHARED, **CLIENT},
              user={"is_logged_in": True, "email": EMAIL.lower(), "email_verified": True})
    assert at.session_state["user"] == User(EMAIL, "staff")
    assert audit_trail(db, action="signin.oidc").height == 1
    at.run()  # the next run keeps the session; no second sign-in is audited
    assert audit_trail(db, action="signin.oidc").height == 1


def test_an_unknown_address_browses_as_the_public_and_is_told(db: str) -> None:
    at = _app(secrets={**SHARED, "platform": CLIENT},
              user={"is_logged_in": True, "email": "visitor@example.com"})
    assert "user" not in at.session_state or not at.session_state["user"].signed_in
    told = t("signin.oidc_unknown", "zh", email="visitor@example.com")
    assert told in [w.value for w in at.sidebar.warning]
    at.switch_page(f"{PAGES}/signin.py").run()
    assert told in [w.value for w in at.warning]


def test_an_unverified_address_is_not_used(db: str) -> None:
    add_user(db, EMAIL, "staff", "an unused password", by="setup")
    at = _app(secrets={**SHARED, **CLIENT},
              user={"is_logged_in": True, "email": EMAIL, "email_verified": False})
    assert "user" not in at.session_state or not at.session_state["user"].signed_in
