"""One SparkSession per process, started on first use and configured for PaperAtlas's batch stages.

Local mode by default (``local[N]`` over this machine's cores); ``PAPERATLAS_SPARK_MASTER`` points the same code
at a cluster (``spark://host:7077``, ``yarn``, ``k8s://...``).  Starting Spark costs ~10 s, so the session is
shared by every stage of a build (and by every test of a test session), and stopped when the process exits.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any

from ..settings import current

_lock = threading.Lock()
_session: Any = None

#: Small data in, small shuffles: Spark's default of 200 shuffle partitions would spend seconds scheduling tasks
#: that hold a few rows each.  A cluster run raises it with PAPERATLAS_SPARK_SHUFFLE_PARTITIONS.
DEFAULT_SHUFFLE_PARTITIONS = 4


def spark_master() -> str:
    return current().spark_master or f"local[{min(os.cpu_count() or 2, 8)}]"


_LOG_CONFIG = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def _quiet_log_config() -> str:
    """A log4j2 file that keeps Spark to errors: its INFO/WARN chatter would bury the build's own output."""
    import tempfile

    path = os.path.join(tempfile.gettempdir(), "paperatlas-spark-log4j2.properties")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(_LOG_CONFIG)
    return path


def get_spark():
    """The process's SparkSession (pyspark imported here, never at CLI start-up)."""
    global _session
    with _lock:
        if _session is not None:
            return _session
        # Workers must run this interpreter (the one with paperatlas and pyarrow installed), not the system python.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        if spark_master().startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "hostname resolves to loopback" warning
        from pyspark.sql import SparkSession

        settings = current()
        builder = (
            SparkSession.builder.master(spark_master())
            .appName("paperatlas")
            .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
            .config("spark.default.parallelism", str(settings.spark_shuffle_partitions))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.memory", settings.spark_driver_memory)
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_quiet_log_config()}")
        )
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        _session = session
        atexit.register(stop_spark)
        return session


def stop_spark() -> None:
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None
