"""Rule sets as data: TOML round trip, catalogue table, validated variants."""

from __future__ import annotations

import polars as pl
import pytest

from creditindex.errors import InputError
from creditindex.rules import load_rules, parse_rules
from creditindex.rules_edit import catalogue_frame, from_catalogue, to_toml, with_behaviour


def test_toml_round_trip_keeps_every_value() -> None:
    for name in ("default", "strict-draft"):
        rules = load_rules(f"scoring_rules/{name}.toml")
        assert parse_rules(to_toml(rules)).model_dump() == rules.model_dump()


def test_catalogue_round_trip() -> None:
    rules = load_rules()
    table = catalogue_frame(rules)
    assert table.height == len(rules.behaviour)
    assert from_catalogue(rules, table).model_dump() == rules.model_dump()


def test_variant_changes_one_behaviour_and_its_hash() -> None:
    rules = load_rules()
    variant = with_behaviour(rules, "BID-FRAUD", points=25, days=730)
    b = variant.behaviour_by_code()["BID-FRAUD"]
    assert (b.points, b.days) == (25, 730)
    assert variant.content_hash != rules.content_hash
    others = [x for x in variant.behaviour if x.code != "BID-FRAUD"]
    assert others == [x for x in rules.behaviour if x.code != "BID-FRAUD"]


def test_invalid_edit_names_the_entry() -> None:
    rules = load_rules()
    table = catalogue_frame(rules).with_columns(
        pl.when(pl.col("code") == "LATE").then(0.0).otherwise(pl.col("points")).alias("points"))
    with pytest.raises(InputError) as err:
        from_catalogue(rules, table, "draft.toml")
    (problem,) = err.value.problems
    assert problem.file == "draft.toml" and "LATE.points" in (problem.column or "")
    with pytest.raises(KeyError):
        with_behaviour(rules, "NO-SUCH-CODE", points=1)
