"""The frame around every page: page set-up, language switch, the signed-in user and the
navigation menu of that user's pages."""

from __future__ import annotations

import streamlit as st

from creditindex.ui import auth, data, nav
from creditindex.ui.i18n import t
from creditindex.ui.widgets import current_user, language_switch


def main() -> None:
    """Run the app (``streamlit run app.py``)."""
    st.set_page_config(page_title=t("app.title"), page_icon=":material/monitoring:",
                       layout="wide")
    data.ensure_ready()
    language_switch()
    user = current_user()
    if user.signed_in:  # the store decides, on every run, who this is and what role
        user = data.refresh(user)
        st.session_state[auth.USER_KEY] = user
    page = st.navigation(nav.navigation(user))
    with st.sidebar:
        st.divider()
        if user.signed_in:
            st.caption(t("auth.signed_in_as", user=user.username,
                         role=t(f"role.{user.role}")))
        else:
            st.caption(t("auth.browsing_public"))
        if data.is_sample():
            st.caption(t("app.sample_notice"))
    page.run()
