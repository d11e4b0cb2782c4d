"""The service layer's tests run without Streamlit, on a copy of the bundled sample store
(SQLite) with its demo accounts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditindex.store.db import dispose_engines
from creditindex.store.sample import build_sample
from tests.service.servicetest import TODAY


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample built once into a SQLite store."""
    path = tmp_path_factory.mktemp("service-sample") / "sample.sqlite"
    build_sample(f"sqlite:///{path}", today=TODAY)
    dispose_engines()
    return path


@pytest.fixture()
def url(sample_store: Path, tmp_path: Path) -> Iterator[str]:
    """A private copy of the sample store."""
    target = tmp_path / "store.sqlite"
    shutil.copy2(sample_store, target)
    yield f"sqlite:///{target}"
    dispose_engines()
