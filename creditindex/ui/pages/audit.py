"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from creditindex.ui import data, tables
from creditindex.ui.auth import Permission, PermissionDenied
from creditindex.ui.i18n import t
from creditindex.ui.widgets import guard, refuse, show_table

COLUMNS = ["id", "at", "actor", "action", "entity", "entity_key", "before", "after"]


def render() -> None:
    """The audit page."""
    user = guard(Permission.AUDIT)
    st.title(t("audit.title"))
    st.caption(t("audit.caption"))
    try:
        log = data.audit_log(user)
    except PermissionDenied as exc:
        refuse(exc)
        return
    c = st.columns([1, 1, 1, 2])
    actors = c[0].multiselect(t("audit.actor"), sorted(log.get_column("actor").unique()
                                                       .to_list()),
                              key="au_actor", placeholder=t("filter.any"))
    actions = c[1].multiselect(t("audit.action"), sorted(log.get_column("action").unique()
                                                         .to_list()),
                               key="au_action", placeholder=t("filter.any"))
    since = c[2].date_input(t("audit.since"), value=None, key="au_since",
                            format="YYYY-MM-DD")
    query = c[3].text_input(t("audit.search"), key="au_query")
    shown = log
    if actors:
        shown = shown.filter(pl.col("actor").is_in(actors))
    if actions:
        shown = shown.filter(pl.col("action").is_in(actions))
    if isinstance(since, dt.date):
        shown = shown.filter(pl.col("at").dt.date() >= since)
    if query:
        q = query.strip()
        shown = shown.filter(pl.col("entity_key").str.contains(q, literal=True)
                             | pl.col("after").fill_null("").str.contains(q, literal=True)
                             | pl.col("before").fill_null("").str.contains(q, literal=True))
    shown = shown.sort("id", descending=True)
    st.caption(t("audit.count", n=shown.height, total=log.height))
    show_table(shown.head(2000), COLUMNS, key="au_table")
    st.download_button(t("audit.download"),  # resident IDs masked in the export too
                       lambda: tables.export_bytes(tables.mask_frame(shown, ()), "csv"),
                       file_name="audit_log.csv", mime="text/csv", key="au_csv",
                       icon=":material/download:")


if __name__ == "__main__":
    render()
