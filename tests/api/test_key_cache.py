"""API keys looked up at most once a second by a server (:mod:`creditindex.api.
key_cache`): a revoked key is refused once that second has passed, a new key is found,
a wrong secret never matches."""

from __future__ import annotations

import time
from pathlib import Path

from creditindex.api.key_cache import KeyCache
from creditindex.store.apikeys import add_key, revoke_key
from creditindex.store.migrations import upgrade


def test_revocation_is_seen_within_the_recheck_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite'}"
    upgrade(url)
    made = add_key(url, "平台", ["check"])
    keys = KeyCache(url, recheck_seconds=0.3)
    key, key_id = keys.find(made.secret)
    assert key is not None and key.active and key_id == made.key.key_id
    revoke_key(url, made.key.key_id)
    time.sleep(0.35)
    key, _ = keys.find(made.secret)
    assert key is not None and not key.active  # the server answers 403 revoked_key
    wrong = made.secret[:-3] + ("AAA" if not made.secret.endswith("AAA") else "BBB")
    assert keys.find(wrong) == (None, made.key.key_id)
    later = add_key(url, "新平台", ["read"])
    assert keys.find(later.secret)[0] is not None


def test_a_key_is_read_once_per_recheck_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite'}"
    upgrade(url)
    made = add_key(url, "平台", ["check"])
    keys = KeyCache(url, recheck_seconds=60)
    assert keys.find(made.secret)[0] is not None
    revoke_key(url, made.key.key_id)
    kept, _ = keys.find(made.secret)  # not read again within the minute
    assert kept is not None and kept.active
