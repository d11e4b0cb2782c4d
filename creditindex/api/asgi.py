"""The ASGI layers in front of the API's FastAPI application: the log of every request
made with a key (a plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a
second task and a stream per request) and the fast path that answers one busy endpoint
without the framework's routing and dependencies."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import Response


class UseLogMiddleware:
    """Calls ``log(scope, status, started)`` when an HTTP response has been sent."""

    def __init__(self, app: Any, log: Callable[[dict[str, Any], int, float], None]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.log(scope, status, started)


class FastPath:
    """Answers ``method path`` requests by ``answer(scope, body)`` (a response, or
    ``None``: the application answers it, its body replayed)."""

    def __init__(self, app: Any, method: str, path: str,
                 answer: Callable[[dict[str, Any], bytes], Awaitable[Response | None]]
                 ) -> None:
        self.app, self.method, self.path, self.answer = app, method, path, answer

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if (scope["type"] != "http" or scope["method"] != self.method
                or scope["path"] != self.path):
            await self.app(scope, receive, send)
            return
        chunks, more, ended = [], True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: the app sees it
                ended = message
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        response = None if ended is not None else await self.answer(scope, body)
        if response is not None:
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return ended or {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
