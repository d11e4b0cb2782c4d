"""The signed-in user's account: who and which role, and signing out."""

from __future__ import annotations

import streamlit as st

from creditindex.service.auth import GRANTS
from creditindex.ui import nav
from creditindex.ui.i18n import t
from creditindex.ui.widgets import current_user, sign_out


def render() -> None:
    """The account page."""
    st.title(t("account.title"))
    user = current_user()
    if not user.signed_in:
        st.info(t("auth.browsing_public"))
        return
    st.write(t("auth.signed_in_as", user=user.username, role=t(f"role.{user.role}")))
    st.markdown(f"**{t('account.may')}**")
    st.markdown("\n".join(f"- {t('perm.' + p.value)}" for p in sorted(GRANTS[user.role])))
    if st.button(t("account.sign_out"), key="acct_sign_out", type="primary"):
        sign_out()
        nav.go("rankings")


if __name__ == "__main__":
    render()
