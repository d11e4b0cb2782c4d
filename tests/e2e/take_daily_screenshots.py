"""Screenshots of the daily-work release for the notes (not a test):

    .venv/bin/python -m tests.e2e.take_daily_screenshots [--out docs/screenshots]

Phone-width pages, deep links, the staff's work queues and the two-person rule, the audit
log in words, the sign-in prompt and the account lockout; on a fresh copy of the sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e import harness as h


def shot(page: Any, out: Path, name: str, full: bool = False) -> None:
    h.wait_idle(page)
    page.screenshot(path=str(out / f"{name}.png"), full_page=full)
    print(f"wrote {out / name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=h.ROOT / "docs" / "screenshots")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    import polars as pl

    from creditindex import evaluate
    from creditindex.store import approvals, lifecycle
    from creditindex.store.db import dispose_engines
    from creditindex.store.load import load_data
    from creditindex.store.users import add_user

    today = dt.date.today()
    with tempfile.TemporaryDirectory() as tmp:
        db = h.build_sample_db(Path(tmp))
        url_db = f"sqlite:///{db}"
        data = load_data(url_db)
        answer = evaluate.compute(data, today)
        bidders = answer.filter(pl.col("subject_type") == "bidder")
        restricted = bidders.filter(pl.col("restricted")).row(0, named=True)
        clean = bidders.filter(~pl.col("restricted")).row(5, named=True)
        add_user(url_db, "staff2", "staff", "staff2-demo", by="sample-setup")
        rec = data.records.filter(pl.col("subject_id") == restricted["subject_id"]).row(
            0, named=True)
        lifecycle.file_objection(url_db, rec["source"], rec["record_id"], user="staff",
                                 reason="当事人称处罚决定已被复议撤销", on=today)
        approvals.propose(url_db, "restriction.add",
                          {"subject_id": clean["subject_id"], "start": today.isoformat(),
                           "reason": "围标串标调查期间暂停交易",
                           "document_no": "粤公交监〔2026〕3号"}, user="staff")
        dispose_engines()
        with h.streamlit_server(db, Path(tmp) / "streamlit.log") as url, \
                h.chromium() as browser:
            phone = browser.new_context(viewport={"width": 390, "height": 844})
            p = phone.new_page()
            h.load(p, url)
            p.locator(h.GRID).first.scroll_into_view_if_needed()
            shot(p, out, "20-rankings-phone")
            h.load(p, url, f"profile?subject={restricted['subject_id']}&type=bidder")
            shot(p, out, "21-profile-phone-deeplink")
            h.load(p, url, "eligibility")
            box = p.get_by_label("候选人代码（每行一个，或以逗号分隔）")
            box.fill(f"{restricted['subject_id']}\n{clean['subject_id']}")
            box.press("Control+Enter")
            h.wait_idle(p)
            p.get_by_role("button", name="开始核查").click()
            h.wait_idle(p)
            p.locator(h.GRID).first.scroll_into_view_if_needed()
            shot(p, out, "22-eligibility-phone")
            phone.close()

            desk = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = desk.new_page()
            h.load(page, url, "lifecycle")
            shot(page, out, "23-please-sign-in")
            h.sign_in(page, url, "staff2", "staff2-demo")
            h.load(page, url, "lifecycle")  # by URL: the session cookie signs in again
            shot(page, out, "24-staff-queues")
            page.get_by_role("tab", name="待审批（1）").click()
            shot(page, out, "25-approval-second-person", full=True)
            h.load(page, url, "audit")
            shot(page, out, "26-audit-in-words")
            desk.close()

            other = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = other.new_page()
            for _ in range(5):
                h.load(page, url, "signin")
                page.get_by_label("用户名").fill("regulator")
                page.get_by_label("密码").fill("wrong password")
                page.get_by_role("button", name="登录").click()
                h.wait_idle(page)
            shot(page, out, "27-signin-locked")
            other.close()


if __name__ == "__main__":
    main()
