"""Eligibility check: a candidate list (or a consortium) on a day, eligible or not with
every ground, and the evidence report to keep."""

from __future__ import annotations

import secrets

import polars as pl
import streamlit as st

from creditindex.errors import InputError
from creditindex.service.auth import Permission
from creditindex.service.limits import LimitReached, limits
from creditindex.ui import data, reasons, tables
from creditindex.ui.i18n import current_lang, labeller, lang_key, t
from creditindex.ui.widgets import day_pickers, guard, problems_table, show_table

RESULT_KEY = "elig_result"
ANON_KEY = "_anonymous_id"
ANSWER = ["public_id", "subject_name", "eligible", "index", "grade", "reasons"]
GROUNDS = ["public_id", "cause", "code", "detail", "basis", "source", "document_no", "since",
           "until"]


def _candidates() -> list[str]:
    paste, upload = st.tabs([t("elig.paste"), t("elig.upload")])
    with paste:
        text = st.text_area(t("elig.ids"), key="elig_ids", height=140,
                            placeholder=t("elig.ids_hint"))
    with upload:
        file = st.file_uploader(t("elig.file"), type=["csv", "xlsx", "txt"], key="elig_file",
                                help=t("elig.file_help"))
    ids = tables.parse_id_list(text or "")
    if file is not None:
        try:
            ids += tables.ids_from_upload(file.getvalue(), file.name)
        except InputError as exc:  # over a limit, or unreadable: say why, read nothing
            problems_table(exc.problems, key="elig_problems")
    return list(dict.fromkeys(ids))


def _anonymous_id() -> str:
    """This browser session's name in the store when nobody is signed in."""
    if ANON_KEY not in st.session_state:
        st.session_state[ANON_KEY] = data.ANONYMOUS_PREFIX + secrets.token_hex(6)
    return str(st.session_state[ANON_KEY])


def render() -> None:
    """The eligibility page."""
    user = guard(Permission.VIEW)
    st.title(t("elig.title"))
    st.caption(t("elig.caption"))
    ids = _candidates()
    cols = st.columns([1, 2])
    consortium = cols[0].toggle(t("elig.consortium"), key="elig_consortium",
                                help=t("elig.consortium_help"))
    role = cols[1].selectbox(t("elig.role"), (None, *data.visible_types(user)),
                             key=lang_key("elig_role"),
                             format_func=labeller("type", "elig.any_role"),
                             help=t("elig.role_help"))
    on, known_on = day_pickers("elig")
    lim = limits()
    st.caption(t("elig.count", n=len(ids)))
    if not user.signed_in:
        st.caption(t("elig.anon_limits", n=lim.anon_subjects))
    if st.button(t("elig.run"), type="primary", key="elig_run", disabled=not ids):
        try:
            with st.spinner(t("elig.running")):
                st.session_state[RESULT_KEY] = data.check(user, ids, on, known_on, role,
                                                          consortium, _anonymous_id())
        except LimitReached as exc:
            st.session_state.pop(RESULT_KEY, None)
            st.error(t(exc.key, None, **exc.values))
    answer = st.session_state.get(RESULT_KEY)
    if not isinstance(answer, data.Eligibility):
        return
    res = answer.result
    if res.table.height == 0:  # every code failed its check: nothing was answered
        for shown_id, why in answer.invalid:
            st.warning(t("elig.invalid_id", id=shown_id, why=why))
        return
    names = data.behaviour_names(current_lang(), res.on)
    table = res.table.with_columns(reasons.reasons_column(res.table, res.grounds, names))
    table = table.with_columns(
        pl.Series("public_id", [data.show_id(s, answer.shown)
                                for s in res.table.get_column("subject_id")], pl.String),
        pl.col("subject_id").replace_strict(answer.names, default="").alias("subject_name"),
        tables.mask_text_expr("reasons").alias("reasons"),
        pl.when(pl.col("eligible")).then(pl.lit(t("elig.yes"))).otherwise(
            pl.lit(t("elig.no"))).alias("eligible"),
    )
    n_ok = int(res.table.get_column("eligible").sum())
    st.subheader(t("elig.answer", on=res.on, known=res.known_on))
    if n_ok == table.height:
        st.success(t("elig.all_eligible", n=table.height))
    else:
        st.error(t("elig.some_ineligible", bad=table.height - n_ok, n=table.height))
    for shown_id, why in answer.invalid:
        st.warning(t("elig.invalid_id", id=shown_id, why=why))
    show_table(table, ANSWER, key="elig_table", config={
        "reasons": st.column_config.TextColumn(t("col.reasons"), width="large")})
    if res.grounds.height:
        st.markdown(f"#### {t('elig.grounds')}")
        show_table(reasons.grounds_frame(res.grounds, names).with_columns(
            pl.col("subject_id").replace_strict(answer.shown, default="").alias("public_id"),
            tables.mask_text_expr("detail").alias("detail")), GROUNDS, key="elig_grounds")
    st.download_button(t("elig.download"), answer.html.encode("utf-8"),
                       file_name=f"eligibility_evidence_{res.on}.html", mime="text/html",
                       key="elig_download", type="primary", icon=":material/download:")
    if answer.check_id is not None:
        st.caption(t("elig.stored", id=answer.check_id))
    if answer.certificate is not None:
        st.caption(t("elig.certified", no=answer.check_no, code=answer.verify_code))
        st.download_button(t("elig.certificate_pdf"), data.certificate_pdf(answer.certificate),
                           file_name=f"{answer.check_no}.pdf", mime="application/pdf",
                           key="elig_certificate", icon=":material/download:")


if __name__ == "__main__":
    render()
