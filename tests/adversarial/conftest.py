"""The adversarial suite reuses the store tests' fixtures (every backend, real servers)."""

from __future__ import annotations

from tests.store.conftest import backend, empty_url, store_url

__all__ = ["backend", "empty_url", "store_url"]
