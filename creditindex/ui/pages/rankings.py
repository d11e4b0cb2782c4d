"""Rankings: every firm of a type on a day, filtered, searched, paged, downloadable; a
click on a row opens its profile. Experts' indices are staff-only (evaluation committees
are confidential until the award), so the public sees firms only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
import streamlit as st

from creditindex.regions import region_name
from creditindex.service import days
from creditindex.service.auth import Permission
from creditindex.store.day_pages import DayPage
from creditindex.ui import data, nav, reasons, tables, widgets
from creditindex.ui.i18n import current_lang, labeller, lang_key, t
from creditindex.ui.widgets import day_pickers, guard, label, show_table, type_picker

PAGE_SIZES = (25, 50, 100, 200)
SHOWN = ["rank", "public_id", "subject_name", "index", "grade", "watch", "restricted",
         "deducted", "region", "reasons"]
EXPORTED = ["rank", "subject_id", "subject_type", "subject_name", "index", "grade", "watch",
            "deducted", "restricted", "region", "region_name", "reasons"]


def region_label(code: str) -> str:
    """A region's name from the GB/T 2260 table (the bare code when it is not there)."""
    return region_name(code) or str(code)


def _filters(frame: pl.DataFrame, known_on: dt.date) -> tables.RankingFilter:
    rules = data.rules()
    with st.expander(t("rankings.filters"), expanded=False, icon=":material/filter_list:"):
        cols = st.columns([1, 1, 1, 1])
        grades = cols[0].multiselect(t("filter.grade"), [g.name for g in rules.grade],
                                     key="rk_grades", placeholder=t("filter.any"))
        industries = cols[1].multiselect(t("filter.industry"), data.industries(),
                                         key=lang_key("rk_industries"),
                                         placeholder=t("filter.any"),
                                         format_func=labeller("industry"))
        regions = cols[2].multiselect(t("filter.region"),
                                      sorted(frame.get_column("region").unique().to_list()),
                                      key="rk_regions", placeholder=t("filter.any"),
                                      format_func=region_label)
        restricted = cols[3].selectbox(t("filter.restricted"), (None, True, False),
                                       key=lang_key("rk_restricted"),
                                       format_func=labeller("filter.restricted"))
    query = st.text_input(t("filter.search"), key="rk_query",
                          placeholder=t("filter.search_hint"))
    return tables.RankingFilter(
        grades=tuple(grades), regions=tuple(regions),
        industry_ids=data.subjects_in_industries(industries, known_on) if industries
        else None,
        restricted=restricted, query=query or "")


def _downloads(shown: pl.DataFrame, stype: str, on: dt.date) -> None:
    """CSV and Excel of every row shown (not only this page), made when asked for: the
    identifiers masked for public view, region names added, formulas neutralised."""
    def made(fmt: str) -> Callable[[], bytes]:
        def build() -> bytes:
            frame = shown.with_columns(pl.col("region").map_elements(
                region_name, return_dtype=pl.String).alias("region_name"))
            return tables.export_bytes(tables.mask_frame(frame.select(
                [c for c in EXPORTED if c in frame.columns])), fmt)
        return build

    stem = f"rankings_{stype}_{on}"
    cols = st.columns([1, 1, 4])
    cols[0].download_button(t("rankings.download_csv"), made("csv"),
                            file_name=f"{stem}.csv", mime="text/csv", key="rk_csv",
                            icon=":material/download:")
    cols[1].download_button(
        t("rankings.download_xlsx"), made("xlsx"),
        file_name=f"{stem}.xlsx", key="rk_xlsx", icon=":material/download:",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _with_watch(rows: pl.DataFrame) -> pl.DataFrame:
    """The grade's watch label (关注 / 重点关注) in the session's language."""
    if "watch" not in rows.columns:
        return rows.with_columns(pl.lit("").alias("watch"))
    values = rows.get_column("watch").drop_nulls().unique().to_list()
    mapping = {v: labeller("watch")(v) for v in values if v}
    return rows.with_columns(pl.col("watch").cast(pl.String).replace(mapping).fill_null(""))


def _table(rows: pl.DataFrame, stype: str, view: str) -> None:
    """The page's rows as a grid; a click on a row opens that subject's profile (the
    row is found by its position in the rows given, whatever order the grid is sorted
    in on screen)."""
    shown = _with_watch(rows.with_columns(tables.shorten("reasons", 60)))
    event = show_table(
        shown, SHOWN, key="rk_table", on_select="rerun",
        selection_mode="single-row",
        config={"subject_name": st.column_config.TextColumn(label("subject_name"),
                                                            width="medium", pinned=True),
                "reasons": st.column_config.TextColumn(label("reasons"), width="large"),
                "index": st.column_config.NumberColumn(label("index"), format="%.2f"),
                "deducted": st.column_config.NumberColumn(label("deducted"),
                                                          format="%.2f")})
    picked = getattr(getattr(event, "selection", None), "rows", None) or []
    if picked:
        row = rows.row(int(picked[0]), named=True)
        nav.open_profile(str(row["subject_id"]), stype)
    _open_picker(rows, stype, view)


def _light_table(rows: pl.DataFrame, stype: str) -> None:
    """The first page's rows as a plain HTML table, drawn as soon as the page's text
    (the grid's code, 1.3 MB of JavaScript with Arrow, is not needed): each row a link
    to its subject's profile (the profile's deep link, in this tab)."""
    shown = _with_watch(rows.with_columns(tables.shorten("reasons", 60)))
    links = [nav.profile_link(str(sid), stype)
             for sid in rows.get_column("subject_id").to_list()]
    widgets.link_table(shown, SHOWN, key="rk_table", link_column="subject_name",
                       links=links, wide=("reasons",))
    _open_picker(rows, stype, "first")


def _open_picker(rows: pl.DataFrame, stype: str, view: str) -> None:
    """Open one of the page's subjects by picking it from a list (keyboards, screen
    readers)."""
    if rows.height:
        ids = rows.get_column("subject_id").to_list()
        names = dict(zip(ids, (f"{r}. {n} ({p})" for r, n, p in zip(
            rows.get_column("rank"), rows.get_column("subject_name").fill_null(""),
            rows.get_column("public_id"), strict=True)), strict=True))
        pick_col, open_col = st.columns([4, 1], vertical_alignment="bottom")
        choice = pick_col.selectbox(t("rankings.open_subject"), ids, key=f"rk_pick_{view}",
                                    format_func=lambda s: names.get(s, s))
        if open_col.button(t("rankings.open"), key="rk_open", type="primary") and choice:
            nav.open_profile(str(choice), stype)


def _first_page(page: DayPage, stype: str, on: dt.date) -> None:
    """The first page of a published day read alone (the whole day is still loading):
    its rows and the day's totals; filters, search and paging come with the whole day."""
    st.subheader(t("rankings.answer_for", day=on, type=t(f"type.{stype}")))
    m = st.columns(4)
    m[0].metric(t("rankings.subjects"), f"{page.subjects:,}")
    m[1].metric(t("rankings.matching"), f"{page.subjects:,}")
    m[2].metric(t("rankings.restricted"), f"{page.restricted:,}")
    m[3].metric(t("rankings.mean_index"),
                "-" if page.mean_index is None else f"{page.mean_index:.2f}")
    st.info(t("rankings.loading_rest"), icon=":material/hourglass_top:")
    rows = days.prepare_rankings(page.rows).get(stype, page.rows.clear())
    size = PAGE_SIZES[1]
    st.caption(t("rankings.page_info", page=1, pages=tables.page_count(page.subjects, size),
                 first=min(page.subjects, 1), last=min(page.subjects, size),
                 total=page.subjects))
    st.caption(t("rankings.click_hint_first"))
    restricted_ids = rows.filter(pl.col("restricted")).get_column("subject_id").to_list()
    rows = rows.with_columns(reasons.reasons_column(
        rows, data.grounds_for(restricted_ids, on, on),
        data.behaviour_names(current_lang(), on)))
    _light_table(rows, stype)


@st.fragment(run_every=3)
def _whole_day_arrives(on: dt.date) -> None:
    """Show the whole ranking (filters, search, paging) once the day is loaded."""
    if data.day_loaded(on):
        st.rerun(scope="app")


def render() -> None:
    """The rankings page."""
    user = guard(Permission.VIEW)
    st.title(t("rankings.title"))
    st.caption(t("rankings.caption"))
    types = data.visible_types(user)
    stype = type_picker("rk_type", types) or types[0]
    on, known_on = day_pickers("rk")
    quick = data.first_page(on, stype, PAGE_SIZES[1]) if known_on == on else None
    if quick is not None:
        _first_page(quick, stype, on)
        data.first_page_shown()
        _whole_day_arrives(on)
        return
    with st.spinner(t("rankings.computing")):
        ranking = data.rankings(on, known_on)
    frame = ranking.of(stype)
    filt = _filters(frame, known_on)
    shown = tables.filter_rankings(frame, filt)
    st.subheader(t("rankings.answer_for", day=on, type=t(f"type.{stype}")))

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
                             max_visible_pages=5)
    rows = tables.page_of(shown, page, size, reverse=lowest_first)
    st.caption(t("rankings.page_info", page=page, pages=pages,
                 first=min(shown.height, (page - 1) * size + 1),
                 last=min(shown.height, page * size), total=shown.height))
    st.caption(t("rankings.click_hint"))
    restricted_ids = rows.filter(pl.col("restricted")).get_column("subject_id").to_list()
    rows = rows.with_columns(reasons.reasons_column(
        rows, data.grounds_for(restricted_ids, on, known_on),
        data.behaviour_names(current_lang(), on)))
    _table(rows, stype, f"{st.session_state['rk_view']}_{page}_{size}")
    _downloads(shown, stype, on)
    with st.expander(t("rankings.distribution"), expanded=False):
        _grade_distribution(shown)


def _grade_distribution(shown: pl.DataFrame) -> None:
    """Subjects per grade, in the rule set's order, as a table with a bar in each row:
    drawn by the grid the ranking already loaded (a chart would fetch about 1 MB more of
    the browser's code for a handful of numbers)."""
    counts = tables.grade_counts(shown, [g.name for g in data.rules().grade])
    most = counts.get_column("subjects").max()
    show_table(counts, key="rk_grade_counts", width="content", config={
        "subjects": st.column_config.ProgressColumn(
            t("rankings.subjects"), format="%d", min_value=0,
            max_value=max(1, most if isinstance(most, int) else 0))})


if __name__ == "__main__":
    render()
