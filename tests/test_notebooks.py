"""The notebooks in notebooks/ run top to bottom on the sample data, their plots render, and
they are committed without outputs.

Each notebook runs in a fresh kernel of this interpreter (the project's venv), with the
notebooks directory as its working directory, as a user would run it. A kernelspec is written
to a temporary directory for the test, so a user-level ``python3`` kernelspec pointing at
another interpreter cannot be picked up by mistake.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"01_tour.ipynb", "02_rule_calibration.ipynb", "03_cross_industry.ipynb"}
KERNEL = "creditindex-test"
CELL_TIMEOUT = 300  # seconds per cell: generous for slow CI machines (each notebook < 60 s)
PLOT_MIME = ("image/png", "application/vnd.vegalite.v5+json", "application/vnd.vegalite.v4+json")
# A cell that draws: matplotlib's show or an altair chart.
PLOT_CALL = re.compile(r"\bplt\.show\(\)|\balt\.Chart\(")
# Private names of the package (creditindex.x._y or `from creditindex.x import _y`).
PRIVATE_USE = re.compile(r"creditindex(?:\.\w+)*\._\w|from creditindex[\w.]* import [^\n]*\b_\w")


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_the_notebooks_are_there() -> None:
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_without_outputs(path: Path) -> None:
    """Outputs are stripped before commit (see notebooks/README.md)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (
        cell.outputs or cell.execution_count is not None or "execution" in cell.metadata)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; strip them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_uses_public_functions_only(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import creditindex" in code or "from creditindex" in code
    assert not PRIVATE_USE.findall(code), f"{path.name} uses private names of the package"


def _kernel_manager(tmp_path: Path) -> KernelManager:
    """A kernel manager that starts ipykernel in this very interpreter."""
    spec_dir = tmp_path / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "creditindex (tests)",
        "language": "python",
    }), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def _kernel_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The checkout under test comes first, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("MPLBACKEND", None)  # let the kernel use its inline backend
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    return env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    """Every cell runs without error (nbclient raises CellExecutionError on the first
    failing cell, with its traceback) and every plotting cell shows its plot."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, km=_kernel_manager(tmp_path), timeout=CELL_TIMEOUT, allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute(env=_kernel_env(tmp_path))

    plot_cells = {i: c for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and PLOT_CALL.search(c.source)}
    assert plot_cells, f"{path.name} draws no plot"
    blank = [i for i, c in plot_cells.items()
             if not any(mime in out.get("data", {}) for out in c.outputs for mime in PLOT_MIME)]
    assert not blank, f"{path.name}: cells {blank} (0-based) should show a plot and do not"
    errors = [out for c in nb.cells if c.cell_type == "code" for out in c.outputs
              if out.output_type == "error"]
    assert not errors
