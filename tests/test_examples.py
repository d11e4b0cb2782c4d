"""The worked examples of docs/semantics.md, as data: every folder of ``tests/examples``
holds ``rules.toml``, ``records.csv`` (and ``lists.csv``, ``subjects.csv`` where the
example needs them) and ``expected.csv``: one expected value per line, as
``command, args, row, column, value``. Each distinct (command, args) runs once through
the command line, reading the folder's files and writing CSV; ``row`` picks the output
row (``column=value``; empty: the only row); ``value`` is compared as a number when it
is one, as ``~text`` when the cell must contain ``text``, else exactly (empty: empty).

An example whose rule file this release's parser refuses is skipped with the reason
(rule-set features not yet implemented); every other one must pass."""

from __future__ import annotations

import csv
import shlex
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from creditindex.cli import main
from creditindex.errors import InputError
from creditindex.rules import load_rules

EXAMPLES = Path(__file__).resolve().parent / "examples"
DATA_ARGS = {"lists.csv": "--lists", "records.csv": "--records"}


def _expected(folder: Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    grouped: dict[tuple[str, str], list[dict[str, str]]] = {}
    with (folder / "expected.csv").open(encoding="utf-8", newline="") as f:
        for line in csv.DictReader(f):
            grouped.setdefault((line["command"], line["args"]), []).append(line)
    return grouped


def _run(folder: Path, command: str, args: str, out: Path) -> pl.DataFrame:
    argv = [command, "--rules", "rules.toml"]
    for name, option in DATA_ARGS.items():
        if (folder / name).exists():
            argv += [option, name]
    if command == "compute" and (folder / "subjects.csv").exists():
        argv += ["--subjects", "subjects.csv"]
    argv += [*shlex.split(args), "--out", str(out)]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, (argv, result.output, result.exception)
    return pl.read_csv(out, infer_schema=False)


def _cell(frame: pl.DataFrame, row: str, column: str) -> str:
    if row:
        key, _, value = row.partition("=")
        frame = frame.filter(pl.col(key) == value)
    assert frame.height == 1, f"row {row!r} matches {frame.height} rows of\n{frame}"
    assert column in frame.columns, f"no column {column!r} in {frame.columns}"
    got = frame.get_column(column)[0]
    return "" if got is None else str(got)


def _same(got: str, want: str) -> bool:
    if want.startswith("~"):
        return want[1:] in got
    try:
        return float(got) == float(want)
    except ValueError:
        return got.lower() == want.lower() if want.lower() in ("true", "false") else got == want


@pytest.mark.parametrize("folder", sorted(p for p in EXAMPLES.iterdir() if p.is_dir()),
                         ids=lambda p: p.name)
def test_worked_example(folder: Path, tmp_path: Path) -> None:
    try:
        load_rules(folder / "rules.toml")
    except InputError as refused:
        pytest.skip(f"this release's rule parser refuses {folder.name}/rules.toml: "
                    + "; ".join(str(p) for p in refused.problems))
    wrong = []
    for n, ((command, args), lines) in enumerate(_expected(folder).items()):
        frame = _run(folder, command, args, tmp_path / f"out{n}.csv")
        for line in lines:
            got = _cell(frame, line["row"], line["column"])
            if not _same(got, line["value"]):
                wrong.append(f"{command} {args} [{line['row']}] {line['column']}: "
                             f"got {got!r}, expected {line['value']!r}")
    assert not wrong, "\n".join(wrong)


def test_every_example_has_its_files() -> None:
    folders = [p for p in EXAMPLES.iterdir() if p.is_dir()]
    assert len(folders) >= 10
    for folder in folders:
        assert {"rules.toml", "records.csv", "expected.csv"} <= {p.name for p in
                                                                 folder.iterdir()}
