"""The frame around every page: page set-up, the signed-in user (found again after a
reload from the session cookie), the language switch, the menu of that user's pages,
sign-in or sign-out, and the banner saying what store this is."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from creditindex.service import auth
from creditindex.ui import data, hardening, nav, oidc, session
from creditindex.ui.i18n import LANG_KEY, LANGS, t
from creditindex.ui.widgets import CURRENT_PAGE_KEY, current_user, language_switch

# The browser tab's icon, served by the app itself (a ":material/...:" icon would make
# every browser fetch it from fonts.gstatic.com, which a centre's network may not reach).
PAGE_ICON = Path(__file__).resolve().parents[1] / "data" / "icon.png"


def _who() -> auth.User:
    """The user of this run: from session state, else from the browser's session
    cookie; the store decides on every run whether the account and its session are
    still good and what role it has."""
    url = data.db_url()
    user = current_user()
    if not user.signed_in:
        restored = session.restore(url)
        if restored is not None:
            user = restored
    if not user.signed_in:
        user = _verified_user(url) or user
    if user.signed_in:
        user = data.refresh(user) if session.still_valid(url) else auth.ANONYMOUS
        if not user.signed_in:
            session.sign_out(url)
        st.session_state[session.USER_KEY] = user
    return user


def _verified_user(url: str) -> auth.User | None:
    """The account of the address the platform's identity provider vouched for in this
    browser, looked up once per address and session (an unknown address is remembered,
    to be told, and browses as the public)."""
    if oidc.configured() is None:
        return None
    email = oidc.verified_email()
    if email is None or st.session_state.get(oidc.TRIED_KEY) == email:
        return None
    st.session_state[oidc.TRIED_KEY] = email
    outcome = session.sign_in_verified(url, email)
    if outcome.status != "ok":
        st.session_state[oidc.UNKNOWN_KEY] = email
        return None
    st.session_state.pop(oidc.UNKNOWN_KEY, None)
    return current_user()


def _menu(user: auth.User) -> None:
    """The links to the pages ``user`` may open, by section."""
    section = None
    for spec in nav.visible(user):
        if spec.section != section:
            section = spec.section
            st.caption(t(f"section.{section}"))
        st.page_link(nav.st_page(spec), label=t(f"page.{spec.name}"), icon=spec.icon)


def main() -> None:
    """Run the app (``streamlit run app.py``)."""
    linked = st.query_params.get(LANG_KEY)  # a link made in English (nav.profile_link)
    if LANG_KEY not in st.session_state and linked in LANGS:
        st.session_state[LANG_KEY] = linked
    st.set_page_config(page_title=t("app.title"), page_icon=str(PAGE_ICON), layout="wide")
    hardening.refuse_clear_cache()
    data.ensure_ready()
    user = _who()
    # Every page has a URL (a bookmark to a staff page finds it and asks to sign in);
    # the menu shows only the pages this user may open.
    page = st.navigation(nav.all_pages(), position="hidden")
    with st.sidebar:
        st.markdown(f"**{t('app.title')}**")
        _menu(user)
        st.divider()
        language_switch()
        if user.signed_in:
            st.caption(t("auth.signed_in_as", user=user.username,
                         role=t(f"role.{user.role}")))
        else:
            st.caption(t("auth.browsing_public"))
            unknown = st.session_state.get(oidc.UNKNOWN_KEY)
            if unknown:
                st.warning(t("signin.oidc_unknown", email=unknown))
        notice = data.store_notice()
        if notice:
            st.caption(t(notice))
        session.sync_cookie()
    st.session_state[CURRENT_PAGE_KEY] = page.url_path
    page.run()
