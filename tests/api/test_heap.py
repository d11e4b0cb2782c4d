"""The server's long-lived objects frozen after full collections
(:mod:`creditindex.api.heap`): frozen once enough survive one, still freed when no longer
referenced, and handed back when the server stops."""

from __future__ import annotations

import gc
import weakref

import pytest

from creditindex.api import heap


class Cached:
    """A long-lived object (weak references can point at it)."""

    def __init__(self, n: int) -> None:
        self.rows = [{"n": n}]


@pytest.fixture
def freezing(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(heap, "FREEZE_AT", 1000)
    gc.collect()
    heap.freeze_long_lived()
    heap.freeze_long_lived()  # once only
    assert gc.callbacks.count(heap._after_collection) == 1
    try:
        yield
    finally:
        heap.stop_freezing()


@pytest.mark.usefixtures("freezing")
def test_survivors_of_a_full_collection_are_frozen_and_still_freed() -> None:
    kept = [Cached(n) for n in range(5000)]
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)
    assert not gc.get_objects(generation=2) or len(gc.get_objects(generation=2)) < 1000
    probe = weakref.ref(kept[0])
    del kept
    assert probe() is None  # freed by its reference count, frozen or not


def test_the_frozen_are_handed_back_when_the_server_stops(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "FREEZE_AT", 1000)
    heap.freeze_long_lived()
    kept = [Cached(n) for n in range(5000)]
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)
    heap.stop_freezing()
    assert heap._after_collection not in gc.callbacks
    assert gc.get_freeze_count() == 0
    del kept


def test_few_survivors_are_left_to_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "FREEZE_AT", 10**9)
    heap.freeze_long_lived()
    try:
        gc.collect()
        assert gc.get_freeze_count() == 0
    finally:
        heap.stop_freezing()
