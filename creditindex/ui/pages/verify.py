"""Verify a check certificate (证明核验): anyone may enter a verification code and see
whether this centre issued the certificate, when, and what it says."""

from __future__ import annotations

import polars as pl
import streamlit as st

from creditindex.service.auth import Permission
from creditindex.ui import data
from creditindex.ui.i18n import t
from creditindex.ui.widgets import guard, show_table

COLUMNS = ["subject_name", "subject_id", "eligible", "index", "grade"]


def _verdict(eligible: bool) -> str:
    return t("verify.eligible") if eligible else t("verify.ineligible")


def render() -> None:
    """The verification page."""
    guard(Permission.VIEW)
    st.title(t("verify.title"))
    st.caption(t("verify.caption"))
    code = st.text_input(t("verify.code"), key="verify_code", max_chars=40)
    if not st.button(t("verify.run"), type="primary", key="verify_run",
                     disabled=not code.strip()):
        return
    found = data.verify_certificate(code)
    if found is None:
        st.error(t("verify.missing", code=code.strip().upper()))
        return
    p = found.payload
    project = " ".join(x for x in (p["project"]["no"], p["project"]["name"]) if x) or "-"
    st.success(t("verify.found", no=found.check_no, at=p["issued_at"].replace("T", " "),
                 operator=p["operator"]))
    st.write(t("verify.facts", project=project, on=p["on"], known=p["known_on"],
               verdict=_verdict(p["eligible"])))
    rows = list(p["subjects"]) + ([p["consortium"]] if p.get("consortium") else [])
    table = pl.DataFrame(rows).with_columns(
        pl.col("eligible").map_elements(_verdict, return_dtype=pl.String))
    show_table(table, COLUMNS, key="verify_table")
    st.download_button(t("verify.download"), data.certificate_pdf(found.payload),
                       file_name=f"{found.check_no}.pdf", mime="application/pdf",
                       key="verify_download", icon=":material/download:")


if __name__ == "__main__":
    render()
