"""The SparkSession a run uses: Arrow on, UTC, and workers running this Python."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark import SparkConf
from pyspark.sql import SparkSession

DEFAULTS = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    # Python workers start once per executor core and are reused from task to task.
    "spark.python.worker.reuse": "true",
}


def spark_session(master: str | None = None, app_name: str = "creditindex",
                  conf: Mapping[str, str] | None = None) -> SparkSession:
    """A session on ``master`` (a URL such as ``spark://host:7077``, ``local[2]``; None:
    whatever ``spark-submit`` or the environment says). Unless ``spark.pyspark.python``
    or ``PYSPARK_PYTHON`` says otherwise, workers run the Python running this (this sets
    ``PYSPARK_PYTHON``), which
    suits a cluster on one machine; on a real cluster give the workers' Python (see the
    README's operators' section)."""
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    settings = dict(DEFAULTS)
    if not SparkConf().contains("spark.pyspark.python") and "PYSPARK_PYTHON" not in os.environ:
        # SparkContext starts Python workers with $PYSPARK_PYTHON (default python3).
        os.environ["PYSPARK_PYTHON"] = sys.executable
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
