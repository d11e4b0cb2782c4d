"""What the app's server does once, when it starts: load the code every page runs (the
app's modules, the engine, SQLAlchemy and SQLModel, polars, and what Streamlit itself
loads to send a table or a chart: pandas, pyarrow, Altair), before it answers anyone.

Streamlit loads a page's modules when the first visitor's page runs, so the first
visitor after a restart would wait about 1.5 s of CPU for imports alone. No data are
read here: the first visitor's page still reads the store (its first page, through an
index: :mod:`creditindex.store.day_pages`).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

# Loaded by Streamlit when it sends a table (pandas, pyarrow), a chart (altair) or a
# non-ASCII widget label (its emoji table), not by the app's own imports.
STREAMLIT_LAZY = ("pandas", "pyarrow", "altair", "streamlit.emojis")


def load_code() -> float:
    """Import every page's modules and what Streamlit loads lazily; returns the
    seconds it took."""
    from creditindex.ui import nav

    started = time.perf_counter()
    for spec in nav.PAGES:
        importlib.import_module(f"creditindex.ui.pages.{spec.name}")
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
    took = await asyncio.to_thread(load_code)
    logging.getLogger(__name__).log(logging.INFO, "app code loaded in %.1f s", took)
    yield
