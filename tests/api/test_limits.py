"""Request limits hold for a server of several processes (``creditindex serve --workers
N``): each key's requests are counted in one file the processes share
(:class:`creditindex.api.limits.SharedRateLimiter`), with the same sliding window of one
minute as one process keeps in memory."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import httpx

from creditindex.api.limits import RateLimiter, SharedRateLimiter
from creditindex.store.db import dispose_engine
from creditindex.store.migrations import upgrade
from tests.api.apitest import add_key, start_server, stop_server


def _allow(path: str, key: str, limit: int, now: float) -> float | None:
    return SharedRateLimiter(path).allow(key, limit, now)


def test_the_shared_window_counts_like_the_one_in_memory(tmp_path: Path) -> None:
    path = str(tmp_path / "limits.sqlite")
    shared = [SharedRateLimiter(path), SharedRateLimiter(path)]  # two processes' views
    memory = RateLimiter()
    times = [0.0, 1.0, 2.0, 3.0, 30.0, 60.5, 61.0, 61.5, 62.0, 125.0]
    for i, t in enumerate(times):
        mine = shared[i % 2].allow("k", 3, t)
        theirs = memory.allow("k", 3, t)
        assert (mine is None) == (theirs is None), t
        if mine is not None and theirs is not None:
            assert abs(mine - theirs) < 1e-6
    assert shared[0].allow("other", 1, 0.0) is None  # keys are counted apart
    assert shared[1].allow("other", 1, 0.5) is not None


def test_processes_share_the_counts(tmp_path: Path) -> None:
    path = str(tmp_path / "limits.sqlite")
    SharedRateLimiter(path)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        answers = pool.starmap(_allow, [(path, "k", 5, 10.0 + i / 100) for i in range(12)])
    assert sum(a is None for a in answers) == 5


def test_a_server_of_two_processes_keeps_one_limit(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'api.sqlite'}"
    upgrade(db)
    key = add_key(db, "测试平台", "read", rate=3)
    dispose_engine(db)
    process, url = start_server(db, workers=2)
    try:
        statuses = []
        for _ in range(12):  # a new connection each: either process may answer
            with httpx.Client(base_url=url, timeout=30,
                              headers={"Authorization": f"Bearer {key}"}) as http:
                answer = http.get("/v1/checks/HC202600000001")
                statuses.append(answer.status_code)
                if answer.status_code == 429:
                    assert answer.json()["error"]["code"] == "rate_limited"
        assert statuses.count(404) == 3 and statuses.count(429) == 9, statuses
    finally:
        stop_server(process)
        dispose_engine(db)
