"""Imports for staff: penalty records (with a subjects file) or external list entries,
checked whole first, with every problem reported by file, row, column and reason."""

from __future__ import annotations

import streamlit as st

from creditindex.errors import InputError
from creditindex.service.auth import Permission, PermissionDenied
from creditindex.ui import data
from creditindex.ui.i18n import labeller, t
from creditindex.ui.widgets import guard, problems_table, refuse, show_table

KINDS = ("records", "lists")
RESULT_KEY = "import_result"


def render() -> None:
    """The import page."""
    user = guard(Permission.IMPORT)
    st.title(t("import.title"))
    st.caption(t("import.caption"))
    kind = st.radio(t("import.kind"), KINDS, key="imp_kind", horizontal=True,
                    format_func=labeller("import.kind"))
    files = st.file_uploader(t("import.files"), type=["csv", "xlsx", "xls", "parquet"],
                             accept_multiple_files=True, key="imp_files",
                             help=t(f"import.files_help.{kind}"))
    subjects = None
    if kind == "records":
        subjects = st.file_uploader(t("import.subjects"), type=["csv", "xlsx", "parquet"],
                                    key="imp_subjects", help=t("import.subjects_help"))
    uploads = [(f.name, f.getvalue()) for f in files or []]
    subject_upload = None if subjects is None else (subjects.name, subjects.getvalue())
    c = st.columns([1, 1, 4])
    validate = c[0].button(t("import.validate"), key="imp_validate",
                           disabled=not uploads and subject_upload is None)
    run = c[1].button(t("import.run"), key="imp_run", type="primary",
                      disabled=not uploads and subject_upload is None)
    if validate or run:
        try:
            if validate:
                report = data.validate_upload(user, kind, uploads, subject_upload)
            else:
                report = data.import_upload(user, kind, uploads, subject_upload)
        except PermissionDenied as exc:
            refuse(exc)
            return
        except InputError as exc:
            st.session_state[RESULT_KEY] = exc
        except data.ActionError as exc:
            st.error(t("action.failed", why=str(exc)))
            return
        else:
            st.session_state[RESULT_KEY] = report
    result = st.session_state.get(RESULT_KEY)
    if isinstance(result, InputError):
        problems_table(result.problems)
    elif isinstance(result, data.ImportReport):
        if result.checked_only:
            st.success(t("import.valid", rows=result.rows))
        elif result.import_id is None:
            st.info(t("import.nothing_new", rows=result.rows))
        else:
            st.success(t("import.done", id=result.import_id, rows=result.rows,
                         added=result.added, events=result.events,
                         subjects=result.subjects_added, changed=result.changed))
    st.markdown(f"#### {t('import.batches')}")
    batches = data.import_batches(user).rename({"kind": "batch_kind"})
    show_table(batches, key="imp_batches")


if __name__ == "__main__":
    render()
