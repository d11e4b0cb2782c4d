"""The service layer is shared by the faces: it imports neither Streamlit nor any module
of the app, and the app's module holds no SQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["auth", "limits", "state", "days", "profiles", "checks", "masking", "records",
           "imports", "rulesets", "users"]


def test_the_service_loads_no_streamlit_and_no_ui_module() -> None:
    code = (f"import importlib, json, sys\n"
            f"for m in {MODULES!r}: importlib.import_module('creditindex.service.' + m)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('streamlit', "
            "'creditindex.ui')))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_no_sql_in_the_app() -> None:
    for path in (ROOT / "creditindex" / "ui").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("sqlalchemy", "read_transaction", "write_transaction", "SELECT "):
            assert needle not in text, (path.name, needle)
