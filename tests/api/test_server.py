"""The API over HTTP against a real server and a real store (SQLite, PostgreSQL,
MariaDB): keys (good, missing, wrong, revoked, wrong scope), bad codes, a consortium, a
lender-financed project, limits, certificates read back from PDF and verified from a
second process, credit points, profiles, history and rankings. Expected answers come
from the engine reading the same files."""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io
import subprocess
import sys
import time
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from creditindex import evaluate
from creditindex.api.app import EligibilityAnswer
from creditindex.api.key_cache import RECHECK_SECONDS
from creditindex.evidence import mask_personal
from creditindex.store.db import get_engine, table
from tests.api.apitest import DAY, LENDER, ROOT, Server, add_key, cli, storetest

E, F, G, H, S, V, X = (storetest.E, storetest.F, storetest.G, storetest.H, storetest.S,
                       storetest.V, storetest.X)


def expected(server: Server, ids: list[str], **kwargs: Any) -> pl.DataFrame:
    """The engine's answer on the same data read from the files."""
    data = storetest.file_data(server.files, records="records")
    if "financier" not in inspect.signature(evaluate.check).parameters:
        kwargs.pop("financier", None)
    return evaluate.check(data, dt.date.fromisoformat(DAY), ids, **kwargs).table


def count(server: Server, name: str) -> int:
    """Rows in a store table."""
    with get_engine(server.db).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The JSON error of a response, checked."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()["error"]
    assert body["status"] == status and body["code"] == code, body
    return dict(body)


def check(server: Server, key: str, **body: Any) -> Any:
    body.setdefault("on", DAY)
    with server.client(key) as http:
        return http.post("/v1/eligibility", json=body)


def test_an_eligibility_check_is_answered_stored_and_certified(server: Server) -> None:
    ids = [V, F, G, S, X]
    before = count(server, "eligibility_check")
    got = check(server, "check", codes=ids, project={"no": "GZ2026-0815", "name": "道路改造工程"},
                lot={"no": "2", "name": "第二标段"}, operator="张三")
    assert got.status_code == 200, got.text
    answer = got.json()
    EligibilityAnswer.model_validate(answer, strict=False)  # the documented answer
    want = expected(server, ids)
    assert [s["subject_id"] for s in answer["subjects"]] == want.get_column("subject_id").to_list()
    assert [s["eligible"] for s in answer["subjects"]] == want.get_column("eligible").to_list()
    assert [s["index"] for s in answer["subjects"]] == want.get_column("index").to_list()
    assert not all(s["eligible"] for s in answer["subjects"])  # the data make some ineligible
    assert answer["eligible"] == all(want.get_column("eligible"))
    grounded = {g["subject_id"] for g in answer["grounds"]}
    assert grounded == set(want.filter(~pl.col("eligible")).get_column("subject_id"))
    assert count(server, "eligibility_check") == before + 1
    with get_engine(server.db).connect() as conn:
        certs = table("check_certificate")
        row = conn.execute(select(certs).where(certs.c.check_no == answer["check_no"])).one()
    assert row.verify_code == answer["verification_code"]
    assert row.check_id == answer["check_id"]
    assert (row.project_no, row.lot_name, row.channel) == ("GZ2026-0815", "第二标段", "api")
    assert row.operator == "广州公共资源交易平台/张三"


def test_a_check_names_only_the_grounds_of_the_subjects_asked(server: Server) -> None:
    # X is on a list by its code: a check of others must not carry X's ground (the
    # server reads, for a check, only the list entries that may concern the codes asked).
    for _ in range(4):  # the engine, then (asked thrice, computed) the day's answers
        got = check(server, "check", codes=[F, G])
        assert got.status_code == 200, got.text
        answer = got.json()
        assert {g["subject_id"] for g in answer["grounds"]} <= {F, G}
        want = expected(server, [F, G])
        assert [s["eligible"] for s in answer["subjects"]] == want["eligible"].to_list()
        time.sleep(1)


def test_the_certificate_reads_back_and_verifies_from_another_process(server: Server) -> None:
    answer = check(server, "check", codes=[V, G], project={"no": "P-7", "name": "学校扩建"},
                   lot={"no": "1", "name": "施工"}).json()
    with server.client("check") as http:
        pdf = http.get(answer["certificate"]["pdf"])
        page = http.get(answer["certificate"]["html"])
    with server.client("read") as http:  # another platform: by code only (numbers run on)
        error(http.get(answer["certificate"]["pdf"]), 404, "not_found")
    with server.client("staff") as http:
        assert http.get(answer["certificate"]["html"]).status_code == 200
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = "".join(text.split())
    for needed in ("资格核查证明", answer["check_no"], answer["verification_code"], "学校扩建",
                   "己公司", "乙交通工程有限公司", "不符合", "串通投标"):
        assert needed in flat, needed
    assert "资格核查证明" in page.text and answer["verification_code"] in page.text
    done = subprocess.run(
        [sys.executable, "-m", "creditindex", "verify", answer["verification_code"].lower(),
         "--db", server.db], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "真实有效" in done.stdout and answer["check_no"] in done.stdout
    assert "乙交通工程有限公司" in done.stdout and "不符合" in done.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "creditindex", "verify", "AAAA-BBBB-CCCC-DDDD", "--db",
         server.db], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 1 and "不存在" in unknown.stdout
    with server.client() as http:  # verification is public: no key
        public = http.get(f"/v1/verify/{answer['verification_code']}")
        missing = http.get("/v1/verify/AAAA-BBBB-CCCC-DDDD")
    assert public.status_code == 200 and public.json()["check_no"] == answer["check_no"]
    error(missing, 404, "unknown_code")


def test_codes_failing_their_check_digit_are_refused_by_field(server: Server) -> None:
    bad_uscc = V[:-1] + ("0" if V[-1] != "0" else "1")
    bad_rid = E[:-1] + ("0" if E[-1] != "0" else "1")
    before = count(server, "eligibility_check")
    body = error(check(server, "check", codes=[V, bad_uscc, bad_rid]), 400, "bad_request")
    problems = {p["field"]: p for p in body["problems"]}
    assert set(problems) == {"codes[1]", "codes[2]"}
    assert "check character should be" in problems["codes[1]"]["reason"]
    assert problems["codes[1]"]["value"] == bad_uscc
    assert "resident ID check character should be" in problems["codes[2]"]["reason"]
    assert count(server, "eligibility_check") == before  # nothing answered, nothing stored
    shape = error(check(server, "check", codes="not a list"), 400, "bad_request")
    assert shape["problems"][0]["field"] == "codes"
    unknown = error(check(server, "check", codes=[V], category="fishing"), 400, "bad_request")
    assert unknown["problems"][0]["field"] == "category"


def test_keys_missing_wrong_revoked_and_without_scope(server: Server) -> None:
    error(check(server, None, codes=[V]), 401, "missing_key")  # type: ignore[arg-type]
    forged = server.keys["check"][:-4] + "AAAA"
    error(check(server, forged, codes=[V]), 401, "bad_key")
    error(check(server, "not-a-key", codes=[V]), 401, "bad_key")
    error(check(server, "read", codes=[V]), 403, "missing_scope")
    doomed = add_key(server.db, "将被吊销的平台", "check", "read")
    assert check(server, doomed, codes=[V]).status_code == 200  # the server keeps the key
    key_id = doomed.split("_")[1]
    assert "revoked" in cli("apikeys", "revoke", key_id, "--db", server.db)
    time.sleep(RECHECK_SECONDS)  # revoked by another process: seen within this time
    body = error(check(server, doomed, codes=[V]), 403, "revoked_key")
    assert key_id in body["message"]
    listed = cli("apikeys", "list", "--db", server.db)
    assert f"{key_id}\t将被吊销的平台" in listed and "revoked" in listed
    assert doomed not in listed  # secrets are never shown again
    with get_engine(server.db).connect() as conn:
        keys = table("api_key")
        stored = conn.execute(select(keys.c.secret_sha256).where(keys.c.key_id == key_id)
                              ).scalar_one()
    assert stored != doomed and len(stored) == 64
    uses = _uses(server, key_id, 2)
    assert [u["status"] for u in uses] == [200, 403]
    assert uses[0]["check_id"] is not None


def _uses(server: Server, key_id: str, n: int) -> list[dict[str, Any]]:
    log = table("api_key_use")
    deadline = time.monotonic() + 20
    while True:
        with get_engine(server.db).connect() as conn:
            rows = conn.execute(select(log).where(log.c.key_id == key_id).order_by(log.c.id)
                                ).mappings().all()
        if len(rows) >= n or time.monotonic() > deadline:
            return [dict(r) for r in rows]
        time.sleep(0.2)


def test_a_consortium_lists_every_member_then_its_result(server: Server) -> None:
    answer = check(server, "check", codes=[V, G], consortium=True,
                   project={"no": "LH-1"}).json()
    members = expected(server, [V, G])
    together = expected(server, [V, G], consortium=True).row(0, named=True)
    assert [s["eligible"] for s in answer["subjects"]] == members.get_column("eligible").to_list()
    assert answer["consortium"]["eligible"] is together["eligible"] is False
    assert answer["consortium"]["index"] == together["index"] == min(
        members.get_column("index"))
    assert answer["consortium"]["subject_id"] == f"{V}+{G}"
    assert answer["eligible"] is False
    one = error(check(server, "check", codes=[V], consortium=True), 400, "bad_request")
    assert one["problems"][0]["field"] == "consortium"


def test_a_lender_financed_project_is_answered_for_its_financier(server: Server) -> None:
    plain = check(server, "check", codes=[H]).json()
    lender = check(server, "check", codes=[H], financier=LENDER,
                   project={"no": "WB-P1", "name": "世界银行贷款项目"}).json()
    assert plain["subjects"][0]["eligible"] == expected(server, [H]).row(0, named=True)[
        "eligible"]
    assert plain["subjects"][0]["eligible"] is True  # the lender's list bars its projects only
    want = expected(server, [H], financier=LENDER).row(0, named=True)
    assert lender["subjects"][0]["eligible"] is want["eligible"] is False
    assert lender["financier"] == LENDER
    assert any(g["cause"] == "list" for g in lender["grounds"])
    with server.client("check") as http:
        stated = http.get(f"/v1/checks/{lender['check_no']}").json()
    assert stated["financier"] == LENDER and stated["project"]["no"] == "WB-P1"
    # A firm without records, named as on the lender's list, is matched by its name.
    newcomer = storetest.uscc(50)
    named = check(server, "check", codes=[newcomer], financier=LENDER,
                  names={newcomer: "丙公司"}).json()
    assert named["subjects"][0]["subject_name"] == "丙公司"
    assert named["subjects"][0]["eligible"] is False
    assert any(g["cause"] == "list" for g in named["grounds"])


def test_request_limits_answer_429_with_json(server: Server) -> None:
    statuses = [check(server, "limited", codes=[V]).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    over = check(server, "limited", codes=[V])
    body = error(over, 429, "rate_limited")
    assert "3 requests per minute" in body["message"]
    assert int(over.headers["Retry-After"]) >= 1
    key_id = server.keys["limited"].split("_")[1]
    assert [u["status"] for u in _uses(server, key_id, 4)][-1] == 429


def test_experts_are_for_staff_scoped_keys_only(server: Server) -> None:
    error(check(server, "check", codes=[E]), 403, "staff_only")
    staff = check(server, "staff", codes=[E])
    assert staff.status_code == 200
    assert staff.json()["subjects"][0]["subject_id"] == mask_personal(E) != E
    with server.client("read") as http:
        error(http.get(f"/v1/subjects/{E}", params={"on": DAY}), 403, "staff_only")
        error(http.get("/v1/rankings", params={"type": "expert", "on": DAY}), 403, "staff_only")
    with server.client("staff") as http:
        profile = http.get(f"/v1/subjects/{E}", params={"on": DAY})
        ranking = http.get("/v1/rankings", params={"type": "expert", "on": DAY})
    assert profile.status_code == 200 and profile.json()["audience"] == "staff"
    assert E not in profile.text  # masked even for staff
    assert ranking.status_code == 200 and ranking.json()["total"] == 1


def test_profile_history_and_rankings(server: Server) -> None:
    data = storetest.file_data(server.files, records="records")
    day = dt.date.fromisoformat(DAY)
    with server.client("read") as http:
        profile = http.get(f"/v1/subjects/{F}", params={"on": DAY}).json()
        history = http.get(f"/v1/subjects/{F}/history",
                           params={"from": "2026-05-30", "to": "2026-06-02"}).json()
        page = http.get("/v1/rankings", params={"type": "bidder", "on": DAY, "size": 2,
                                                "page": 2}).json()
        bad = http.get("/v1/subjects/91440106MA0000001X")
    ded = evaluate.explain(data, F, day, subject_type="bidder")
    role = profile["roles"][0]
    assert role["index"] == expected(server, [F]).row(0, named=True)["index"]
    terms = " - ".join(f"{p:g}" for p in ded.get_column("points").to_list())
    assert role["arithmetic"].startswith(f"100 - {terms}")
    assert role["arithmetic"].endswith(f"= {role['index']:g}")
    want = evaluate.history(data, F, dt.date(2026, 5, 30), dt.date(2026, 6, 2))
    assert [d["index"] for d in history["days"]] == want.get_column("index").to_list()
    ranked = evaluate.compute(data, day).filter(pl.col("subject_type") == "bidder")
    assert page["total"] == ranked.height
    assert [r["subject_id"] for r in page["rows"]] == ranked.slice(2, 2).get_column(
        "subject_id").to_list()
    assert error(bad, 400, "bad_code")["problems"][0]["field"] == "code"


def test_credit_points_are_frozen_once_and_exported(server: Server) -> None:
    tender = f"T-{server.url.rsplit(':', 1)[1]}"
    formula = {"name": "综合信用得分", "basis": "穗财采〔2026〕1号", "method": "index_weight",
               "weight": 0.05, "max_points": 5}
    with server.client("check") as http:
        refused = http.put(f"/v1/tenders/{tender}/formula", json=formula)
    error(refused, 403, "missing_scope")
    with server.client("staff") as http:
        local = http.put(f"/v1/tenders/{tender}/formula",
                         json={**formula, "local_registration_bonus": 2})
        body = error(local, 400, "bad_formula")
        assert "860号" in body["message"]
        assert http.put(f"/v1/tenders/{tender}/formula", json=formula).status_code == 200
    bidders = [V, F, S]
    deadline = "2026-06-01T09:30:00"
    with server.client("check") as http:
        frozen = http.post(f"/v1/tenders/{tender}/points",
                           json={"bidders": bidders, "deadline": deadline,
                                 "project": {"no": tender}})
        again = http.post(f"/v1/tenders/{tender}/points",
                          json={"bidders": bidders, "deadline": deadline})
        table_csv = http.get(f"/v1/tenders/{tender}/points", params={"format": "csv"})
        table_xlsx = http.get(f"/v1/tenders/{tender}/points", params={"format": "xlsx"})
    assert frozen.status_code == 200, frozen.text
    error(again, 409, "conflict")
    want = expected(server, bidders, subject_type="bidder").with_columns(
        pl.when(pl.col("eligible")).then((pl.col("index") * 0.05).clip(0, 5)).otherwise(0.0)
        .round(2).alias("points"))
    got = {r["subject_id"]: r["points"] for r in frozen.json()["rows"]}
    assert got == dict(want.select("subject_id", "points").iter_rows())
    rows = list(csv.DictReader(io.StringIO(table_csv.content.decode("utf-8-sig"))))
    assert {r["统一社会信用代码"]: float(r["信用分"]) for r in rows} == got
    assert {r["核查编号"] for r in rows} == {frozen.json()["rows"][0]["check_no"]}
    sheet = pl.read_excel(io.BytesIO(table_xlsx.content))
    assert sheet.get_column("信用分").to_list() == [float(r["信用分"]) for r in rows]


def test_openapi_documents_the_endpoints(server: Server) -> None:
    with server.client() as http:
        docs = http.get("/docs")
        spec = http.get("/openapi.json").json()
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    for path in ("/v1/eligibility", "/v1/verify/{code}", "/v1/subjects/{code}",
                 "/v1/rankings", "/v1/tenders/{tender_no}/points"):
        assert path in spec["paths"], path
    answer = spec["paths"]["/v1/eligibility"]["post"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith(
        "/EligibilityAnswer")
    assert "verification_code" in spec["components"]["schemas"]["EligibilityAnswer"][
        "properties"]


@pytest.mark.parametrize("fmt", ["pdf"])
def test_the_credit_report_over_http(server: Server, fmt: str) -> None:
    with server.client("read") as http:
        pdf = http.get(f"/v1/subjects/{G}/report.{fmt}", params={"on": DAY})
    assert pdf.status_code == 200
    text = "".join("".join(p.extract_text().split())
                   for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "信用报告" in text and "乙交通工程有限公司" in text and "串通投标" in text
