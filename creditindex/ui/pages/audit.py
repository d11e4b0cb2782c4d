"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import streamlit as st

from creditindex.service.auth import Permission, PermissionDenied
from creditindex.ui import data, tables
from creditindex.ui.i18n import has, labeller, t, tr
from creditindex.ui.widgets import VALUE_TEXTS, guard, refuse, show_table

COLUMNS = ["id", "at", "actor", "what", "entity_key", "details"]


def _value(value: Any, name: str | None = None) -> str:
    if isinstance(value, str) and name in VALUE_TEXTS:  # a code: its words
        return tr(VALUE_TEXTS[name], value)
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, list):
        return t("sep.list").join(_value(v, name) for v in value)
    if isinstance(value, dict):
        return t("sep.items").join(f"{_key(k)}{t('sep.label')}{_value(v, k)}"
                                   for k, v in value.items())
    return "-" if value is None else str(value)


def _key(name: str) -> str:
    return t(f"col.{name}") if has(f"col.{name}") else name


def details(before: str | None, after: str | None) -> str:
    """What changed, in words: each field with its label (before → after where both
    are known); resident ID numbers masked."""
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return tables.mask_text(str(after or before or ""))
    parts = []
    colon = t("sep.label")
    for name in dict.fromkeys([*new, *old]):
        if name in old and name in new and old[name] != new[name]:
            parts.append(f"{_key(name)}{colon}{_value(old[name], name)} → "
                         f"{_value(new[name], name)}")
        elif name in new:
            parts.append(f"{_key(name)}{colon}{_value(new[name], name)}")
        else:
            parts.append(f"{_key(name)}{colon}{_value(old[name], name)}")
    return tables.mask_text(t("sep.items").join(parts))


def plain(log: pl.DataFrame) -> pl.DataFrame:
    """The audit log in words: the action as a sentence, the details as labelled
    fields."""
    actions = log.get_column("action").unique().to_list()
    words = {a: tr("audit.act", a) for a in actions}
    return log.with_columns(
        pl.col("action").replace_strict(words, default=pl.col("action")).alias("what"),
        pl.Series("details", [details(b, a) for b, a in zip(
            log.get_column("before"), log.get_column("after"), strict=True)], pl.String))


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
                               key="au_action", placeholder=t("filter.any"),
                               format_func=labeller("audit.act"))
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
    show_table(plain(shown.head(2000)), COLUMNS, key="au_table", config={
        "details": st.column_config.TextColumn(t("col.details"), width="large")})
    st.download_button(t("audit.download"),  # resident IDs masked in the export too
                       lambda: tables.export_bytes(tables.mask_frame(shown, ()), "csv"),
                       file_name="audit_log.csv", mime="text/csv", key="au_csv",
                       icon=":material/download:")


if __name__ == "__main__":
    render()
