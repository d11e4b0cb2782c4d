"""A light load generator for the eligibility endpoint: closed-loop clients on raw
asyncio HTTP/1.1 keep-alive connections, in a process of their own.

    .venv/bin/python bench/api_load.py --url http://127.0.0.1:18765 --key ci_... \\
        --codes FILE [--clients 20] [--seconds 60] [--batch 10] [--out result.json]

``FILE`` holds one code a line; each request asks eligibility of ``--batch`` codes drawn
at random. Each client sends its next request when the last one is answered. A request
is an error unless answered 200. Prints (and with ``--out`` writes) the latencies'
percentiles, the throughput, the errors and this process's CPU seconds.

Why not httpx: on a 2-core machine an httpx client costs about a millisecond of CPU per
request, taken from the server it measures; this costs about a tenth of that.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PATH = "/v1/eligibility"


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank); 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Tally:
    """What the clients saw: each answer's latency (ms) and the errors."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response: status, body, whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(p[:-2] for p in parts)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection", "").lower() != "close"


def request_bytes(host: str, key: str, codes: list[str], on: str) -> bytes:
    """The bytes of one eligibility request for ``codes`` on the day ``on``."""
    body = json.dumps({"codes": codes, "on": on,
                       "project": {"no": "BENCH", "name": "基准测试"}},
                      ensure_ascii=False).encode("utf-8")
    head = (f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


async def _client(host: str, port: int, key: str, codes: list[str], batch: int,
                  seed: int, stop_at: float, tally: Tally) -> None:
    rng = random.Random(seed)
    on = dt.date.today().isoformat()
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.monotonic() < stop_at:
        sent = request_bytes(host, key, rng.sample(codes, batch), on)
        t0 = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.open_connection(host, port)
            reader, writer = connection
            writer.write(sent)
            status, body, keep = await _read_response(reader)
            why = None if status == 200 else f"{status} {body[:120]!r}"
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            keep, why = False, repr(exc)
        tally.latencies.append((time.perf_counter() - t0) * 1000)
        if why is not None:
            tally.errors.append(why)
        if not keep and connection is not None:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


async def run_load(url: str, key: str, codes: list[str], clients: int, seconds: float,
                   batch: int, seed: int = 0) -> Tally:
    """``clients`` closed-loop clients asking eligibility of ``batch`` random codes of
    ``codes`` at ``url`` (``http://host:port``) for ``seconds``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tally = Tally()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(_client(host, port, key, codes, batch, seed + i, stop_at, tally)
                           for i in range(clients)))
    return tally


def summary(tally: Tally, seconds: float) -> dict[str, Any]:
    """The figures of a run: requests, errors, throughput and latency percentiles."""
    lat = tally.latencies
    return {"requests": len(lat), "errors": len(tally.errors),
            "throughput_per_s": round(len(lat) / seconds, 1),
            "p50_ms": round(percentile(lat, 0.50), 1),
            "p90_ms": round(percentile(lat, 0.90), 1),
            "p95_ms": round(percentile(lat, 0.95), 1),
            "p99_ms": round(percentile(lat, 0.99), 1),
            "max_ms": round(max(lat, default=0.0), 1),
            "first_errors": tally.errors[:5]}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Run the load; exit status 1 if any request failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="The server, http://host:port.")
    parser.add_argument("--key", required=True, help="An API key with scope 'check'.")
    parser.add_argument("--codes", type=Path, required=True, help="One code a line.")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--out", type=Path, help="Write the figures here (JSON).")
    args = parser.parse_args(argv)
    codes = [c for c in args.codes.read_text(encoding="utf-8").split() if c]
    cpu = _cpu_seconds()
    tally = asyncio.run(run_load(args.url, args.key, codes, args.clients, args.seconds,
                                 args.batch, args.seed))
    result = summary(tally, args.seconds)
    result["client_cpu_ms_per_request"] = round(
        (_cpu_seconds() - cpu) * 1000 / max(1, len(tally.latencies)), 3)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
