"""Evidence reports of a fixed set of checks, as a release stores or renders them: the
worked examples (a consortium, a lender-financed project with the lender's list, a
category, a knowledge day, a code no data name) and the sample data set (experts'
resident ID numbers, many grounds), each check made the command line's way
(:func:`issue_check`) and, where the API server answers from its day answers, the
server's way. Time, software versions and the store's address are fixed, so the reports
are the same bytes whenever they are made.

``evidence_golden.json`` beside this file holds the reports the release before stored
(the report itself, Chinese) and their English rendering (of the payload they embed), made
with that release's code (main at 951b32e), from the project root::

    PYTHONPATH=OLD_CHECKOUT:. .venv/bin/python tests/store/evidence_golden.py \
        tests/store/evidence_golden.json

``test_evidence_payload.py`` makes the same checks with this code, which stores the
payload, and renders them when asked: they must be byte-identical.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.store import storetest
from tests.store.storetest import E, F, G, H, S, V, X, uscc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

DAY = dt.date(2026, 6, 1)
SAMPLE_DAY = dt.date(2026, 11, 30)
MADE = dt.datetime(2026, 6, 1, 2, 3, 4, tzinfo=dt.UTC)
SOFTWARE = {"creditindex": "0.0", "python": "3.11", "polars": "1.0"}
SHOWN_DB = "sqlite:///golden.sqlite"

# (name, data set, request arguments); names that end in "/api" are made the server's way.
WORKED = [
    ("one", {"subject_ids": (V,)}),
    ("all", {"subject_ids": (V, G, H, S, E, F, X)}),
    ("consortium", {"subject_ids": (V, G), "consortium": True}),
    ("lender", {"subject_ids": (H, G, F), "financier": "worldbank"}),
    ("category", {"subject_ids": (F, S, X), "category": "procurement"}),
    ("known_on", {"subject_ids": (E, X, V), "known_on": dt.date(2026, 2, 10)}),
    ("unknown", {"subject_ids": (uscc(91), H, uscc(92))}),
    ("bidders", {"subject_ids": (V, H, X), "subject_type": "bidder"}),
]


class _Frozen(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _Frozen:  # type: ignore[override]
        return cls.fromtimestamp(MADE.timestamp(), tz)


@contextmanager
def fixed() -> Iterator[None]:
    """The time of making, the software versions and the store's address fixed."""
    import creditindex.evidence as evidence
    import creditindex.store.db as db

    saved = evidence.dt, evidence._software, db.display_url  # type: ignore[attr-defined]
    evidence.dt = types.SimpleNamespace(  # type: ignore[assignment]
        date=dt.date, datetime=_Frozen, UTC=dt.UTC, timedelta=dt.timedelta)
    evidence._software = lambda: dict(SOFTWARE)  # type: ignore[attr-defined]
    db.display_url = lambda url: SHOWN_DB  # type: ignore[assignment]
    try:
        yield
    finally:
        evidence.dt, evidence._software, db.display_url = saved  # type: ignore[attr-defined]


def embedded(report: str) -> dict[str, Any]:
    """The payload a report embeds."""
    found = re.search(r'<script type="application/json" id="evidence">(.*?)</script>',
                      report, re.S)
    assert found is not None
    value = json.loads(found.group(1))
    assert isinstance(value, dict)
    return value


def _worked_store(folder: Path) -> str:
    from creditindex.store.migrations import upgrade
    from creditindex.store.users import add_user
    from tests.api.apitest import cli, write_store_files

    url = f"sqlite:///{folder / 'worked.sqlite'}"
    upgrade(url)
    add_user(url, "rita", "regulator", storetest.PASSWORD, by="setup")
    add_user(url, "alice", "staff", storetest.PASSWORD, by="setup")
    files = write_store_files(folder / "data")
    cli("rules", "publish", str(files["rules"]), "--db", url, "--user", "rita",
        "--effective", "2020-01-01")
    cli("import", "--db", url, "--records", str(files["records"]), "--subjects",
        str(files["subjects"]), "--user", "alice", "--today", storetest.TODAY.isoformat(),
        "--no-progress")
    cli("lists", "import", str(files["lists"]), "--db", url)
    return url


def _sample_store(folder: Path) -> str:
    from creditindex.store.migrations import upgrade
    from creditindex.store.users import add_user
    from tests.api.apitest import cli

    url = f"sqlite:///{folder / 'sample.sqlite'}"
    upgrade(url)
    add_user(url, "alice", "staff", storetest.PASSWORD, by="setup")
    sample = ROOT / "data" / "sample"
    cli("import", "--db", url, "--records", str(sample / "records.csv"), "--subjects",
        str(sample / "subjects.csv"), "--user", "alice", "--today", "2026-11-26",
        "--no-progress")
    return url


def _sample_requests(url: str) -> list[tuple[str, dict[str, Any]]]:
    """Subjects of the sample with the most grounds (experts among them), and others."""
    import random

    from creditindex.store.load import load_data

    data = load_data(url)
    from creditindex import evaluate

    table = evaluate.compute(data, SAMPLE_DAY, SAMPLE_DAY)
    ineligible = sorted(set(table.filter(table["restricted"]).get_column("subject_id")))
    everyone = sorted(set(table.get_column("subject_id")))
    rng = random.Random(20261130)
    asks = []
    for i in range(6):
        ids = rng.sample(ineligible, 4) + rng.sample(everyone, 4)
        asks.append((f"sample{i}", {"subject_ids": tuple(dict.fromkeys(ids))}))
    return asks


def _report(url: str, check_id: int) -> str:
    from creditindex.store.checks import get_check

    stored = get_check(url, check_id)
    if hasattr(stored, "evidence_report"):  # this release: rendered when asked
        assert stored.evidence_html is None and stored.evidence is not None
        report = stored.evidence_report()
        assert report is not None
        return str(report)
    assert stored.evidence_html is not None  # the release before: stored as HTML
    return str(stored.evidence_html)


def _english(url: str, check_id: int, report: str) -> str:
    from creditindex.evidence import render_evidence
    from creditindex.store.checks import get_check

    stored = get_check(url, check_id)
    if hasattr(stored, "evidence_report"):
        english = stored.evidence_report("en")
        assert english is not None
        return str(english)
    return render_evidence(embedded(report), "en")


def _api_way(url: str, request: Any) -> int | None:
    """Store ``request`` as the API server does when its day answers answer it (``None``
    when they do not)."""
    from creditindex.api.answers import answerable, day_answers
    from creditindex.api.reader import lists_concerning
    from creditindex.evaluate import CreditData
    from creditindex.evidence import data_facts
    from creditindex.store import checks
    from creditindex.store.db import get_engine, write_transaction
    from creditindex.store.load import load_data

    if not answerable(request):
        return None
    data = load_data(url)
    day = day_answers(data, request)
    facts = data_facts(data)
    if hasattr(checks, "draft_from_rows"):  # this release: each subject's rows
        parts = day.subject_rows(request.ids)
        if parts is None:
            return None
        draft = checks.draft_from_rows(
            url, request, parts, rules=data.rules, on=day.result.on,
            known_on=day.result.known_on, facts=facts, frames=lambda: None,
            channel="api")
    else:  # the release before: the engine's frames of the day answers
        members = day.answer(request.ids)
        if members is None:
            return None
        mine = data.for_subjects(request.ids)
        narrowed = CreditData(records=mine.records, rules=mine.rules,
                              subjects=mine.subjects, manual=mine.manual,
                              lists=lists_concerning(data.lists, request.ids))
        draft = checks.draft_check(url, narrowed, request, channel="api", facts=facts,
                                   members=members)
    with write_transaction(get_engine(url)) as conn:
        return int(checks.store_draft(conn, draft).id)


def make(folder: Path) -> dict[str, dict[str, str]]:
    """Every check's report, Chinese (``zh``) and English (``en``), by name."""
    from creditindex.certificate import CheckRequest
    from creditindex.store.checks import issue_check
    from creditindex.store.load import load_data

    out: dict[str, dict[str, str]] = {}
    with fixed():
        worked, sample = _worked_store(folder), _sample_store(folder)
        for url, day, asks in ((worked, DAY, WORKED),
                               (sample, SAMPLE_DAY, _sample_requests(sample))):
            data = load_data(url)
            for name, args in asks:
                request = CheckRequest(on=day, project_no="GZ-1", **args)
                made = {name: issue_check(url, data, request, user="alice").id}
                api = _api_way(url, request)
                if api is not None:
                    made[f"{name}/api"] = api
                for key, check_id in made.items():
                    report = _report(url, check_id)
                    out[key] = {"zh": report, "en": _english(url, check_id, report)}
    return out


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        made = make(Path(tmp))
    Path(sys.argv[1]).write_text(json.dumps(made, ensure_ascii=False, indent=0) + "\n",
                                 encoding="utf-8")
    print(f"{len(made)} reports written to {sys.argv[1]}")
