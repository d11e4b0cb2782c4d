"""Where the store is, without importing a database driver (the command line reads this
to offer ``--db`` and must start fast)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CREDITINDEX_DB"


def project_root() -> Path:
    """The project folder (``CREDITINDEX_HOME`` overrides it)."""
    return Path(os.environ.get("CREDITINDEX_HOME", Path(__file__).resolve().parents[2]))


def default_url() -> str:
    """``CREDITINDEX_DB`` if set, else the SQLite file ``var/creditindex.sqlite``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return f"sqlite:///{project_root() / 'var' / 'creditindex.sqlite'}"
