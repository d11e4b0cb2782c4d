"""Every text users read comes from the one catalogue, in Chinese and in English."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from creditindex.records import INDUSTRIES
from creditindex.restrict import CAUSES
from creditindex.rules import SUBJECT_TYPES
from creditindex.service.auth import ROLES, Permission
from creditindex.store.models import EVENT_KINDS
from creditindex.ui import nav
from creditindex.ui.i18n import CATALOGUE, LANGS, t, tr
from creditindex.ui.pages.imports import KINDS
from creditindex.ui.widgets import VALUE_TEXTS

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "creditindex" / "ui"
# The app, and the faces-neutral modules that word what every face shows.
WORDED = [ROOT / "creditindex" / name for name in ("wording.py", "evidence.py")]
SOURCES = sorted([*UI.rglob("*.py"), ROOT / "app.py", *WORDED])
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Streamlit calls whose first argument (or these keywords) users read.
UI_CALLS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "info",
    "success", "warning", "error", "toast", "metric", "button", "download_button",
    "form_submit_button", "text_input", "text_area", "number_input", "date_input",
    "selectbox", "multiselect", "radio", "checkbox", "toggle", "segmented_control",
    "file_uploader", "expander", "tabs", "popover", "spinner", "Page", "page_link",
    "set_page_config", "Column", "TextColumn", "NumberColumn", "CheckboxColumn",
    "ProgressColumn", "DateColumn", "DatetimeColumn", "SelectboxColumn",
    "MultiselectColumn",
}
TEXT_KEYWORDS = {"label", "help", "placeholder", "title", "page_title", "caption", "body"}


def _fields(fmt: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(fmt) if f}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_both_languages(key: str) -> None:
    entry = CATALOGUE[key]
    assert set(entry) == set(LANGS)
    assert all(entry[lang].strip() for lang in LANGS)
    assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_chinese_is_the_default_and_english_is_english() -> None:
    assert t("rankings.title") == CATALOGUE["rankings.title"]["zh"]
    for key, entry in CATALOGUE.items():
        if key.startswith("lang."):
            continue
        assert not CJK.search(entry["en"]), (key, entry["en"])


def _literal_keys() -> set[str]:
    keys = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "t" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                keys.add(str(node.args[0].value))
    return keys


def test_every_key_used_is_in_the_catalogue() -> None:
    missing = sorted(k for k in _literal_keys() if k not in CATALOGUE)
    assert not missing


def test_every_code_shown_has_a_text() -> None:
    families = {
        "role": ROLES, "type": SUBJECT_TYPES, "perm": [p.value for p in Permission],
        "page": [p.name for p in nav.PAGES], "section": {p.section for p in nav.PAGES},
        "cause": CAUSES, "event": EVENT_KINDS, "industry": INDUSTRIES,
        "status": ("counted", "revoked", "future", "repaired", "expired"),
        "outcome": ("upheld", "rejected"), "import.kind": KINDS,
        "import.files_help": KINDS, "lang": LANGS,
        "filter.restricted": ("None", "True", "False"),
        "signin": ("ok", "failed", "empty", "locked"),
    }
    for prefix, codes in families.items():
        for code in codes:
            assert f"{prefix}.{code}" in CATALOGUE, f"{prefix}.{code}"
    assert set(VALUE_TEXTS.values()) <= set(families)
    assert tr("industry", "mining") == "mining"  # a code the catalogue does not know


def test_no_chinese_outside_the_catalogue() -> None:
    for path in SOURCES:
        if path.name == "i18n.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(owner.body[0].value) for owner in ast.walk(tree)
                      if isinstance(owner, ast.Module | ast.FunctionDef | ast.ClassDef)
                      and owner.body and isinstance(owner.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings):
                assert not CJK.search(node.value), f"{path.name}:{node.lineno}"


def _has_words(node: ast.expr) -> bool:
    """A literal (or the literal parts of an f-string) with letters in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2,}|" + CJK.pattern, node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_has_words(v) for v in node.values if isinstance(v, ast.Constant))
    return False


def test_pages_use_no_literal_texts() -> None:
    found = []
    for path in SOURCES:
        if path.name == "i18n.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else (
                node.func.id if isinstance(node.func, ast.Name) else "")
            if name not in UI_CALLS:
                continue
            texts = node.args[:1] + [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for a in texts
                      if _has_words(a)]
    assert not found
