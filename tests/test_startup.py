"""Reading files never loads the store's or the app's libraries (semantics §9): the
command line starts fast. The time itself is measured in ``bench/store_bench.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sqlalchemy", "alembic", "streamlit", "sqlmodel")

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})))
"""


def loaded_heavy_modules(body: str) -> list[str]:
    """The heavy modules in ``sys.modules`` after running ``body`` in a fresh Python."""
    code = PROBE.format(body=body, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert loaded_heavy_modules("import creditindex, creditindex.cli") == []


def test_help_loads_no_heavy_library_nor_polars() -> None:
    body = ("from click.testing import CliRunner\n"
            "from creditindex.cli import main\n"
            "r = CliRunner().invoke(main, ['--help'])\n"
            "assert r.exit_code == 0 and 'compute' in r.output, r.output\n"
            "assert 'polars' not in sys.modules\n")
    assert loaded_heavy_modules(body) == []


def test_file_based_commands_load_no_heavy_library(tmp_path: Path) -> None:
    out = tmp_path / "indices.csv"
    body = ("from click.testing import CliRunner\n"
            "from creditindex.cli import main\n"
            f"for args in (['compute', '--on', '2026-11-26', '--out', {str(out)!r}],\n"
            "             ['check', '--on', '2026-11-26', '--subjects', '91440105MA60EX8J0J'],\n"
            "             ['explain', '--on', '2026-11-26', '--subject', '91440105MA60EX8J0J']):\n"
            "    r = CliRunner().invoke(main, args + ['--records', 'data/sample/records.csv'])\n"
            "    assert r.exit_code == 0, (args, r.output, r.exception)\n")
    assert loaded_heavy_modules(body) == []
    assert out.stat().st_size > 0


def test_a_store_check_loads_no_migration_library(tmp_path: Path) -> None:
    # A check --db of a current store reads and writes through SQLAlchemy Core and does
    # not import Alembic (migrations are looked at only when the schema is behind), nor
    # SQLModel and the ORM (the check's rows are written through SQL, the store's models
    # are imported only where a table object is used), also with a user named.
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    body = ("from click.testing import CliRunner\n"
            "from creditindex.cli import main\n"
            f"r = CliRunner().invoke(main, ['check', '--db', {db!r}, '--on', '2026-11-26',\n"
            "                              '--subjects', '91440105MA60EX8J0J',\n"
            "                              '--user', 'ann'])\n"
            "assert r.exit_code == 0, (r.output, r.exception)\n")
    from creditindex.store.migrations import upgrade
    from creditindex.store.users import add_user

    upgrade(db)
    add_user(db, "ann", "staff", "a long enough password")
    loaded = loaded_heavy_modules(body)
    assert "sqlalchemy" in loaded
    assert [m for m in loaded if m.startswith(("alembic", "sqlmodel", "sqlalchemy.orm"))] == []


def test_compute_as_a_process_ends_at_once_with_the_whole_answer(tmp_path: Path) -> None:
    # ``python -m creditindex compute`` ends without tearing the interpreter down
    # (creditindex.cli.run); its answer is the in-process command's, byte for byte, and
    # bad input still ends with exit code 2 and nothing written.
    from click.testing import CliRunner

    from creditindex.cli import main

    args = ["compute", "--records", "data/sample/records.csv", "--on", "2026-11-26"]
    want = tmp_path / "in-process.csv"
    assert CliRunner().invoke(main, [*args, "--out", str(want)]).exit_code == 0
    got = tmp_path / "process.csv"
    done = subprocess.run([sys.executable, "-m", "creditindex", *args, "--out", str(got)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr
    assert got.read_bytes() == want.read_bytes()
    shown = subprocess.run([sys.executable, "-m", "creditindex", *args], cwd=ROOT,
                           capture_output=True, text=True)
    assert shown.returncode == 0 and "subject_id" in shown.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,source\n1,x\n", encoding="utf-8")
    refused = tmp_path / "refused.csv"
    failed = subprocess.run([sys.executable, "-m", "creditindex", "compute", "--records",
                             str(bad), "--on", "2026-11-26", "--out", str(refused)],
                            cwd=ROOT, capture_output=True, text=True)
    assert failed.returncode == 2 and "subject_id" in failed.stderr
    assert not refused.exists()


ALLOCATOR_PROBE = """
import atexit, os, sys
sys.argv = ['creditindex', *{argv!r}]
from creditindex.cli import run
# run() ends the process at once after the exit handlers: what polars was told is shown
atexit.register(lambda: print('CONF=' + os.environ.get('_RJEM_MALLOC_CONF', '')))
run()
"""


def _allocator_conf(argv: list[str], env: dict[str, str]) -> str:
    import os

    done = subprocess.run([sys.executable, "-c", ALLOCATOR_PROBE.format(argv=argv)],
                          cwd=ROOT, capture_output=True, text=True,
                          env={k: v for k, v in {**os.environ, **env}.items() if v})
    lines = [x for x in done.stdout.splitlines() if x.startswith("CONF=")]
    assert lines, (done.stdout, done.stderr)
    return lines[-1].removeprefix("CONF=")


def test_compute_as_a_process_gives_polars_allocator_one_arena(tmp_path: Path) -> None:
    # (creditindex.cli.common.tune_allocator): set before polars is imported, and added
    # by polars after its own settings; the user's own settings are kept as they are
    args = ["compute", "--records", "data/sample/records.csv", "--on", "2026-11-26",
            "--out", str(tmp_path / "out.csv")]
    conf = _allocator_conf(args, {"_RJEM_MALLOC_CONF": ""})
    assert conf.split(",")[-1] == "narenas:1" and "dirty_decay_ms" in conf
    assert "narenas" not in _allocator_conf(args, {"_RJEM_MALLOC_CONF": "narenas:4"}
                                            ).replace("narenas:4", "")
    check = ["check", "--records", "data/sample/records.csv", "--on", "2026-11-26",
             "--subjects", "91440105MA60EX8J0J"]
    assert "narenas" not in _allocator_conf(check, {"_RJEM_MALLOC_CONF": ""})
