"""The adversarial suite reuses the store tests' fixtures (every backend, real servers)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))

from tests.store.conftest import backend, empty_url, store_url

__all__ = ["backend", "empty_url", "store_url"]
