"""Rankings: every subject of a type on a day, filtered, searched, paged, downloadable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
import streamlit as st

from creditindex.rules import SUBJECT_TYPES
from creditindex.ui import charts, data, nav, tables
from creditindex.ui.auth import Permission
from creditindex.ui.i18n import labeller, lang_key, t
from creditindex.ui.widgets import day_pickers, guard, label, static_table, type_picker

PAGE_SIZES = (25, 50, 100, 200)
SHOWN = ["rank", "public_id", "subject_name", "index", "grade", "restricted", "deducted",
         "region", "reasons"]
EXPORTED = ["rank", "subject_id", "subject_type", "subject_name", "index", "grade",
            "deducted", "restricted", "region", "reasons"]


def _filters(frame: pl.DataFrame, known_on: dt.date) -> tables.RankingFilter:
    rules = data.rules()
    cols = st.columns([1, 1, 1, 1, 2])
    grades = cols[0].multiselect(t("filter.grade"), [g.name for g in rules.grade],
                                 key="rk_grades", placeholder=t("filter.any"))
    industries = cols[1].multiselect(t("filter.industry"), data.industries(),
                                     key=lang_key("rk_industries"),
                                     placeholder=t("filter.any"),
                                     format_func=labeller("industry"))
    regions = cols[2].multiselect(t("filter.region"),
                                  sorted(frame.get_column("region").unique().to_list()),
                                  key="rk_regions", placeholder=t("filter.any"),
                                  format_func=data.region_label)
    restricted = cols[3].selectbox(t("filter.restricted"), (None, True, False),
                                   key=lang_key("rk_restricted"),
                                   format_func=labeller("filter.restricted"))
    query = cols[4].text_input(t("filter.search"), key="rk_query",
                               placeholder=t("filter.search_hint"))
    return tables.RankingFilter(
        grades=tuple(grades), regions=tuple(regions),
        industry_ids=data.subjects_in_industries(industries, known_on) if industries
        else None,
        restricted=restricted, query=query or "")


def _downloads(shown: pl.DataFrame, stype: str, on: dt.date) -> None:
    """CSV and Excel of every row shown (not only this page), made when asked for: the
    identifiers masked for public view and formulas neutralised."""
    def made(fmt: str) -> Callable[[], bytes]:
        return lambda: tables.export_bytes(tables.mask_frame(shown.select(EXPORTED)), fmt)

    stem = f"rankings_{stype}_{on}"
    cols = st.columns([1, 1, 4])
    cols[0].download_button(t("rankings.download_csv"), made("csv"),
                            file_name=f"{stem}.csv", mime="text/csv", key="rk_csv",
                            icon=":material/download:")
    cols[1].download_button(
        t("rankings.download_xlsx"), made("xlsx"),
        file_name=f"{stem}.xlsx", key="rk_xlsx", icon=":material/download:",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def render() -> None:
    """The rankings page."""
    guard(Permission.VIEW)
    st.title(t("rankings.title"))
    st.caption(t("rankings.caption"))
    stype = type_picker("rk_type", SUBJECT_TYPES) or SUBJECT_TYPES[0]
    on, known_on = day_pickers("rk")
    with st.spinner(t("rankings.computing")):
        ranking = data.rankings(on, known_on)
    frame = ranking.of(stype)
    filt = _filters(frame, known_on)
    shown = tables.filter_rankings(frame, filt)

    m = st.columns(4)
    m[0].metric(t("rankings.subjects"), f"{frame.height:,}")
    m[1].metric(t("rankings.matching"), f"{shown.height:,}")
    m[2].metric(t("rankings.restricted"), f"{int(shown.get_column('restricted').sum()):,}")
    mean = shown.select(pl.col("index").mean()).item()
    m[3].metric(t("rankings.mean_index"), "-" if mean is None else f"{mean:.2f}")

    signature = (stype, on, known_on, bool(st.session_state.get("rk_lowest")), filt.grades,
                 filt.regions, filt.restricted, filt.query,
                 None if filt.industry_ids is None else filt.industry_ids.len())
    if st.session_state.get("rk_signature") != signature:  # new question: first page
        st.session_state["rk_signature"] = signature
        st.session_state["rk_view"] = st.session_state.get("rk_view", 0) + 1
    size_col, order_col, page_col = st.columns([1, 1, 4], vertical_alignment="bottom")
    size = size_col.selectbox(t("rankings.page_size"), PAGE_SIZES, index=1, key="rk_size")
    lowest_first = order_col.toggle(t("rankings.lowest_first"), key="rk_lowest")
    pages = tables.page_count(shown.height, size)
    with page_col:  # a new widget for each question, so the browser shows page 1 too
        page = st.pagination(pages, key=f"rk_page_{st.session_state['rk_view']}_{pages}",
                             max_visible_pages=9)
    rows = tables.page_of(shown, page, size, reverse=lowest_first)
    st.caption(t("rankings.page_info", page=page, pages=pages,
                 first=min(shown.height, (page - 1) * size + 1),
                 last=min(shown.height, page * size), total=shown.height))
    static_table(rows.with_columns(tables.shorten("reasons", 40)), SHOWN, key="rk_table")

    if rows.height:
        options = list(range(rows.height))
        pick_col, open_col = st.columns([4, 1], vertical_alignment="bottom")
        choice = pick_col.selectbox(
            t("rankings.open_subject"), options, key="rk_pick",
            format_func=lambda i: f"{rows['rank'][i]}. {rows['subject_name'][i]} "
                                  f"({rows['public_id'][i]})")
        if open_col.button(t("rankings.open"), key="rk_open", type="primary"):
            picked = rows.row(int(choice or 0), named=True)
            nav.open_profile(picked["subject_id"], stype)
    _downloads(shown, stype, on)
    counts = shown.group_by("grade").agg(pl.len().alias("subjects"))
    with st.expander(t("rankings.distribution"), expanded=False):
        st.altair_chart(charts.grade_bars(counts, [g.name for g in data.rules().grade],
                                          label("grade"), t("rankings.subjects")),
                        width="stretch")


if __name__ == "__main__":
    render()
