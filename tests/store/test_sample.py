"""The bundled sample store that the demo and the app open on."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from creditindex.cli import main
from creditindex.store.load import load_data
from creditindex.store.sample import DEMO_USERS
from creditindex.store.users import authenticate


def test_db_sample_loads_once_with_demo_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sample.sqlite'}"
    first = CliRunner().invoke(main, ["db", "sample", "--db", url])
    assert first.exit_code == 0, first.output
    assert "sample loaded" in first.output
    data = load_data(url)
    assert data.records.height == 8000
    assert data.subjects is not None and data.subjects.height == 5000
    for name, password, _role in DEMO_USERS:
        assert authenticate(url, name, password) is not None
    again = CliRunner().invoke(main, ["db", "sample", "--db", url])
    assert again.exit_code == 0 and "left as it is" in again.output
    assert load_data(url).records.height == 8000
