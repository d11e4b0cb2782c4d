"""A check stores its evidence as a payload and the report is rendered when asked: the
rendering of a new check is byte-identical to the report the release before stored for
the same check (Chinese) and to its English rendering (``evidence_golden.json``, made by
that release: a consortium, a lender-financed project, a category, a knowledge day, a
code no data name, the sample data's experts and grounds; the command line's way and the
API server's). Checks stored before keep serving their stored report, and the command
line renders a check's report from another process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditindex.certificate import CheckRequest, run_check
from creditindex.cli import main
from creditindex.evidence import render_evidence
from creditindex.store.checks import count_checks, get_check, issue_check, save_check
from creditindex.store.db import utcnow
from creditindex.store.load import load_data
from creditindex.store.migrations import upgrade
from tests.store.evidence_golden import HERE, V, embedded, make

GOLDEN = json.loads((HERE / "evidence_golden.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    return make(tmp_path_factory.mktemp("golden"))


def test_the_checks_cover_a_consortium_a_lender_and_the_servers_way() -> None:
    assert {"consortium", "lender", "lender/api", "unknown/api", "sample0/api"} <= set(GOLDEN)
    assert "联合体" in GOLDEN["consortium"]["zh"] or "consortium" in GOLDEN["consortium"]["zh"]
    assert "worldbank" in embedded(GOLDEN["lender"]["zh"])["inputs"]["financier"]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_rendered_when_asked_equals_what_was_stored_before(
        reports: dict[str, dict[str, str]], name: str) -> None:
    assert name in reports, f"{name} was not made"
    assert reports[name]["zh"] == GOLDEN[name]["zh"]
    assert reports[name]["en"] == GOLDEN[name]["en"]


def test_every_check_made_is_compared(reports: dict[str, dict[str, str]]) -> None:
    assert set(reports) == set(GOLDEN)


def test_a_check_stored_with_its_report_keeps_serving_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url)
    report = GOLDEN["lender"]["zh"]
    data = load_data(url)
    answer = run_check(data, CheckRequest(subject_ids=(V,), on=utcnow().date()))
    check_id = save_check(url, answer, data.rules, inputs={}, evidence_html=report)
    stored = get_check(url, check_id)
    assert stored.evidence is None and stored.evidence_report() == report
    # English: worded from the payload the stored report embeds
    assert stored.evidence_report("en") == GOLDEN["lender"]["en"]
    assert stored.evidence_report("en") == render_evidence(embedded(report), "en")
    count, size = count_checks(url, since=utcnow().replace(year=2000), by_prefix="")
    assert count == 1 and size == len(report)


def test_the_command_line_writes_a_stored_checks_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    upgrade(url)
    issued = issue_check(url, load_data(url), CheckRequest(subject_ids=(V,),
                                                           on=utcnow().date()))
    stored = get_check(url, issued.id)
    assert stored.evidence_html is None and stored.evidence is not None
    count, size = count_checks(url, since=utcnow().replace(year=2000), by_prefix="")
    assert count == 1 and 0 < size < 20_000  # the payload's JSON
    for lang in ("zh", "en"):
        out = tmp_path / f"e-{lang}.html"
        done = CliRunner().invoke(main, ["certificate", issued.check_no, "--db", url,
                                         "--evidence", str(out), "--lang", lang])
        assert done.exit_code == 0, done.output
        assert out.read_text(encoding="utf-8") == stored.evidence_report(lang)
    assert V in (tmp_path / "e-zh.html").read_text(encoding="utf-8")
