"""The README's commands work as written: each ``creditindex compute/explain/history/
check`` line of its code blocks runs on the committed sample files (``--records
data/sample/records.csv`` in place of ``--db $DB``, as the README says) and exits 0."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditindex.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMMAND = re.compile(r"^\S*creditindex (compute|explain|history|check)\s+(.*)$")


def readme_commands() -> list[list[str]]:
    """The README's file-answerable commands, as argument lists."""
    found = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        match = COMMAND.match(line.strip())
        if match:
            args = shlex.split(match.group(2).split("  #")[0])
            found.append([match.group(1), *args])
    return found


def test_the_readme_shows_every_answering_command() -> None:
    assert {c[0] for c in readme_commands()} == {"compute", "explain", "history", "check"}


@pytest.mark.parametrize("argv", readme_commands(), ids=lambda a: a[0])
def test_a_readme_command_runs_on_the_sample_files(argv: list[str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    args = []
    rest = iter(argv)
    for arg in rest:
        if arg == "--db":
            next(rest)
            args += ["--records", "data/sample/records.csv"]
        elif arg in ("--out", "--evidence"):
            args += [arg, str(tmp_path / Path(next(rest)).name)]
        else:
            args.append(arg)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    written = [p for p in tmp_path.iterdir() if p.stat().st_size > 0]
    assert written or result.output.strip()
