"""Screenshots of every page for the notes (not a test):

    .venv/bin/python -m tests.e2e.take_screenshots [--out docs/screenshots]

Runs the app on a fresh copy of the sample store in headless Chromium and walks through
each page as its users would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e import harness as h

WIDTH = 1400


def shot(page: Any, out: Path, name: str, height: int = 1100) -> None:
    page.set_viewport_size({"width": WIDTH, "height": height})
    h.wait_idle(page)
    page.screenshot(path=str(out / f"{name}.png"))
    print(f"wrote {out / name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=h.ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    import polars as pl

    from creditindex import evaluate
    from creditindex.store.load import load_data

    with tempfile.TemporaryDirectory() as tmp:
        db = h.build_sample_db(Path(tmp))
        answer = evaluate.compute(load_data(f"sqlite:///{db}"), dt.date.today())
        bidders = answer.filter(pl.col("subject_type") == "bidder")
        restricted = bidders.filter(pl.col("restricted")).row(3, named=True)
        clean = bidders.filter(~pl.col("restricted")).row(0, named=True)
        from creditindex.disclosure import publishable_expr

        records = load_data(f"sqlite:///{db}").records
        # a profile with several records the public may see
        busy = records.filter(publishable_expr(dt.date.today())).group_by(
            "subject_id").len().filter(pl.col("len") >= 3)
        shown = bidders.filter(pl.col("index").is_between(40, 80)
                               & pl.col("subject_id").is_in(busy.get_column("subject_id")
                                                            .implode())).row(0, named=True)
        with h.streamlit_server(db, Path(tmp) / "streamlit.log") as url, \
                h.chromium() as browser:
            page = browser.new_page(viewport={"width": WIDTH, "height": 1100},
                                    accept_downloads=True)
            # The public: rankings (Chinese, then English), a profile, an eligibility check.
            h.load(page, url)
            page.get_by_text("最低分在前").click()
            shot(page, out, "01-rankings", 1500)
            page.get_by_text("English", exact=True).click()
            shot(page, out, "02-rankings-en", 1500)
            page.get_by_text("中文", exact=True).click()
            h.wait_idle(page)
            h.open_page(page, "profile")
            search = page.get_by_label("查找主体（名称或代码）")
            search.fill(shown["subject_id"])
            search.press("Enter")
            shot(page, out, "03-profile", 1500)
            page.get_by_role("tab", name="全部记录").click()
            shot(page, out, "04-profile-records", 1500)
            h.open_page(page, "eligibility")
            box = page.get_by_label("候选人代码（每行一个，或以逗号分隔）")
            # (experts, by resident ID, are checked by signed-in staff only)
            box.fill(f"{restricted['subject_id']}\n{clean['subject_id']}")
            box.press("Control+Enter")
            h.wait_idle(page)
            page.get_by_role("button", name="开始核查").click()
            shot(page, out, "05-eligibility", 1500)
            with page.expect_download() as download:
                page.get_by_role("button", name="下载核查证据（HTML）").click()
            evidence = Path(tmp) / "evidence.html"
            download.value.save_as(evidence)
            report = browser.new_page(viewport={"width": 1100, "height": 1300})
            report.goto(evidence.as_uri())
            report.screenshot(path=str(out / "06-evidence-report.png"))
            report.close()
            # Sign-in, then staff pages.
            h.load(page, url, "signin")
            shot(page, out, "07-signin", 1000)
            h.sign_in(page, url, "staff", "staff-demo")
            h.open_page(page, "imports")
            bad = Path(tmp) / "records-with-problems.csv"
            bad.write_text(
                "record_id,source,industry,region,subject_id,subject_name,subject_type,"
                "behaviour_code,decided_on\n"
                f"X-1,demo,housing,440106,{clean['subject_id']},{clean['subject_name']},"
                "bidder,BID-FRAUD,2099-01-01\n"
                "X-2,demo,housing,4401,91440101MA59XXXX0X,某公司,bidder,NO-SUCH,2026-01-01\n",
                encoding="utf-8")
            uploader = page.locator('[data-testid="stFileUploader"] input[type=file]')
            uploader.first.set_input_files(str(bad))
            h.wait_idle(page)
            page.get_by_role("button", name="仅校验").click()
            shot(page, out, "08-imports-report", 1300)
            h.open_page(page, "lifecycle")
            page.get_by_label("查找记录（主体代码、名称、记录编号或文号）").fill(
                restricted["subject_id"])
            page.get_by_label("查找记录（主体代码、名称、记录编号或文号）").press("Enter")
            h.wait_idle(page)
            page.get_by_label("理由").first.fill("当事人提出处罚决定已被复议撤销")
            page.get_by_role("button", name="登记异议").click()
            shot(page, out, "09-lifecycle", 2000)
            h.open_page(page, "audit")
            shot(page, out, "10-audit", 1000)
            # The regulator: a draft with problems, then a heavier draft and its impact.
            page.close()  # a new browser (no staff cookie) for the regulator
            page = browser.new_page(viewport={"width": WIDTH, "height": 1100})
            h.sign_in(page, url, "regulator", "regulator-demo")
            h.open_page(page, "rules")
            page.get_by_role("tab", name="TOML 文本").click()
            editor = page.get_by_label("规则草案（TOML）")
            text = editor.input_value()
            editor.fill(text.replace("points = 30", "points = -5", 1))
            editor.press("Control+Enter")
            shot(page, out, "11-rules-problems", 1300)
            heavier = text.replace('version = "2026.1"', 'version = "2026.2"').replace(
                'name = "弄虚作假骗取中标"\nname_en = "Fraud to win a bid"\n'
                'subject_types = ["bidder"]\npoints = 20',
                'name = "弄虚作假骗取中标"\nname_en = "Fraud to win a bid"\n'
                'subject_types = ["bidder"]\npoints = 40')
            editor.fill(heavier)
            editor.press("Control+Enter")
            h.wait_idle(page)
            page.get_by_role("tab", name="表格编辑").click()
            shot(page, out, "12-rules-impact", 2600)


if __name__ == "__main__":
    main()
