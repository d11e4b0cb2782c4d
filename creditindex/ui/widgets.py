"""Pieces every page shares: the signed-in user and the page guard, day pickers, tables
with translated headers, the list of problems of a refused input."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import polars as pl
import streamlit as st

from creditindex.errors import Problem
from creditindex.regions import region_name
from creditindex.service import auth
from creditindex.service import state as service_state
from creditindex.ui import session
from creditindex.ui.i18n import LANG_KEY, LANGS, current_lang, has, labeller, t
from creditindex.ui.reasons import scope_words
from creditindex.ui.timefmt import local_frame

# Columns whose codes are shown as catalogue texts (column -> catalogue prefix).
VALUE_TEXTS = {"subject_type": "type", "cause": "cause", "status": "status", "kind": "event",
               "outcome": "outcome", "role": "role", "industry": "industry",
               "batch_kind": "import.kind"}
KNOWN_KEY = "known_on"


def current_user() -> auth.User:
    """The user of this session (the anonymous public visitor until someone signs in).
    Session state lives on the server: the browser cannot set it."""
    user = st.session_state.get(session.USER_KEY)
    return user if isinstance(user, auth.User) else auth.ANONYMOUS


def guard(permission: auth.Permission) -> auth.User:
    """Stop the page unless the session's user may ``permission`` (server-side check;
    the navigation only hides what this refuses anyway)."""
    user = current_user()
    if not user.may(permission):
        if user.signed_in:
            st.title(t("auth.not_allowed"))
            st.error(t("auth.refused", role=t(f"role.{user.role}")))
        else:
            st.title(t("auth.sign_in_needed"))
            st.warning(t("auth.please_sign_in"))
            page = _this_page()
            st.page_link(_signin_page(), label=t("auth.go_sign_in"), icon=":material/login:",
                         query_params={"next": page} if page else None)
        st.stop()
    return user


def _signin_page() -> Any:
    from creditindex.ui import nav

    return nav.st_page(nav.BY_NAME["signin"])


CURRENT_PAGE_KEY = "_current_page"


def _this_page() -> str | None:
    """The name of the page being run (to come back to after signing in)."""
    name = st.session_state.get(CURRENT_PAGE_KEY)
    return name if isinstance(name, str) and name else None


def refuse(exc: auth.PermissionDenied) -> None:
    """Show an action refused by the server."""
    st.error(t("auth.refused", role=t(f"role.{exc.user.role}")))


def language_switch() -> None:
    """The language switch (sidebar)."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = current_lang()
    st.sidebar.segmented_control(
        t("lang.label"), LANGS, key=LANG_KEY, format_func=lambda x: t(f"lang.{x}", lang=x),
        selection_mode="single", required=True)


def day_pickers(prefix: str, *, known_on: bool = True) -> tuple[dt.date, dt.date]:
    """The day to answer for and, optionally, the day the answer is known on (default:
    the same day). Each page asks its own day (today unless changed on that page)."""
    cols = st.columns(2)
    on = cols[0].date_input(t("day.on"), value=service_state.today(), key=f"{prefix}_on",
                            help=t("day.on_help"), format="YYYY-MM-DD")
    assert isinstance(on, dt.date)
    known = on
    if known_on:
        same = cols[1].checkbox(t("day.known_same"), value=True, key=f"{prefix}_same",
                                help=t("day.known_help"))
        if not same:
            picked = cols[1].date_input(t("day.known_on"), value=on, key=f"{prefix}_known",
                                        format="YYYY-MM-DD")
            assert isinstance(picked, dt.date)
            known = picked
        cols[1].caption(t("day.known_explained"))
    return on, known


PERMANENT = dt.date(9999, 12, 31)  # CONTRACT v2: restrict_until of a permanent bar


def records_view(frame: pl.DataFrame) -> pl.DataFrame:
    """Record columns in words: whether the record may be published, the stated bar's
    end (``永久`` for permanent) and its scope in category names."""
    out = frame
    if "publication" in out.columns:
        out = translate_values(out, "publication", "disclosure")
    if "restrict_until" in out.columns and out.schema["restrict_until"] == pl.Date:
        out = out.with_columns(
            pl.when(pl.col("restrict_until") == PERMANENT).then(pl.lit(t("restrict.permanent")))
            .otherwise(pl.col("restrict_until").cast(pl.String)).alias("restrict_until"))
    if "restrict_scope" in out.columns:
        lang = current_lang()
        values = out.get_column("restrict_scope").drop_nulls().unique().to_list()
        mapping = {v: scope_words(v, lang) for v in values}
        out = out.with_columns(pl.col("restrict_scope").cast(pl.String).replace(mapping))
    return out


def label(column: str) -> str:
    """A column's header in the session's language (every column shown has one)."""
    return t(f"col.{column}")


def name_regions(frame: pl.DataFrame, column: str = "region") -> pl.DataFrame:
    """Region codes replaced by their names (GB/T 2260; unknown codes stay)."""
    if column not in frame.columns:
        return frame
    codes = frame.get_column(column).drop_nulls().unique().to_list()
    mapping = {c: region_name(c) for c in codes if region_name(c)}
    return frame.with_columns(pl.col(column).replace(mapping)) if mapping else frame


def translate_values(frame: pl.DataFrame, column: str, prefix: str) -> pl.DataFrame:
    """Replace the codes of ``column`` by their catalogue text ``prefix.code`` (codes
    without a text stay as they are)."""
    if column not in frame.columns:
        return frame
    values = frame.get_column(column).drop_nulls().unique().to_list()
    mapping = {v: t(f"{prefix}.{v}") for v in values if has(f"{prefix}.{v}")}
    return frame.with_columns(pl.col(column).replace(mapping)) if mapping else frame


def show_table(frame: pl.DataFrame, columns: Sequence[str] | None = None, *,
               key: str | None = None, height: int | Literal["auto"] = "auto",
               config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A table with translated headers (``columns``: which and in what order)."""
    shown = name_regions(local_frame(frame.select(columns) if columns is not None
                                     else frame))
    for column, prefix in VALUE_TEXTS.items():
        shown = translate_values(shown, column, prefix)
    shown = shown.with_columns(pl.col(pl.String).fill_null(""))
    column_config: dict[str, Any] = {}
    for name, dtype in shown.schema.items():
        if dtype == pl.Date:
            column_config[name] = st.column_config.DateColumn(label(name), format="YYYY-MM-DD")
        elif isinstance(dtype, pl.Datetime):
            column_config[name] = st.column_config.DatetimeColumn(
                label(name), format="YYYY-MM-DD HH:mm:ss", help=t("time.beijing"))
        else:
            column_config[name] = label(name)
    for name, cfg in (config or {}).items():
        column_config[name] = cfg
    box = st.container(key=key) if key else st.container()  # the key names the table
    if shown.height == 0:
        return box.caption(t("table.empty"))
    return box.dataframe(shown, hide_index=True, column_config=column_config,
                         height=height, placeholder="-", **kwargs)


LINK_TABLE_CSS = """<style>
.ci-rows{max-height:24.5rem;overflow:auto;border:1px solid rgba(49,51,63,.1);
 border-radius:.5rem;font-size:.875rem}
.ci-rows table{border-collapse:collapse;width:100%;margin:0}
.ci-rows th,.ci-rows td{padding:0 .5rem;height:35px;border:0;white-space:nowrap;
 border-bottom:1px solid rgba(49,51,63,.1);border-right:1px solid rgba(49,51,63,.1)}
.ci-rows th{position:sticky;top:0;z-index:1;background:#fafafa;font-weight:400;
 color:rgba(49,51,63,.6);text-align:left}
.ci-rows td.n,.ci-rows th.n{text-align:right;font-variant-numeric:tabular-nums}
.ci-rows tbody tr{position:relative}
.ci-rows tbody tr:hover td{background:rgba(255,75,75,.06)}
.ci-rows a{color:inherit;text-decoration:none}
.ci-rows a::after{content:"";position:absolute;inset:0}
.ci-rows td.name{max-width:14rem;overflow:hidden;text-overflow:ellipsis}
.ci-rows td.wide{max-width:26rem;overflow:hidden;text-overflow:ellipsis;
 color:rgba(49,51,63,.8)}
</style>"""


def link_table(frame: pl.DataFrame, columns: Sequence[str], *, key: str,
               link_column: str, links: Sequence[str], wide: Sequence[str] = (),
               ) -> None:
    """A read-only table drawn as plain HTML, each row a link to ``links[i]`` (a click
    anywhere on row ``i`` follows it, in this tab): it needs next to nothing loaded in
    the browser (no grid, no Arrow), so it shows with the page's first text.
    ``link_column`` is shown first (as the grid pins it); headers and values in the
    session's language, numbers to two decimals, a tick for true. Every value is
    escaped (the data cannot add markup)."""
    order = [link_column, *(c for c in columns if c != link_column)]
    shown = name_regions(frame.select(order))
    if shown.height == 0:
        st.container(key=key).caption(t("table.empty"))
        return
    for column, prefix in VALUE_TEXTS.items():
        shown = translate_values(shown, column, prefix)
    numeric = {c for c in order if shown.schema[c].is_numeric()}
    head = "".join(f'<th class="{"n" if c in numeric else ""}">{html.escape(label(c))}</th>'
                   for c in order)
    body = []
    for row, link in zip(shown.iter_rows(), links, strict=True):
        cells = []
        for column, value in zip(order, row, strict=True):
            if isinstance(value, bool):
                text = "✔" if value else ""
            elif isinstance(value, float):
                text = f"{value:.2f}"
            else:
                text = "" if value is None else str(value)
            text = html.escape(text)
            if column == link_column:
                cells.append(f'<td class="name" title="{text}">'
                             f'<a href="{html.escape(link)}">{text}</a></td>')
            elif column in wide:
                cells.append(f'<td class="wide" title="{text}">{text}</td>')
            else:
                cells.append(f'<td class="{"n" if column in numeric else ""}">{text}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    st.container(key=key).html(
        f'{LINK_TABLE_CSS}<div class="ci-rows"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>")


def problems_table(problems: Iterable[Problem], key: str = "problems",
                   message: str = "problems.count",
                   columns: Sequence[str] = ("file", "row", "column", "reason")) -> None:
    """Every problem of a refused input: file, row, column, reason."""
    from creditindex.ui.reasons import problem_text

    rows = [{"file": p.file, "row": p.row, "column": p.column,
             "reason": problem_text(p.reason)} for p in problems]
    frame = pl.DataFrame(rows, schema={"file": pl.String, "row": pl.Int64,
                                       "column": pl.String, "reason": pl.String},
                         orient="row")
    st.error(t(message, n=frame.height))
    show_table(frame, list(columns), key=key)


def type_picker(key: str, types: Sequence[str], *, with_all: bool = False) -> str | None:
    """Pick a subject type (``None``: all types, when offered)."""
    options: list[str | None] = [*([None] if with_all else []), *types]
    picked = st.segmented_control(
        t("filter.subject_type"), options, key=key, required=True,
        default=options[0],
        format_func=labeller("type", "filter.all_types"))
    return picked if isinstance(picked, str) else None


def sign_in(name: str, password: str) -> str:
    """Sign in with a name and password: ``ok``, ``failed``, ``empty`` or ``locked``
    (too many failures for this account, counted in the store: see
    :mod:`creditindex.store.sessions`)."""
    from creditindex.ui import data

    outcome = session.sign_in(data.db_url(), name, password)
    if outcome.status == "locked" and outcome.locked_until is not None:
        st.session_state["_locked_until"] = outcome.locked_until
    return outcome.status


def sign_out() -> None:
    """End the session (in the store too) and forget what the user was doing."""
    from creditindex.ui import data, oidc

    session.sign_out(data.db_url())
    for key in list(st.session_state.keys()):
        if key != LANG_KEY:
            del st.session_state[key]
    oidc.log_out()  # signed in through the identity provider: leave it there too
