"""Users: salted scrypt password hashes, authentication, roles."""

from __future__ import annotations

import pytest

from creditindex.store.db import StoreError
from creditindex.store.users import add_user, authenticate, check_password, hash_password
from tests.store.storetest import PASSWORD


def test_password_hashes_are_salted_and_checked() -> None:
    one, two = hash_password("s3cret pass"), hash_password("s3cret pass")
    assert one != two and one.startswith("scrypt$")
    assert check_password("s3cret pass", one) and check_password("s3cret pass", two)
    assert not check_password("s3cret pas", one)
    assert not check_password("s3cret pass", "md5$abc") and not check_password("x", "junk")


def test_authenticate_and_roles(store_url: str) -> None:
    alice = authenticate(store_url, "alice", PASSWORD)
    assert alice is not None and alice.role == "staff"
    assert authenticate(store_url, "alice", "wrong password") is None
    assert authenticate(store_url, "nobody", PASSWORD) is None
    with pytest.raises(StoreError, match="already exists"):
        add_user(store_url, "alice", "staff", PASSWORD)
    with pytest.raises(StoreError, match="unknown role"):
        add_user(store_url, "eve", "admin", PASSWORD)
    with pytest.raises(StoreError, match="8 characters"):
        add_user(store_url, "eve", "public", "short")
