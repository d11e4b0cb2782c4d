"""The standalone cluster's readiness probe (creditindex.spark.local_cluster)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from creditindex.spark.local_cluster import LocalCluster


def _serving(body: bytes, content_type: str) -> Iterator[str]:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def html_master() -> Iterator[str]:
    yield from _serving(b"<!DOCTYPE html><html><body>Spark Master</body></html>", "text/html")


@pytest.fixture
def json_master() -> Iterator[str]:
    yield from _serving(b'{"aliveworkers": 2, "workers": []}', "application/json")


def test_a_master_answering_html_is_not_ready(html_master: str, tmp_path: Path) -> None:
    """A master still attaching its UI answers /json/ with its HTML page: not ready yet,
    not a crash of the whole test session (CI, Spark 4.3)."""
    cluster = LocalCluster(master_url="spark://127.0.0.1:1", ui_url=html_master,
                           workdir=tmp_path)
    assert cluster.alive_workers() == 0


def test_a_master_answering_json_counts_its_workers(json_master: str, tmp_path: Path) -> None:
    cluster = LocalCluster(master_url="spark://127.0.0.1:1", ui_url=json_master,
                           workdir=tmp_path)
    assert cluster.alive_workers() == 2


def test_a_silent_master_is_not_ready(tmp_path: Path) -> None:
    cluster = LocalCluster(master_url="spark://127.0.0.1:1", ui_url="http://127.0.0.1:9",
                           workdir=tmp_path)
    assert cluster.alive_workers() == 0
