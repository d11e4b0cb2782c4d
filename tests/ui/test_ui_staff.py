"""Staff pages as staff use them: imports with a validation report, a record's life
(objection, revocation, repair), manual restrictions, the audit log."""

from __future__ import annotations

import datetime as dt

import polars as pl

from creditindex import evaluate
from creditindex.service.auth import User
from creditindex.store import approvals, lifecycle
from creditindex.store.audit import audit_trail
from creditindex.store.load import load_data
from creditindex.store.users import add_user
from creditindex.ui import data as ui_data
from creditindex.ui import queues
from creditindex.ui.i18n import t
from tests.ui.uihelpers import REGULATOR, STAFF, TODAY, AppFactory, no_exception, table

HEADER = ("record_id,source,industry,region,subject_id,subject_name,subject_type,"
          "behaviour_code,decided_on,recorded_on,document_no")


def submit(at, label_key: str):  # type: ignore[no-untyped-def]
    """Press the form button labelled by catalogue key ``label_key``."""
    label = t(label_key, "zh")
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_import_refuses_a_bad_file_with_every_problem(app: AppFactory, db: str) -> None:
    at = app(user=STAFF, page="imports")
    bad = (f"{HEADER}\nR1,test,housing,440106,NOT-A-CODE,某公司,bidder,BID-FRAUD,"
           f"{TODAY},{TODAY},\nR2,test,housing,440106,91440101MA59XXXX0X,某公司,martian,"
           f"NO-SUCH-CODE,2099-01-01,,\n").encode()
    at.file_uploader(key="imp_files").upload("bad.csv", bad).run()
    before = load_data(db).records.height
    at.button(key="imp_run").click().run()
    no_exception(at)
    assert at.error[0].value.startswith(t("problems.count", "zh", n=0)[:2])
    problems = table(at, "problems")
    assert set(problems.iloc[:, 0]) == {"bad.csv"}
    assert {2, 3} <= set(problems.iloc[:, 1])
    assert {"subject_id", "subject_type"} <= set(problems.iloc[:, 2])
    reasons = list(problems.iloc[:, 3])  # in Chinese, through the catalogue
    assert t("problem.unknown_code", "zh", code="NO-SUCH-CODE",
             rules=load_data(db).rules.ruleset.name + " "
             + load_data(db).rules.ruleset.version) in reasons
    assert load_data(db).records.height == before  # nothing imported


def test_import_checks_then_imports_and_the_rankings_follow(app: AppFactory, db: str
                                                            ) -> None:
    data = load_data(db)
    clean = evaluate.compute(data, TODAY).filter(
        (pl.col("subject_type") == "bidder") & (pl.col("index") == 100)).row(0, named=True)
    yesterday = TODAY - dt.timedelta(days=1)
    row = (f"UI-1,ui-test,housing,440106,{clean['subject_id']},{clean['subject_name']},"
           f"bidder,BID-COLLUSION,{yesterday},{yesterday},穗建罚〔2026〕1号\n")
    at = app(user=STAFF, page="imports")
    at.file_uploader(key="imp_files").upload("new.csv", f"{HEADER}\n{row}".encode()).run()
    at.button(key="imp_validate").click().run()
    assert at.success[0].value == t("import.valid", "zh", rows=1)
    assert load_data(db).records.height == data.records.height
    at.button(key="imp_run").click().run()
    no_exception(at)
    assert at.success[0].value.startswith(t("import.done", "zh", id=2, rows=1, added=1,
                                            events=0, subjects=0, changed=0)[:10])
    assert load_data(db).records.height == data.records.height + 1
    assert audit_trail(db, action="records.import").get_column("actor")[-1] == "staff"
    at.switch_page("creditindex/ui/pages/rankings.py").run()
    at.text_input(key="rk_query").set_value(clean["subject_id"]).run()
    shown = table(at, "rk_table")
    assert list(shown.iloc[0, [3, 6]]) == [70.0, True]  # 30 points off, restricted


def _record_with_open_history(db: str) -> dict[str, object]:
    data = load_data(db)
    ded = evaluate.compute(data, TODAY).filter(
        (pl.col("subject_type") == "bidder") & (pl.col("deducted") > 0)).row(0, named=True)
    explained = evaluate.explain(data, ded["subject_id"], TODAY, subject_type="bidder")
    rec = explained.row(0, named=True)
    return {**rec, "subject_id": ded["subject_id"], "index": ded["index"]}


def test_objection_upheld_revokes_the_record(app: AppFactory, db: str) -> None:
    rec = _record_with_open_history(db)
    at = app(user=STAFF, page="lifecycle")
    at.text_input(key="life_query").set_value(str(rec["record_id"])).run()
    no_exception(at)
    assert table(at, "life_found").iloc[0, 4] == rec["record_id"]
    at.text_area[0].set_value("当事人称处罚决定已被复议撤销")
    at = submit(at, "life.file_objection")
    no_exception(at)
    assert at.success[0].value == t("life.done", "zh", what=t("event.objection_filed", "zh"))
    at.radio[0].set_value("upheld")
    at.text_input[1].set_value("穗复决〔2026〕9号")
    at = submit(at, "life.decide")
    no_exception(at)
    events = table(at, "life_events")
    assert list(events.iloc[:, 1]) == [t("event.objection_filed", "zh"),
                                       t("event.objection_decided", "zh"),
                                       t("event.revoked", "zh")]
    data = load_data(db)
    after = evaluate.explain(data, str(rec["subject_id"]), TODAY, subject_type="bidder")
    assert rec["record_id"] not in after.get_column("record_id").to_list()
    log = audit_trail(db).filter(pl.col("action").str.starts_with("objection."))
    assert log.get_column("actor").to_list() == ["staff", "staff"]


def test_repair_refused_before_the_minimum_publication(app: AppFactory, db: str) -> None:
    data = load_data(db)
    rules = data.rules.behaviour_by_code()
    recent = data.records.filter(
        (pl.col("decided_on") > TODAY - dt.timedelta(days=60))
        & pl.col("repaired_on").is_null() & pl.col("revoked_on").is_null()
        & pl.col("behaviour_code").is_in([c for c, b in rules.items()
                                          if (b.min_publish_days or 0) >= 90])
    ).row(0, named=True)
    at = app(user=STAFF, page="lifecycle")
    at.text_input(key="life_query").set_value(recent["record_id"]).run()
    at = submit(at, "life.repair")
    no_exception(at)
    assert "min_publish_days" in at.error[0].value


def test_manual_restriction_takes_two_people_and_can_be_lifted(app: AppFactory,
                                                               db: str) -> None:
    clean = evaluate.compute(load_data(db), TODAY).filter(
        (pl.col("subject_type") == "bidder") & ~pl.col("restricted")).row(0, named=True)
    at = app(user=STAFF, page="lifecycle")
    at.text_input[1].set_value(clean["subject_id"])
    at.text_input[2].set_value("粤公交监〔2026〕3号")
    at.text_area[0].set_value("围标串标调查期间暂停交易")
    at = submit(at, "life.propose_restrict")
    no_exception(at)
    assert len(table(at, "life_manual_list")) == 0  # not in force before a second person
    assert len(table(at, "life_requests")) == 1
    assert next(b for b in at.button if b.label == t("life.approve", "zh")).disabled
    add_user(db, "staff2", "staff", "another password", by="test")
    other = app(user=User("staff2", "staff"), page="lifecycle")
    other = submit(other, "life.approve")
    no_exception(other)
    manual = table(other, "life_manual_list")
    assert clean["subject_id"] in list(manual.iloc[:, 1])
    assert list(manual.iloc[0, [7, 8]]) == ["staff", "staff2"]  # entered, approved by
    other.switch_page("creditindex/ui/pages/eligibility.py").run()
    other.text_area(key="elig_ids").set_value(clean["subject_id"]).run()
    other.button(key="elig_run").click().run()
    assert table(other, "elig_table").iloc[0, 2] == t("elig.no", "zh")
    assert t("cause.manual", "zh") in list(table(other, "elig_grounds").iloc[:, 1])
    # lifted (dated, audited) through the store: eligible again from that day
    rid = int(lifecycle.manual_restrictions(db).get_column("id")[0])
    req = approvals.propose(db, "restriction.lift", {"restriction_id": rid, "on": TODAY,
                                                     "reason": "调查结束"}, user="staff")
    approvals.decide(db, req, user="staff2", outcome="approved")
    ui_data.changed()
    assert evaluate.check(load_data(db), TODAY, [clean["subject_id"]]).table.get_column(
        "eligible")[0] == (not clean["restricted"])
    assert audit_trail(db, action="restriction.lift").get_column("actor")[-1] == "staff2"


def test_work_queue_lists_open_objections_with_deadlines(app: AppFactory, db: str) -> None:
    rec = _record_with_open_history(db)
    source = load_data(db).records.filter(pl.col("record_id") == rec["record_id"]).get_column(
        "source")[0]
    lifecycle.file_objection(db, source, str(rec["record_id"]), user="staff",
                             reason="异议", on=TODAY)
    ui_data.changed()
    at = app(user=STAFF, page="lifecycle")
    no_exception(at)
    queue = table(at, "life_q_obj")
    assert list(queue.iloc[:, 4]) == [rec["record_id"]]
    assert queue.iloc[0, 1] == (queues.add_working_days(TODAY, queues.objection_days())
                                - TODAY).days


def test_audit_log_for_staff_and_regulators(app: AppFactory) -> None:
    for user in (STAFF, REGULATOR):
        at = app(user=user, page="audit")
        no_exception(at)
        log = table(at, "au_table")  # in words, not action codes
        words = {t(f"audit.act.{a}", "zh") for a in ("records.import", "rules.publish",
                                                      "user.add")}
        assert words <= set(log.iloc[:, 3])
        assert not any(str(v).startswith("{") for v in log.iloc[:, 5])  # no raw JSON
        at.multiselect(key="au_action").set_value(["user.add"]).run()
        assert set(table(at, "au_table").iloc[:, 3]) == {t("audit.act.user.add", "zh")}


def test_credit_repair_granted_stops_the_deduction(app: AppFactory, db: str) -> None:
    data = load_data(db)
    rules = data.rules.behaviour_by_code()
    ledger = evaluate.compute(data, TODAY).filter(pl.col("deducted") > 0)
    counted = pl.concat([evaluate.explain(data, sid, TODAY, subject_type=st_)
                         .with_columns(pl.lit(sid).alias("sid"))
                         for sid, st_ in ledger.select("subject_id", "subject_type")
                         .head(40).iter_rows()], how="diagonal_relaxed")
    old_enough = counted.filter(pl.col("decided_on") + pl.duration(days=pl.col(
        "behaviour_code").replace_strict({c: b.min_publish_days or 0 for c, b in
                                          rules.items()}, return_dtype=pl.Int64))
        <= TODAY).row(0, named=True)
    at = app(user=STAFF, page="lifecycle")
    at.text_input(key="life_query").set_value(old_enough["record_id"]).run()
    at = submit(at, "life.apply_repair")
    at = submit(at, "life.repair")
    no_exception(at)
    assert at.success[0].value == t("life.done", "zh", what=t("event.repair_granted", "zh"))
    after = evaluate.explain(load_data(db), old_enough["sid"], TODAY,
                             subject_type=old_enough["subject_type"])
    assert old_enough["record_id"] not in after.get_column("record_id").to_list()
    kinds = list(table(at, "life_events").iloc[:, 1])
    assert kinds == [t("event.repair_applied", "zh"), t("event.repair_granted", "zh")]
