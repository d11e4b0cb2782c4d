"""Rule tuning as regulators use it: edit a draft, see problems inline, see the impact on
the current data, publish a new immutable version."""

from __future__ import annotations

import polars as pl
import pytest

from creditindex import evaluate
from creditindex.rules import DEFAULT_RULES, parse_rules
from creditindex.service import rulesets
from creditindex.service.auth import User
from creditindex.store.audit import audit_trail
from creditindex.store.load import load_data
from creditindex.store.users import add_user
from creditindex.ui import data as ui_data
from creditindex.ui import ruleedit, tables
from creditindex.ui.i18n import t
from tests.ui.uihelpers import REGULATOR, TODAY, AppFactory, no_exception, table

TEXT = DEFAULT_RULES.read_text(encoding="utf-8")


def _edit(at, text: str):  # type: ignore[no-untyped-def]
    at.text_area(key="rules_text_0").set_value(text)
    return at.run()


def test_draft_problems_are_shown_with_their_entry(app: AppFactory) -> None:
    at = app(user=REGULATOR, page="rules")
    no_exception(at)
    assert at.success[0].value.startswith(t("rules.valid", "zh", name="default",
                                            version="2026.1", behaviours=0, hash="")[:5])
    broken = TEXT.replace("points = 30", "points = -5", 1).replace(
        'code = "BID-RIGGING"', 'code = "BID-COLLUSION"')
    at = _edit(at, broken)
    no_exception(at)
    problems = table(at, "problems")
    entries = list(problems.iloc[:, 0])
    assert any(e.startswith("behaviour[1] BID-COLLUSION.points") for e in entries)
    assert any("duplicate" in r or t("problem.greater_than", "zh", n="0") in r
               for r in problems.iloc[:, 1])  # in Chinese, through the catalogue
    assert at.error[0].value == t("rules.problems", "zh", n=len(problems))
    assert not any(b.label == t("rules.publish_button", "zh") for b in at.button)
    at = _edit(at, "[ruleset\nname=")
    assert "TOML" in table(at, "problems").iloc[0, 1]


def test_impact_then_publish(app: AppFactory, db: str) -> None:
    tabs = ruleedit.to_tables(TEXT.replace('version = "2026.1"', 'version = "2026.2"'))
    behaviours = tabs.behaviours.with_columns(
        pl.when(pl.col("code") == "BID-FRAUD").then(40.0).otherwise(pl.col("points"))
        .alias("points"))
    draft_text = ruleedit.to_toml(ruleedit.RuleTables(tabs.header, tabs.grades, behaviours,
                                                      tabs.suspension))
    draft = parse_rules(draft_text)
    at = app(user=REGULATOR, page="rules")
    at = _edit(at, draft_text)
    no_exception(at)
    data = load_data(db)
    oracle = rulesets.compare(evaluate.compute(data, TODAY), evaluate.compute(
        evaluate.CreditData(data.records, draft, data.subjects, data.lists, data.manual),
        TODAY))
    summary = table(at, "rules_summary")
    bidders = tables.impact_summary(oracle).filter(pl.col("subject_type") == "bidder")
    row = summary[summary.iloc[:, 0] == t("type.bidder", "zh")].iloc[0]
    assert row.iloc[4] == bidders.get_column("moved")[0] > 0
    assert row.iloc[5] == bidders.get_column("grade_changed")[0]
    assert len(at.get("vega_lite_chart")) == 1
    movers = tables.largest_movers(oracle.filter(pl.col("subject_type") == "bidder"))
    shown = table(at, "rules_movers_bidder")
    assert len(shown) == movers.height
    assert (shown.iloc[:, 4] <= 0).all()  # a heavier penalty only lowers indices

    # one regulator proposes; nothing is published yet
    next(i for i in at.text_input if i.label == t("rules.note", "zh")).set_value(
        "加重弄虚作假处罚")
    at = next(b for b in at.button if b.label == t("rules.propose_button", "zh")).click().run()
    no_exception(at)
    assert load_data(db).rules.content_hash != draft.content_hash
    assert any(t("rules.proposed", "zh", id="")[:6] in s.value for s in at.success)
    # the proposer cannot approve their own request
    mine = next(b for b in at.button if b.label == t("rules.approve", "zh"))
    assert mine.disabled
    # a second regulator approves: published, with the note, by the proposer
    add_user(db, "reg2", "regulator", "another password", by="test")
    other = app(user=User("reg2", "regulator"), page="rules")
    no_exception(other)
    assert other.markdown and any("加重弄虚作假处罚" in c.value for c in other.caption)
    other = next(b for b in other.button if b.label == t("rules.approve", "zh")
                 ).click().run()
    no_exception(other)
    assert load_data(db).rules.content_hash == draft.content_hash
    log = audit_trail(db, action="rules.publish")
    assert log.get_column("actor").to_list()[-1] == "regulator"
    assert "加重弄虚作假处罚" in log.get_column("after").to_list()[-1]
    assert audit_trail(db, action="approval.approved").get_column("actor")[-1] == "reg2"
    other.run()
    assert other.info[0].value == t("rules.same_as_in_force", "zh")
    # the same content again is refused, and so is a used version with other content
    with pytest.raises(ui_data.ActionError, match="identical"):
        ui_data.propose(REGULATOR, "rules.publish", {"text": draft_text,
                                                  "effective_from": TODAY})
    with pytest.raises(ui_data.ActionError, match="new version"):
        ui_data.propose(REGULATOR, "rules.publish", {
            "text": draft_text.replace("points = 40", "points = 41", 1),
            "effective_from": TODAY})


def test_table_editor_round_trip() -> None:
    tabs = ruleedit.to_tables(TEXT)
    again = parse_rules(ruleedit.to_toml(tabs))
    assert again.model_dump() == parse_rules(TEXT).model_dump()
    assert tabs.behaviours.height == len(parse_rules(TEXT).behaviour)


def test_table_editor_applies_to_the_draft(app: AppFactory) -> None:
    at = app(user=REGULATOR, page="rules")
    version = at.text_input[1]
    assert version.value == "2026.1"
    version.set_value("2026.9")
    at = next(b for b in at.button if b.label == t("rules.apply_tables", "zh")).click().run()
    no_exception(at)
    assert 'version = "2026.9"' in at.session_state["rules_draft"]
    assert at.text_area(key="rules_text_1").value == at.session_state["rules_draft"]
    assert "2026.9" in at.success[0].value
