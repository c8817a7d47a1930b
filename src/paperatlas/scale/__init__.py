"""Scale-out: the batch stages on Apache Spark, with the same results as in-process.

* :func:`run_per_block` / :func:`map_batches` (``scale/blocks.py``): a stage's pure per-block or per-batch
  function run locally or on Spark (blocks hash-partitioned and sorted, then ``mapInArrow``, over Parquet from the
  store), chosen by ``BuildOptions.engine``.
* ``scale/stages.py``: Spark versions of build stages that do not call the helpers themselves, each running the
  stage's own per-group function.
* ``scale/session.py``: the one SparkSession of a process (local mode, or ``PAPERATLAS_SPARK_MASTER``).

pyspark is imported only when the Spark engine runs, never when the CLI starts.
"""

from __future__ import annotations

from .blocks import ENGINES, map_batches, map_items, run_per_block

__all__ = ["ENGINES", "map_batches", "map_items", "run_per_block"]
