"""The app's pages, who may see them, and moving between them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from creditindex.service.auth import Permission, User
from creditindex.ui.i18n import DEFAULT_LANG, LANG_KEY, current_lang, t

PAGES_DIR = Path(__file__).resolve().parent / "pages"
SUBJECT_KEY = "subject"


@dataclass(frozen=True)
class PageSpec:
    """One page: its script, URL, section, icon and the permission it needs (``None``:
    shown to visitors who have not signed in only, or to everyone)."""

    name: str
    section: str
    icon: str
    permission: Permission | None
    anonymous_only: bool = False

    @property
    def path(self) -> Path:
        """The page's script."""
        return PAGES_DIR / f"{self.name}.py"


PAGES: tuple[PageSpec, ...] = (
    PageSpec("rankings", "public", ":material/leaderboard:", Permission.VIEW),
    PageSpec("profile", "public", ":material/person_search:", Permission.VIEW),
    PageSpec("eligibility", "public", ":material/fact_check:", Permission.VIEW),
    PageSpec("verify", "public", ":material/verified:", Permission.VIEW),
    PageSpec("imports", "staff", ":material/upload_file:", Permission.IMPORT),
    PageSpec("lifecycle", "staff", ":material/gavel:", Permission.LIFECYCLE),
    PageSpec("audit", "staff", ":material/history:", Permission.AUDIT),
    PageSpec("rules", "regulator", ":material/tune:", Permission.RULES),
    PageSpec("signin", "account", ":material/login:", None, anonymous_only=True),
    PageSpec("account", "account", ":material/account_circle:", None),
)
BY_NAME = {p.name: p for p in PAGES}


def visible(user: User) -> list[PageSpec]:
    """The pages ``user`` may open."""
    shown = []
    for spec in PAGES:
        if spec.anonymous_only and user.signed_in:
            continue
        if spec.name == "account" and not user.signed_in:
            continue
        if spec.permission is not None and not user.may(spec.permission):
            continue
        shown.append(spec)
    return shown


def st_page(spec: PageSpec) -> st.Page:
    """The ``st.Page`` of a page spec, titled in the session's language."""
    return st.Page(spec.path, title=t(f"page.{spec.name}"), icon=spec.icon,
                   url_path=spec.name, default=spec.name == "rankings")


def all_pages() -> list[st.Page]:
    """Every page (each has a URL; a page the user may not open asks them to sign in)."""
    return [st_page(spec) for spec in PAGES]


def navigation(user: User) -> dict[str, list[st.Page]]:
    """The navigation menu for ``user``, by section."""
    sections: dict[str, list[st.Page]] = {}
    for spec in visible(user):
        sections.setdefault(t(f"section.{spec.section}"), []).append(st_page(spec))
    return sections


def go(name: str) -> None:
    """Switch to the page ``name``."""
    st.switch_page(BY_NAME[name].path)


def profile_link(subject_id: str, subject_type: str) -> str:
    """The profile's deep link (relative to the app's address) of a subject, in the
    session's language (``lang``: a new session opened by the link starts in it)."""
    query = {"subject": subject_id, "type": subject_type}
    lang = current_lang()
    if lang != DEFAULT_LANG:
        query[LANG_KEY] = lang
    return f"{BY_NAME['profile'].name}?{urlencode(query)}"


def open_profile(subject_id: str, subject_type: str) -> None:
    """Open a subject's profile; its URL (``?subject=...&type=...``) can be bookmarked
    and shared."""
    st.session_state[SUBJECT_KEY] = (subject_id, subject_type)
    st.switch_page(BY_NAME["profile"].path,
                   query_params={"subject": subject_id, "type": subject_type})
