"""The notebooks run on the package and its ``[notebooks]`` extra alone: every module
they import is the standard library, the package, a core dependency or in the extra."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Import names that differ from their distribution names.
DISTRIBUTION = {"creditindex": "creditindex"}


def _imports() -> set[str]:
    found = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            for line in "".join(cell["source"]).splitlines():
                m = re.match(r"\s*(?:from|import)\s+(\w+)", line)
                if m:
                    found.add(m.group(1))
    return found


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("-", "_")
            for r in requirements}


def test_notebooks_need_only_the_notebooks_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    allowed = (_names(project["dependencies"])
               | _names(project["optional-dependencies"]["notebooks"]) | {"creditindex"})
    imported = _imports()
    assert imported, "no notebook imports found"
    third_party = {m for m in imported if m not in sys.stdlib_module_names}
    missing = {m for m in third_party if DISTRIBUTION.get(m, m).lower() not in allowed}
    assert not missing, f"notebooks import {sorted(missing)}, declared nowhere but dev"
    assert "matplotlib" in _names(project["optional-dependencies"]["notebooks"])
