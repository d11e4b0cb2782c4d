"""``POST /v1/eligibility`` answered by the server's fast path (:class:`creditindex.api.
asgi.FastPath`: a JSON body) and by the framework's routing (the same request sent as
``application/vnd.api+json``, which the fast path leaves to it): the same answers, the
same errors, the same stored checks and logged uses."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.api.apitest import DAY, Server, storetest

E, F, G, H, S, V, X = (storetest.E, storetest.F, storetest.G, storetest.H, storetest.S,
                       storetest.V, storetest.X)
VARYING = ("check_id", "check_no", "verification_code", "certificate")


def both(server: Server, key: str | None, body: Any) -> tuple[httpx.Response, httpx.Response]:
    """The request through the fast path, then through the framework."""
    headers = {} if key is None else {"Authorization": f"Bearer {server.keys.get(key, key)}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        raw = body if isinstance(body, bytes) else httpx.Request(
            "POST", "/", json=body).content
        fast = http.post("/v1/eligibility", content=raw,
                         headers={"Content-Type": "application/json"})
        framework = http.post("/v1/eligibility", content=raw,
                              headers={"Content-Type": "application/vnd.api+json"})
    return fast, framework


def same(fast: httpx.Response, framework: httpx.Response) -> None:
    assert fast.status_code == framework.status_code, (fast.text, framework.text)
    assert {k: v for k, v in fast.headers.items() if k not in ("date", "content-length")} == {
        k: v for k, v in framework.headers.items() if k not in ("date", "content-length")}
    a, b = fast.json(), framework.json()
    if fast.status_code == 200:  # the text Starlette's JSONResponse would send
        assert fast.content == json.dumps(a, ensure_ascii=False, allow_nan=False,
                                          separators=(",", ":")).encode("utf-8")
        for name in VARYING:
            a.pop(name), b.pop(name)
    assert a == b


def test_the_fast_path_answers_as_the_framework(server: Server) -> None:
    asked = {"codes": [V, F, G, S, X], "on": DAY, "project": {"no": "P-1", "name": "道路"},
             "lot": {"no": "2"}, "operator": "张三"}
    for key, body in [
        ("check", asked),
        ("check", {**asked, "consortium": True}),
        ("check", {**asked, "names": {V: "某公司"}}),
        ("staff", {**asked, "subject_type": "expert"}),
        ("check", {**asked, "codes": [V, "91440101MA59XXXX0X"]}),  # a bad check digit
        ("check", {**asked, "codes": []}),  # refused by the model
        ("check", {**asked, "on": "not a day"}),
        ("check", b"{not json"),
        (None, asked),  # no key
        ("ci_wrong_secret", asked),
        ("read", asked),  # without the scope
    ]:
        fast, framework = both(server, key, body)
        same(fast, framework)
