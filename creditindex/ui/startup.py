"""What the app's server does once, when it starts: load the code every page runs (the
app's modules, the engine, SQLAlchemy and SQLModel, polars, and what Streamlit itself
loads to send a table or a chart: pandas, pyarrow, Altair), before it answers anyone.

Streamlit loads a page's modules when the first visitor's page runs, so the first
visitor after a restart would wait about 1.5 s of CPU for imports alone. The store is
opened and its schema checked, but no data are read here: the first visitor's page still
reads the store (its first page, through an index: :mod:`creditindex.store.day_pages`).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

# Loaded by Streamlit when it sends a table (pandas, pyarrow), a chart (altair) or a
# non-ASCII widget label (its emoji table), not by the app's own imports.
STREAMLIT_LAZY = ("pandas", "pyarrow", "altair", "streamlit.emojis")


# Packages whose modules the pages import when first called (the store's tables, its
# driver, the stored day's pages): loaded whole at the start.
LOADED_WHOLE = ("creditindex.service", "creditindex.store")


def load_code() -> float:
    """Import every page's modules, the service and store modules they call, and what
    Streamlit loads lazily; returns the seconds it took."""
    from creditindex.ui import nav

    started = time.perf_counter()
    for spec in nav.PAGES:
        importlib.import_module(f"creditindex.ui.pages.{spec.name}")
    for package in LOADED_WHOLE:
        for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{module.name}")
    for name in STREAMLIT_LAZY:
        importlib.import_module(name)
    # Streamlit looks at the call stack once, on the first element a page draws (is it
    # run from a REPL?): inspect maps every loaded module to its file then (a realpath
    # per module, 0.1-0.3 s with the engine loaded). Mapped now, the map is reused.
    inspect.stack()
    return time.perf_counter() - started


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The server's start (``st.App(..., lifespan=lifespan)``): the code is loaded
    before the server accepts its first connection."""
    log = logging.getLogger(__name__)
    took = await asyncio.to_thread(load_code)
    log.log(logging.INFO, "app code loaded in %.1f s", took)
    try:
        await asyncio.to_thread(open_store)
    except Exception:  # the first page says what is wrong with the store
        log.exception("the store could not be opened at the start")
    yield


def open_store() -> None:
    """Open the store the app serves and check its schema (what the first page would
    do first; nothing is read or written)."""
    from creditindex.service.state import ready_engine
    from creditindex.ui.data import db_url

    ready_engine(db_url())
