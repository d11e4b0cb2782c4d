"""A real Spark standalone cluster for the Spark tests: a master and two workers on
127.0.0.1, started from the pyspark package's own scripts, and a session on it. It
fails (never skips) when the cluster cannot start, and is torn down after the tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from creditindex.spark.local_cluster import LocalCluster, start_local_cluster
from creditindex.spark.session import spark_session

# Small executors: two workers of one core each, as on a busy two-core box.
EXECUTOR_CONF = {
    "spark.executor.memory": "768m",
    "spark.executor.cores": "1",
    "spark.cores.max": "2",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    # Small data: no adaptive re-planning, no web UI, bigger Arrow batches.
    "spark.sql.adaptive.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """The running cluster (master and two workers)."""
    running = start_local_cluster(tmp_path_factory.mktemp("spark-cluster"), workers=2,
                                  cores=1, memory="1g")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def spark(cluster: LocalCluster) -> Iterator[SparkSession]:
    """A session whose executors run on the cluster's workers."""
    session = spark_session(cluster.master_url, app_name="creditindex-tests",
                            conf=EXECUTOR_CONF)
    assert session.sparkContext.master == cluster.master_url
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    """A folder for one test's Parquet inputs and answers."""
    return tmp_path
