"""The eligibility page certifies every check (number and verification code, stored as
the API and the command line store it) and the public verification page answers from
the store."""

from __future__ import annotations

import polars as pl

from creditindex.store.checks import verify
from creditindex.store.load import load_data
from creditindex.ui import data
from creditindex.ui.i18n import t
from creditindex.ui.pages.eligibility import RESULT_KEY
from tests.ui.uihelpers import AppFactory, no_exception


def test_a_check_in_the_app_is_certified_and_verified_by_anyone(app: AppFactory,
                                                                 db: str) -> None:
    bidders = load_data(db).records.filter(pl.col("subject_type") == "bidder")
    codes = bidders.get_column("subject_id").unique().sort().head(2).to_list()
    at = app(page="eligibility")
    at.text_area(key="elig_ids").set_value("\n".join(codes)).run()
    at.button(key="elig_run").click().run()
    no_exception(at)
    answer = at.session_state[RESULT_KEY]
    assert isinstance(answer, data.Eligibility) and answer.verify_code
    stored = verify(db, answer.verify_code)
    assert stored is not None and stored.check_id == answer.check_id
    assert stored.payload["channel"] == "app"
    assert [s["subject_id"] for s in stored.payload["subjects"]] == codes

    visitor = app(page="verify")
    visitor.text_input(key="verify_code").set_value(answer.verify_code.lower()).run()
    visitor.button(key="verify_run").click().run()
    no_exception(visitor)
    assert answer.check_no in visitor.success[0].value
    visitor.text_input(key="verify_code").set_value("AAAA-BBBB-CCCC-DDDD").run()
    visitor.button(key="verify_run").click().run()
    assert visitor.error[0].value == t("verify.missing", "zh", code="AAAA-BBBB-CCCC-DDDD")
