"""A real Spark standalone cluster on 127.0.0.1 (a master and workers), started from the
scripts the pyspark package ships: for tests, the benchmark and trying things out.

Each daemon runs in its own process group and is ended by that group on :meth:`stop`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

HOST = "127.0.0.1"


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package."""
    return Path(pyspark.__file__).parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LocalCluster:
    """A running standalone cluster: its master URL, web UI and daemon processes."""

    master_url: str
    ui_url: str
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def alive_workers(self) -> int:
        """How many workers the master reports ALIVE (0 when it does not answer yet)."""
        try:
            with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as reply:
                state = json.load(reply)
        except (OSError, ValueError):
            # ValueError: a master still attaching its UI's handlers answers /json/
            # with its HTML root page for a moment (seen in CI with Spark 4.3).
            return 0
        return int(state.get("aliveworkers", 0))

    def stop(self) -> None:
        """End every daemon (workers first, then the master) and their executors."""
        for proc in reversed(self.processes):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in reversed(self.processes):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of every daemon's log (to explain a failed start)."""
        out = []
        for log in sorted(self.workdir.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"== {log.name}\n" + "\n".join(text))
        return "\n".join(out)


def _daemon(cls: str, args: list[str], log: Path, env: dict[str, str]
            ) -> subprocess.Popen[bytes]:
    spark_class = spark_home() / "bin" / "spark-class"
    with log.open("wb") as sink:
        return subprocess.Popen([str(spark_class), cls, *args], stdout=sink,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def start_local_cluster(workdir: Path, workers: int = 2, cores: int = 1,
                        memory: str = "1g", timeout: float = 120.0) -> LocalCluster:
    """Start a master and ``workers`` workers (``cores`` and ``memory`` each) on
    127.0.0.1, logging into ``workdir``; wait until every worker has registered.
    Raises ``RuntimeError`` (with the daemons' logs) when the cluster does not come up."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP=HOST,
               SPARK_NO_DAEMONIZE="1", SPARK_LOG_DIR=str(workdir))
    port, ui = free_port(), free_port()
    cluster = LocalCluster(master_url=f"spark://{HOST}:{port}", ui_url=f"http://{HOST}:{ui}",
                           workdir=workdir)
    try:
        cluster.processes.append(_daemon(
            "org.apache.spark.deploy.master.Master",
            ["--host", HOST, "--port", str(port), "--webui-port", str(ui)],
            workdir / "master.log", env))
        for i in range(workers):
            work = workdir / f"worker-{i}"
            work.mkdir(exist_ok=True)
            cluster.processes.append(_daemon(
                "org.apache.spark.deploy.worker.Worker",
                [cluster.master_url, "--host", HOST, "--cores", str(cores), "--memory", memory,
                 "--webui-port", str(free_port()), "--work-dir", str(work)],
                workdir / f"worker-{i}.log", env))
        deadline = time.monotonic() + timeout
        while cluster.alive_workers() < workers:
            dead = [p.args for p in cluster.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"exited: {dead}" if dead else f"not up after {timeout:.0f} s"
                raise RuntimeError(f"Spark standalone cluster did not start ({why})\n"
                                   + cluster.log_tail())
            time.sleep(0.5)
    except BaseException:
        cluster.stop()
        raise
    return cluster
