"""Sign in (staff and regulators; the public may browse without an account). A
successful sign-in returns to the page that asked for it (``?next=``)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from creditindex.ui import data, nav, oidc
from creditindex.ui.i18n import t
from creditindex.ui.timefmt import local_time
from creditindex.ui.widgets import current_user, sign_in


def _next_page() -> str:
    wanted = str(st.query_params.get("next", "") or "")
    return wanted if wanted in nav.BY_NAME and wanted != "signin" else "rankings"


def render() -> None:
    """The sign-in page."""
    st.title(t("signin.title"))
    user = current_user()
    if user.signed_in:
        st.info(t("auth.signed_in_as", user=user.username, role=t(f"role.{user.role}")))
        return
    provider = oidc.configured()
    unknown = st.session_state.get(oidc.UNKNOWN_KEY)
    if unknown:
        st.warning(t("signin.oidc_unknown", email=unknown))
    if provider is not None:
        st.caption(t("signin.oidc_caption"))
        if st.button(t("signin.oidc_button"), key="si_oidc", type="primary",
                     icon=":material/badge:"):
            oidc.log_in(provider)
        st.caption(t("signin.or_password"))
    else:
        st.caption(t("signin.caption"))
    with st.form("signin", clear_on_submit=False):
        name = st.text_input(t("signin.username"), key="si_user", autocomplete="username")
        password = st.text_input(t("signin.password"), type="password", key="si_password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(t("signin.submit"), type="primary")
    if submitted:
        outcome = sign_in(name or "", password or "")
        if outcome == "ok":
            nav.go(_next_page())
        if outcome == "locked":
            until = st.session_state.get("_locked_until")
            st.error(t("signin.locked_until", time=local_time(until))
                     if isinstance(until, dt.datetime) else t("signin.locked"))
        else:
            st.error(t(f"signin.{outcome}"))
    if data.is_sample():
        with st.container(border=True):
            st.markdown(f"**{t('signin.demo_title')}**")
            st.caption(t("signin.demo_caption"))
            st.table({t("signin.username"): [u for u, _p, _r in data.DEMO_USERS],
                      t("signin.password"): [p for _u, p, _r in data.DEMO_USERS],
                      t("col.role"): [t(f"role.{r}") for _u, _p, r in data.DEMO_USERS]})


if __name__ == "__main__":
    render()
