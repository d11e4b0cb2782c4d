"""Rule sets read back from their canonical form (creditindex/rules.py): a text this code
validated once is read without pydantic or TOML, and reads as validating it again would;
the plain classes the engine reads carry exactly the validated fields; nothing but a
validated text of this very code is ever read from the cache."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from creditindex import rules, rules_schema
from creditindex.errors import InputError
from creditindex.rules import DEFAULT_RULES, content_hash, parse_rules

ROOT = Path(__file__).resolve().parents[1]
TEXTS = sorted((ROOT / "scoring_rules").glob("*.toml"))
PAIRS = [(rules.RulesetHeader, rules_schema.RulesetHeader), (rules.Grade, rules_schema.Grade),
         (rules.Behaviour, rules_schema.Behaviour),
         (rules.ExpertSuspension, rules_schema.ExpertSuspension),
         (rules.RuleSet, rules_schema.RuleSetModel)]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "rules-cache"
    monkeypatch.setenv("CREDITINDEX_RULES_CACHE", str(folder))
    return folder


def typed(value: Any) -> Any:
    """``value`` with the type of every leaf (an int 100 is not a float 100.0)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize("plain, model", PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_the_plain_classes_carry_the_validated_fields(plain: Any, model: Any) -> None:
    fields = [f for f in dataclasses.fields(plain)]
    assert [f.name for f in fields] == list(model.model_fields)
    for f in fields:
        declared = model.model_fields[f.name]
        default = None if declared.is_required() else declared.default
        assert (f.default if f.default is not dataclasses.MISSING else None) == default, f.name


@pytest.mark.parametrize("path", TEXTS, ids=[p.name for p in TEXTS])
def test_a_canonical_rule_set_reads_as_validating_it_again(path: Path, cache: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    text = path.read_text(encoding="utf-8")
    validated = parse_rules(text)  # validated, then kept
    assert len(list(cache.glob(f"{content_hash(text)}-*.json"))) == 1

    def never(*_: Any) -> Any:
        raise AssertionError("validated again")

    monkeypatch.setattr(rules_schema.RuleSetModel, "model_validate", never)
    kept = parse_rules(text)
    assert kept == validated and kept.content_hash == content_hash(text)
    assert typed(kept.model_dump()) == typed(validated.model_dump())
    monkeypatch.undo()
    monkeypatch.setenv("CREDITINDEX_RULES_CACHE", "")  # no cache: validated each time
    again = parse_rules(text)
    assert again == kept and typed(again.model_dump()) == typed(kept.model_dump())


def test_only_what_this_code_validated_is_read_back(cache: Path) -> None:
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    bad = text.replace('base = 100', 'base = "100"', 1)
    for _ in range(2):  # a refused text is refused again, never kept
        with pytest.raises(InputError):
            parse_rules(bad)
    assert not cache.exists()
    good = parse_rules(text)
    [kept] = cache.iterdir()
    # Another text's values under this text's name, or a file of other code: not read.
    values = json.loads(kept.read_text(encoding="utf-8"))
    values["values"]["ruleset"]["base"] = 90
    for name, content in ((kept.name, {**values, "content_hash": "0" * 64}),
                          (f"{content_hash(text)}-{'0' * 32}.json", values)):
        kept.unlink()
        (cache / name).write_text(json.dumps(content), encoding="utf-8")
        assert parse_rules(text) == good and parse_rules(text).ruleset.base == 100


def test_a_validated_rule_set_is_read_without_pydantic_nor_toml(cache: Path) -> None:
    parse_rules(DEFAULT_RULES.read_text(encoding="utf-8"))
    code = ("import sys\nfrom creditindex.rules import load_rules\nrules = load_rules()\n"
            "print(rules.ruleset.name, sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('pydantic', 'tomllib')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == ["default", "[]"]
