"""The catalogue (:mod:`creditindex.i18n`) in the language of the running session:
Chinese by default, English on request. Pages call :func:`t` with a key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from creditindex import i18n
from creditindex.i18n import CATALOGUE as CATALOGUE
from creditindex.i18n import DEFAULT_LANG as DEFAULT_LANG
from creditindex.i18n import LANGS as LANGS
from creditindex.i18n import has as has

LANG_KEY = "lang"


def current_lang() -> str:
    """The language of the running session (Chinese outside a Streamlit session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return DEFAULT_LANG
    import streamlit as st

    lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The text of ``key`` in ``lang`` (default: the session's), formatted with
    ``kwargs``. An unknown key raises ``KeyError``: the catalogue must hold every text."""
    return i18n.t(key, lang or current_lang(), **kwargs)


def tr(prefix: str, code: object, lang: str | None = None) -> str:
    """The text of a code from the data (``prefix.code``) in ``lang`` (default: the
    session's), or the code itself when the catalogue has none."""
    return i18n.tr(prefix, code, lang or current_lang())


def labeller(prefix: str, none_key: str | None = None) -> Callable[[Any], str]:
    """A ``format_func`` for widgets whose options are codes: each code's text
    ``prefix.code`` (``none_key`` for ``None``) in the language of the run that made it."""
    lang = current_lang()

    def label(code: Any) -> str:
        if code is None and none_key is not None:
            return t(none_key, lang)
        return tr(prefix, code, lang)

    return label


def lang_key(key: str) -> str:
    """A widget key that changes with the language, for choosers that show the text of
    the chosen option (they start afresh, in the new language, when it changes)."""
    lang = current_lang()
    return key if lang == DEFAULT_LANG else f"{key}@{lang}"
