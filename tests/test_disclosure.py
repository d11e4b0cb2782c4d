"""Lawful disclosure (docs/semantics.md, "Publication"): which records the public may see on
a day, and why not."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from creditindex.disclosure import (
    MAX_PUBLICATION_DAYS,
    publication_status_expr,
    publishable,
)
from creditindex.records import records_frame
from tests.helpers import row, uscc

F = uscc(3)
D = dt.date


def status(on: dt.date, **extra: str) -> str:
    frame = records_frame([row(F, "bidder", "BID-FRAUD", "2026-02-01", **extra)])
    return str(frame.select(publication_status_expr(on)).item())


@pytest.mark.parametrize(("on", "extra", "want"), [
    (D(2026, 1, 31), {}, "not_yet_recorded"),
    (D(2026, 2, 1), {}, "public"),
    (D(2026, 2, 1), {"recorded_on": "2026-02-10"}, "not_yet_recorded"),
    (D(2026, 2, 10), {"recorded_on": "2026-02-10"}, "public"),
    (D(2026, 4, 30), {"revoked_on": "2026-05-01"}, "public"),
    (D(2026, 5, 1), {"revoked_on": "2026-05-01"}, "revoked"),
    (D(2027, 1, 1), {"revoked_on": "2026-05-01"}, "revoked"),
    (D(2026, 8, 31), {"repaired_on": "2026-09-01"}, "public"),
    (D(2026, 9, 1), {"repaired_on": "2026-09-01"}, "repaired"),
    (D(2026, 12, 31), {"publish_until": "2026-12-31"}, "public"),
    (D(2027, 1, 1), {"publish_until": "2026-12-31"}, "publication_ended"),
])
def test_publication_status(on: dt.date, extra: dict[str, str], want: str) -> None:
    assert status(on, **extra) == want


def test_the_maximum_publication_period_ends_publication() -> None:
    last = D(2026, 2, 1) + dt.timedelta(days=MAX_PUBLICATION_DAYS - 1)
    assert status(last) == "public"
    assert status(last + dt.timedelta(days=1)) == "publication_ended"
    # a longer stated publication does not extend the maximum
    assert status(last + dt.timedelta(days=1), publish_until="2035-01-01") == "publication_ended"


def test_publishable_keeps_only_public_records() -> None:
    frame = records_frame([
        row(F, "bidder", "BID-FRAUD", "2026-02-01", record_id="a"),
        row(F, "bidder", "BID-FRAUD", "2026-03-01", record_id="b", revoked_on="2026-04-01"),
        row(F, "bidder", "BID-FRAUD", "2026-03-02", record_id="c", repaired_on="2026-05-01"),
    ])
    got = publishable(frame, D(2026, 6, 1)).get_column("record_id").to_list()
    assert got == ["a"]
    assert publishable(frame.drop("publish_until"), D(2026, 3, 15)).height == 3
    assert publishable(frame, D(2026, 6, 1)).schema == frame.schema
    assert isinstance(publishable(frame, 20_600), pl.DataFrame)
