"""The server's long-lived objects kept out of Python's full garbage collections.

A server holds the store in memory with large indexes beside it (a position per subject,
each day answer's rows and grounds per subject, each asked subject's certificate rows),
hundreds of thousands of objects and millions of references that live until the data
change. Each full collection walked them all: under load, a pause of 150-400 ms every
few seconds during which no thread ran (the slowest answers of the API were these
pauses), and it found nothing to free. After a full collection that leaves at least
:data:`FREEZE_AT` objects outside the permanent generation, they are moved there
(:func:`gc.freeze`): later collections skip them. Objects there are still freed when
their last reference goes (the indexes of data that changed); only a reference cycle
among them would be kept, and the freezes are few (each needs that many new survivors).
"""

from __future__ import annotations

import gc
from typing import Any

FREEZE_AT = 50_000  # survivors of a full collection that are frozen


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2 \
            and len(gc.get_objects(generation=2)) >= FREEZE_AT:
        gc.freeze()


def freeze_long_lived() -> None:
    """From now on, freeze the survivors of full collections (see the module)."""
    if _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)


def stop_freezing() -> None:
    """Stop freezing and hand the frozen objects back to the collector."""
    if _after_collection in gc.callbacks:
        gc.callbacks.remove(_after_collection)
    gc.unfreeze()
