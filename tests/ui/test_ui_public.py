"""The public pages as visitors use them: rankings, a subject's profile, eligibility."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from creditindex import evaluate
from creditindex.rules import load_rules
from creditindex.service import state as service_state
from creditindex.store.load import load_data
from creditindex.ui import nav, tables
from creditindex.ui.i18n import t
from creditindex.ui.tables import public_id
from tests.ui.uihelpers import (
    APP,
    PUBLIC,
    STAFF,
    TODAY,
    AppFactory,
    html_table,
    no_exception,
    table,
)

FULL_RID = re.compile(r"\b\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]\b")


@pytest.fixture()
def answer(db: str) -> pl.DataFrame:
    """Today's answer for every subject, straight from the engine (the oracle)."""
    return evaluate.compute(load_data(db), TODAY)


def test_opens_on_rankings_in_chinese_with_no_setup(app: AppFactory,
                                                     answer: pl.DataFrame) -> None:
    at = app()
    no_exception(at)
    assert at.title[0].value == t("rankings.title", "zh")
    bidders = answer.filter(pl.col("subject_type") == "bidder")
    assert at.metric[0].value == f"{bidders.height:,}"
    assert at.metric[2].value == f"{bidders.get_column('restricted').sum():,}"
    shown = table(at, "rk_table")
    assert len(shown) == 50  # the first page only
    assert list(shown.iloc[:3, 0]) == bidders.get_column("rank").head(3).to_list()
    grades = table(at, "rk_grade_counts")  # subjects per grade: a table, no chart to load
    assert grades.iloc[:, 1].sum() == bidders.height
    assert list(grades.iloc[:, 0]) == [g.name for g in load_rules().grade]
    assert not at.get("vega_lite_chart")


def test_the_app_answers_on_the_service_clocks_day(app: AppFactory, db: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page's day is the service's one clock (held here at an earlier day): none
    reads the machine's date itself, so a test, or a day's work, run across midnight
    answers on one day."""
    earlier = TODAY - dt.timedelta(days=40)
    monkeypatch.setattr(service_state, "today", lambda: earlier)
    at = app()
    no_exception(at)
    assert at.date_input(key="rk_on").value == earlier
    bidders = evaluate.compute(load_data(db), earlier).filter(
        pl.col("subject_type") == "bidder")
    assert at.metric[2].value == f"{bidders.get_column('restricted').sum():,}"


def test_english_on_request(app: AppFactory) -> None:
    at = app()
    at.button_group(key="lang").set_value("en").run()
    no_exception(at)
    assert at.title[0].value == t("rankings.title", "en")
    assert at.metric[0].label == t("rankings.subjects", "en")


def test_filters_search_and_paging(app: AppFactory, answer: pl.DataFrame) -> None:
    at = app()
    bidders = answer.filter(pl.col("subject_type") == "bidder")
    at.selectbox(key="rk_restricted").set_value(True).run()
    restricted = bidders.filter(pl.col("restricted"))
    assert at.metric[1].value == f"{restricted.height:,}"
    assert set(table(at, "rk_table").iloc[:, 6]) == {True}
    at.selectbox(key="rk_restricted").set_value(None).run()
    at.multiselect(key="rk_grades").set_value(["D"]).run()
    assert at.metric[1].value == f"{bidders.filter(pl.col('grade') == 'D').height:,}"
    at.multiselect(key="rk_grades").set_value([]).run()
    name = bidders.get_column("subject_name")[7]
    at.text_input(key="rk_query").set_value(name[2:8]).run()
    names = list(table(at, "rk_table").iloc[:, 2])
    assert name in names
    at.text_input(key="rk_query").set_value("").run()
    at.pagination[0].set_value(2).run()
    assert table(at, "rk_table").iloc[0, 0] == bidders.get_column("rank")[50]
    at.toggle(key="rk_lowest").set_value(True).run()
    assert table(at, "rk_table").iloc[0, 3] == bidders.get_column("index").min()


def test_industry_and_region_filters(app: AppFactory, db: str, answer: pl.DataFrame
                                     ) -> None:
    at = app()
    data = load_data(db)
    in_water = data.records.filter(pl.col("industry") == "water").get_column(
        "subject_id").unique()
    expected = answer.filter((pl.col("subject_type") == "bidder")
                             & pl.col("subject_id").is_in(in_water.implode()))
    at.multiselect(key="rk_industries").set_value(["water"]).run()
    assert at.metric[1].value == f"{expected.height:,}"
    at.multiselect(key="rk_industries").set_value([]).run()
    at.multiselect(key="rk_regions").set_value(["440106"]).run()
    shown = table(at, "rk_table")
    ids = list(shown.iloc[:, 1])
    assert ids and all(i[2:8] == "440106" for i in ids)
    assert set(shown.iloc[:, 8]) == {"广州市天河区"}  # region names, not codes


def test_experts_are_staff_only_and_masked(app: AppFactory, answer: pl.DataFrame) -> None:
    at = app()  # the public: firms only
    assert t("type.expert", "zh") not in at.button_group(key="rk_type").options
    at = app(user=STAFF)
    at.button_group(key="rk_type").set_value("expert").run()
    no_exception(at)
    shown = table(at, "rk_table")
    ids = list(shown.iloc[:, 1])
    assert ids and all("********" in i for i in ids)
    experts = answer.filter(pl.col("subject_type") == "expert")
    assert not FULL_RID.search(shown.to_csv())
    export = tables.export_bytes(tables.mask_frame(experts), "csv").decode("utf-8-sig")
    assert not FULL_RID.search(export)
    assert experts.get_column("subject_id")[0] not in export


def test_exports_neutralise_formulas() -> None:
    frame = pl.DataFrame({"subject_id": ["91440101MA59XXXX0X"], "subject_type": ["bidder"],
                          "subject_name": ["=HYPERLINK(\"http://x\")"], "reasons": ["@SUM(1)"],
                          "index": [-1.0]})
    text = tables.export_bytes(frame, "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and ",-1.0" in text
    import io

    xlsx = pl.read_excel(io.BytesIO(tables.export_bytes(frame, "xlsx")))
    assert xlsx.get_column("subject_name")[0].startswith("'=")


def test_open_a_subject_from_the_rankings(app: AppFactory, answer: pl.DataFrame) -> None:
    at = app()
    at.toggle(key="rk_lowest").set_value(True).run()
    at.button(key="rk_open").click().run()
    no_exception(at)
    assert at.title[0].value == t("profile.title", "zh")
    worst = answer.filter(pl.col("subject_type") == "bidder").sort(
        "index", "rank", "subject_id", descending=[False, True, True]).row(0, named=True)
    assert at.session_state[nav.SUBJECT_KEY] == (worst["subject_id"], "bidder")
    assert at.subheader[0].value == worst["subject_name"]
    assert at.metric[0].value == f"{worst['index']:.2f}"
    assert len(at.get("vega_lite_chart")) == 1
    ded = table(at, "pf_ded")
    assert abs(ded.iloc[:, 2].sum() - worst["deducted"]) < 0.01


def test_profile_as_known_on_an_earlier_day(app: AppFactory, db: str) -> None:
    data = load_data(db)
    late = data.records.filter(pl.col("recorded_on") > pl.col("decided_on")).sort(
        "recorded_on", descending=True).row(0, named=True)
    at = app(user=STAFF, page="profile")
    at.text_input(key="pf_query").set_value(late["subject_id"]).run()
    no_exception(at)
    on, known = late["recorded_on"], late["decided_on"]  # decided, not yet recorded
    at.date_input(key="pf_on").set_value(on).run()
    published = table(at, "pf_ded")
    assert late["record_id"] in list(published.iloc[:, 0])
    at.checkbox(key="pf_same").uncheck().run()
    at.date_input(key="pf_known").set_value(known).run()
    no_exception(at)
    expected = evaluate.explain(data, late["subject_id"], on, known, late["subject_type"])
    assert late["record_id"] not in expected.get_column("record_id").to_list()
    shown = table(at, "pf_ded")
    ids = list(shown.iloc[:, 0]) if len(shown) else []
    assert ids == expected.get_column("record_id").to_list()
    assert any(t("profile.history_fixed", "zh", known=known) == c.value for c in at.caption)


def test_profile_search_finds_experts_only_by_whole_id(app: AppFactory,
                                                       answer: pl.DataFrame) -> None:
    expert = answer.filter(pl.col("subject_type") == "expert").row(0, named=True)
    at = app(page="profile")  # the public finds no expert at all
    at.text_input(key="pf_query").set_value(expert["subject_id"]).run()
    assert at.warning[0].value == t("profile.none_found", "zh")
    at = app(user=STAFF, page="profile")
    at.text_input(key="pf_query").set_value(expert["subject_id"][:10]).run()
    assert at.warning  # a part of a resident ID finds nobody
    at.text_input(key="pf_query").set_value(expert["subject_id"]).run()
    no_exception(at)
    assert at.subheader[0].value == expert["subject_name"]
    assert expert["subject_id"] not in " ".join(c.value for c in at.caption)


def test_eligibility_check_with_evidence(app: AppFactory, db: str,
                                         answer: pl.DataFrame) -> None:
    bad = answer.filter(pl.col("restricted") & (pl.col("subject_type") == "bidder")
                        ).row(0, named=True)["subject_id"]
    good = answer.filter(~pl.col("restricted") & (pl.col("subject_type") == "bidder")
                         ).row(0, named=True)["subject_id"]
    expert = answer.filter(pl.col("subject_type") == "expert").row(0, named=True)[
        "subject_id"]
    at = app(user=PUBLIC, page="eligibility")  # experts are checked by staff only
    at.text_area(key="elig_ids").set_value(f"{bad}\n{good}, {expert}").run()
    at.button(key="elig_run").click().run()
    assert at.error[0].value == t("limit.experts_staff_only", "zh")
    at = app(user=STAFF, page="eligibility")
    at.text_area(key="elig_ids").set_value(f"{bad}\n{good}, {expert}").run()
    at.button(key="elig_run").click().run()
    no_exception(at)
    assert at.error[0].value == t("elig.some_ineligible", "zh", bad=1, n=3)
    answer_table = table(at, "elig_table")
    no, yes = t("elig.no", "zh"), t("elig.yes", "zh")
    assert list(answer_table.iloc[:, 2]) == [no, yes, yes]
    result = at.session_state["elig_result"]
    oracle = evaluate.check(load_data(db), TODAY, [bad, good, expert])
    assert result.result.table.equals(oracle.table)
    html = result.html
    assert bad in html and good in html
    assert expert not in html and tables.public_id(expert, "expert") in html
    assert not FULL_RID.search(html)
    assert result.check_id is not None
    assert at.download_button(key="elig_download").label == t("elig.download", "zh")

    # the evidence reads in the page's language, its grounds worded from their structure
    shown = html.split("<script")[0]
    assert t("evidence.title", "zh") in shown and "restricted:" not in shown
    assert "behaviour:" not in shown and " decided " not in shown


def test_evidence_in_english_when_the_page_is(app: AppFactory, answer: pl.DataFrame) -> None:
    bad = answer.filter(pl.col("restricted") & (pl.col("subject_type") == "bidder")
                        ).row(0, named=True)["subject_id"]
    at = app(user=STAFF, page="eligibility", lang="en")
    at.text_area(key="elig_ids").set_value(bad).run()
    at.button(key="elig_run").click().run()
    no_exception(at)
    shown = at.session_state["elig_result"].html.split("<script")[0]
    assert t("evidence.title", "en") in shown and t("evidence.title", "zh") not in shown


def test_eligibility_of_a_consortium_from_an_uploaded_list(app: AppFactory,
                                                           answer: pl.DataFrame) -> None:
    bidders = answer.filter(pl.col("subject_type") == "bidder")
    bad = bidders.filter(pl.col("restricted")).row(0, named=True)["subject_id"]
    good = bidders.filter(~pl.col("restricted")).row(0, named=True)["subject_id"]
    at = app(page="eligibility")
    at.file_uploader(key="elig_file").upload(
        "candidates.csv", f"subject_id\n{good}\n{bad}\n".encode()).run()
    at.toggle(key="elig_consortium").set_value(True).run()
    at.button(key="elig_run").click().run()
    no_exception(at)
    answer_table = table(at, "elig_table")
    assert len(answer_table) == 1 and answer_table.iloc[0, 2] == t("elig.no", "zh")
    assert bad in answer_table.iloc[0, 5]


def test_invalid_codes_are_named(app: AppFactory) -> None:
    at = app(page="eligibility")
    at.text_area(key="elig_ids").set_value("91440101MA59XXXX01").run()
    at.button(key="elig_run").click().run()
    no_exception(at)
    assert at.warning and "91440101MA59XXXX01" in at.warning[0].value


def test_turning_the_page_first_thing(app: AppFactory, answer: pl.DataFrame) -> None:
    at = app()
    at.pagination[0].set_value(3).run()
    ranks = answer.filter(pl.col("subject_type") == "bidder").get_column("rank")
    assert table(at, "rk_table").iloc[0, 0] == ranks[100]


def test_rankings_search_reveals_no_hidden_digits(app: AppFactory,
                                                  answer: pl.DataFrame) -> None:
    expert = answer.filter(pl.col("subject_type") == "expert").row(0, named=True)
    at = app(user=STAFF)
    at.button_group(key="rk_type").set_value("expert").run()
    at.text_input(key="rk_query").set_value(expert["subject_id"][:12]).run()
    assert len(table(at, "rk_table")) == 0  # the birth date is hidden: no match on it
    at.text_input(key="rk_query").set_value(expert["subject_id"]).run()
    assert list(table(at, "rk_table").iloc[:, 2]) == [expert["subject_name"]]


class _Held(set[Any]):
    """The keys of the days in memory, none taken until ``open``."""

    open = False

    def add(self, key: Any) -> None:
        if self.open:
            super().add(key)


def test_a_published_day_shows_its_first_page_alone(app: AppFactory, db: str,
                                                    answer: pl.DataFrame,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from creditindex.store.snapshots import evaluate as evaluate_day
    from creditindex.ui import data

    evaluate_day(db, TODAY)
    data.changed()  # the store changed outside the app: no state token reused
    monkeypatch.setattr(data, "FIRST_PAGE_FROM", 0)  # the sample is small: read it alone
    monkeypatch.setattr(data, "_first_shown", threading.Event())  # the warm-up waits
    monkeypatch.setattr(data, "FIRST_PAGE_DRAW", 3600.0)  # the day arrives when told to
    # the whole day arrives when this test says so: not from the background work of an
    # earlier test's app (it wakes after FIRST_PAGE_WAIT and loads today's day of the
    # store the environment names then: this test's)
    held = _Held()
    monkeypatch.setattr(data, "_in_memory", held)
    at = app()
    no_exception(at)
    assert at.info[0].value == t("rankings.loading_rest", "zh")
    bidders = answer.filter(pl.col("subject_type") == "bidder")
    assert at.metric[0].value == f"{bidders.height:,}"
    assert at.metric[2].value == f"{bidders.get_column('restricted').sum():,}"
    # the rows as a light table (no grid): the engine's first 50, each a link to its
    # subject's profile (the deep link)
    assert not at.get_by_key("rk_table").dataframe
    rows, links = html_table(at.get_by_key("rk_table").html[0].proto.body)
    head, body = rows[0], rows[1:]
    first = bidders.head(50)
    assert head[0] == t("col.subject_name", "zh")
    column = {name: [row[head.index(t(f"col.{name}", "zh"))] for row in body]
              for name in ("rank", "public_id", "subject_name", "index", "restricted")}
    assert column["rank"] == [str(r) for r in first.get_column("rank")]
    assert column["public_id"] == [public_id(s, "bidder")
                                   for s in first.get_column("subject_id")]
    assert column["subject_name"] == first.get_column("subject_name").fill_null("").to_list()
    assert column["index"] == [f"{v:.2f}" for v in first.get_column("index")]
    assert column["restricted"] == ["✔" if r else "" for r in first.get_column("restricted")]
    assert links == [f"profile?subject={s}&type=bidder" for s in first.get_column("subject_id")]
    assert at.selectbox(key="rk_pick_first").options  # open a subject from a list too
    at.button_group(key="lang").set_value("en").run()  # links keep the language
    _rows, links = html_table(at.get_by_key("rk_table").html[0].proto.body)
    assert links[0] == f"profile?subject={first.get_column('subject_id')[0]}&type=bidder&lang=en"
    held.open = True
    data.rankings(TODAY)  # the whole day has arrived: filters, search and paging
    at.run()
    no_exception(at)
    assert not at.info and at.text_input(key="rk_query") is not None
    assert at.get_by_key("rk_table").dataframe  # and the grid


def test_a_link_in_english_opens_in_english(db: str) -> None:
    """A new session opened by a link made in English (``?lang=en``, see
    ``nav.profile_link``) starts in English; the switch still decides afterwards."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lang"] = "en"
    at.run()
    no_exception(at)
    assert at.title[0].value == t("rankings.title", "en")
    at.button_group(key="lang").set_value("zh").run()
    assert at.title[0].value == t("rankings.title", "zh")
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lang"] = "xx"  # not a language: Chinese
    at.run()
    assert at.title[0].value == t("rankings.title", "zh")
