"""Scale-out: the batch stages on Apache Spark, with the same results as in-process.

* :func:`run_per_block` / :func:`map_batches` (``scale/blocks.py``): a stage's pure per-block or per-batch
  function run locally or on Spark (blocks hash-partitioned and sorted, then ``mapInArrow``, over Parquet from the
  store), chosen by ``BuildOptions.engine``.
  Each batch stage takes ``engine`` (from ``paperatlas build --engine``) and maps its own per-group function
  through these helpers; nothing here knows a stage, and no module patches another.
* ``scale/session.py``: the one SparkSession of a process (local mode, or ``PAPERATLAS_SPARK_MASTER``).

pyspark is imported only when the Spark engine runs, never when the CLI starts.
"""

from __future__ import annotations

from .blocks import ENGINES, LOCAL, SPARK, check_engine, map_batches, map_items, run_per_block

__all__ = ["ENGINES", "LOCAL", "SPARK", "check_engine", "map_batches", "map_items", "run_per_block"]
