"""A record's life through the service: the role is checked before the store is touched,
and a step the store refuses is an :class:`ActionError`."""

from __future__ import annotations

import pytest

from creditindex.service import records
from creditindex.service.auth import ANONYMOUS, PermissionDenied, User
from creditindex.service.state import ActionError
from creditindex.store.audit import audit_trail
from creditindex.store.load import load_data
from tests.service.servicetest import TODAY

STAFF = User("staff", "staff")
PUBLIC = User("public", "public")


def test_objections_are_filed_signed_in_and_decided_by_staff(url: str) -> None:
    found = records.find_records(STAFF, load_data(url).records, "GZ", limit=1).row(
        0, named=True)
    source, record_id = found["source"], found["record_id"]
    before = audit_trail(url).height
    with pytest.raises(PermissionDenied):  # a filing keeps its filer
        records.file_objection(url, ANONYMOUS, source, record_id, TODAY, "not mine")
    with pytest.raises(PermissionDenied):
        records.decide_objection(url, PUBLIC, source, record_id, TODAY, True, None, None)
    assert audit_trail(url).height == before  # refused before the store was touched
    records.file_objection(url, STAFF, source, record_id, TODAY, "not mine")
    events = records.events_of(url, STAFF, source, record_id)
    assert records.open_objection(events) is not None
    with pytest.raises(ActionError):  # one open objection at a time
        records.file_objection(url, STAFF, source, record_id, TODAY, "again")
    records.decide_objection(url, STAFF, source, record_id, TODAY, False, "no grounds", None)
    assert records.open_objection(records.events_of(url, STAFF, source, record_id)) is None
