"""Run a stage's pure per-block (or per-batch) function in this process or on Spark, with the same results.

A batch stage that can be cut into independent pieces -- one name block for disambiguation, one identity for
author metrics, one cited paper for citation counts, one batch of abstracts for embeddings -- writes the piece
as a plain function and hands it here with the SQL that selects its input:

    rows = run_per_block(store, "SELECT identity_id, paper_id, citations FROM ...", summarize_one,
                         schema="identity_id long, h_index long", engine=options.engine)

``engine="local"`` groups the rows and calls the function in-process.  ``engine="spark"`` streams the same rows
out of the store into Parquet, lets Spark hash-partition them by block and sort each partition (``repartition``
+ ``sortWithinPartitions``, then ``mapInArrow`` cuts the blocks) or cut them into batches (``mapInArrow``) on its
executors, writes the results as Parquet and hands them back as tuples, so the stage
writes them to the store exactly as it would have locally.  The function sees each block's rows in the order the
SQL returned them, with the same Python values (Arrow, unlike pandas, keeps integers with NULLs as integers),
so both engines give identical results.  At OpenAlex scale the Parquet folder is the hand-off point: put it on
shared storage (``PAPERATLAS_SPARK_WORKDIR``) and point a cluster at it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..settings import current
from ..store import Store

BlockFunc = Callable[[Any, list[tuple]], Iterable[Sequence[Any]]]
BatchFunc = Callable[[list[tuple]], Iterable[Sequence[Any]]]

LOCAL, SPARK = "local", "spark"
ENGINES = (LOCAL, SPARK)
EXPORT_CHUNK = 100_000  # rows per Parquet file written from the store
KEY, SEQ = "_block", "_seq"


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")


def _sort_key(key: Any) -> tuple:
    return (key is None, str(type(key)), key if key is not None else 0)


# --- local engine ------------------------------------------------------------------------------------------------


def _local_blocks(store: Store, key_sql: str, params: Sequence[Any], func: BlockFunc) -> list[tuple]:
    groups: dict[Any, list[tuple]] = {}
    for row in store.db.iterate(key_sql, params):
        groups.setdefault(row[0], []).append(tuple(row[1:]))
    out: list[tuple] = []
    for key in sorted(groups, key=_sort_key):
        out.extend(tuple(r) for r in func(key, groups[key]))
    return out


def _local_batches(store: Store, sql: str, params: Sequence[Any], func: BatchFunc, batch: int) -> list[tuple]:
    out: list[tuple] = []
    pending: list[tuple] = []
    for row in store.db.iterate(sql, params):
        pending.append(tuple(row))
        if len(pending) >= batch:
            out.extend(tuple(r) for r in func(pending))
            pending = []
    if pending:
        out.extend(tuple(r) for r in func(pending))
    return out


# --- Spark engine ------------------------------------------------------------------------------------------------


def workdir(store: Store) -> Path:
    """Where Parquet hand-offs live: PAPERATLAS_SPARK_WORKDIR (shared storage on a cluster) or the data dir."""
    base = current().spark_workdir
    return base if base else store.data_dir / "spark"


def _arrow_type(values: list[Any]):
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.string()
    if kinds <= {bool}:
        return pa.bool_()
    if kinds <= {int, bool}:
        return pa.int64()
    if kinds <= {int, float, bool}:
        return pa.float64()
    if kinds <= {bytes, bytearray, memoryview}:
        return pa.binary()
    return pa.string()


def export_parquet(rows: Iterable[Sequence[Any]], folder: Path, names: list[str] | None = None,
                   chunk: int = EXPORT_CHUNK) -> int:
    """Stream rows into Parquet files (``part-00000.parquet``...), one schema inferred from the first chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    schema = None
    written = 0
    part = 0

    def flush(buffer: list[tuple]) -> None:
        nonlocal schema, part
        columns = list(zip(*buffer, strict=True))
        if schema is None:
            labels = names or [f"c{i}" for i in range(len(columns))]
            schema = pa.schema([(label, _arrow_type(list(col))) for label, col in zip(labels, columns, strict=True)])
        arrays = []
        for field, col in zip(schema, columns, strict=True):
            values = list(col)
            if pa.types.is_string(field.type):
                values = [None if v is None else str(v) for v in values]
            elif pa.types.is_floating(field.type):
                values = [None if v is None else float(v) for v in values]
            elif pa.types.is_binary(field.type):
                values = [None if v is None else bytes(v) for v in values]
            arrays.append(pa.array(values, type=field.type))
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), folder / f"part-{part:05d}.parquet")
        part += 1

    buffer: list[tuple] = []
    for row in rows:
        buffer.append(tuple(row))
        if len(buffer) >= chunk:
            flush(buffer)
            written += len(buffer)
            buffer = []
    if buffer:
        flush(buffer)
        written += len(buffer)
    return written


def read_parquet_rows(folder: Path) -> Iterator[tuple]:
    """The rows of a Parquet folder Spark wrote, as tuples in the folder's column order."""
    import pyarrow.dataset as ds

    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        return
    dataset = ds.dataset(files, format="parquet")
    for batch in dataset.to_batches():
        columns = [col.to_pylist() for col in batch.columns]
        yield from zip(*columns, strict=True)


def _arrow_schema(spark, schema: str):
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType, _parse_datatype_string

    parsed = _parse_datatype_string(schema)
    if not isinstance(parsed, StructType):
        raise ValueError(f"schema must describe columns, e.g. 'paper_id long, citations long': {schema!r}")
    return parsed, to_arrow_schema(parsed)


def _to_table(rows: Iterable[Sequence[Any]], arrow_schema):
    import pyarrow as pa

    rows = [tuple(r) for r in rows]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in arrow_schema]
    return pa.Table.from_arrays(
        [pa.array(list(col), type=field.type) for field, col in zip(arrow_schema, columns, strict=True)],
        schema=arrow_schema,
    )


def _ship_by_value(func: Callable) -> None:
    """Functions from modules the executors cannot import (a script, a test file) travel pickled by value."""
    import sys

    from pyspark import cloudpickle

    module_name = getattr(func, "__module__", None) or "__main__"
    if module_name.split(".")[0] in {"paperatlas", "__main__"}:
        return  # installed on every executor / already pickled by value
    module = sys.modules.get(module_name)
    if module is not None:
        cloudpickle.register_pickle_by_value(module)


def _spark_run(store: Store, sql: str, params: Sequence[Any], build, schema: str, keyed: bool,
               func: Callable) -> list[tuple]:
    from .session import get_spark

    spark = get_spark()
    _ship_by_value(func)
    struct, arrow_schema = _arrow_schema(spark, schema)
    root = workdir(store) / f"job-{uuid.uuid4().hex[:12]}"
    try:
        source = store.db.iterate(sql, params)
        if keyed:
            rows = ((row[0], seq, *row[1:]) for seq, row in enumerate(source))
            count = export_parquet(rows, root / "input", names=None)
        else:
            count = export_parquet(((seq, *row) for seq, row in enumerate(source)), root / "input")
        if count == 0:
            return []
        frame = spark.read.parquet(str(root / "input"))
        result = build(frame, arrow_schema, struct)
        result.write.mode("overwrite").parquet(str(root / "output"))
        return list(read_parquet_rows(root / "output"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _group_runner(func: BlockFunc, arrow_schema):
    """What each Spark task runs: its partition's rows arrive sorted by (block, seq) in Arrow batches; every
    complete block goes to ``func``, a block cut by a batch boundary waits for the rest of it."""

    def run(batches):
        pending_key: Any = None
        pending: list[tuple] = []
        started = False
        for batch in batches:
            columns = [col.to_pylist() for col in batch.columns]
            keys, rest = columns[0], columns[2:]
            out: list[tuple] = []
            for i, key in enumerate(keys):
                if started and key != pending_key:
                    out.extend(func(pending_key, pending))
                    pending = []
                pending_key, started = key, True
                pending.append(tuple(col[i] for col in rest))
            if out:
                yield from _to_table(out, arrow_schema).to_batches()
        if started:
            yield from _to_table(func(pending_key, pending), arrow_schema).to_batches()

    return run


def _batch_runner(func: BatchFunc, arrow_schema):
    def run(batches):
        import pyarrow as pa

        for batch in batches:
            table = pa.Table.from_batches([batch])
            order = sorted(range(table.num_rows), key=table.column(0).to_pylist().__getitem__)
            columns = [table.column(i).to_pylist() for i in range(1, table.num_columns)]
            rows = [tuple(col[i] for col in columns) for i in order]
            yield from _to_table(func(rows), arrow_schema).to_batches()

    return run


# --- public ------------------------------------------------------------------------------------------------------


def run_per_block(store: Store, key_sql: str, func: BlockFunc, *, schema: str, engine: str = "local",
                  params: Sequence[Any] = ()) -> list[tuple]:
    """Apply ``func(key, rows)`` to every block of ``key_sql``'s rows; return all output rows.

    ``key_sql``'s first column is the block key (a name block, an identity id...); ``func`` gets the other
    columns of the block's rows, in query order, and returns output rows matching ``schema`` (a Spark DDL string
    such as ``"identity_id long, h_index long, reason string"``).  Locally the output comes block by block in key
    order; from Spark in no particular order: sort if order matters.
    """
    check_engine(engine)
    if engine == "local":
        return _local_blocks(store, key_sql, params, func)

    def build(frame, arrow_schema, struct):
        # One Python call per partition, not per block: hash-partition by block, sort, and cut blocks in the task
        # (groupBy().applyInArrow costs a round trip per block, ~3 ms each: minutes for a million name blocks).
        key, seq = frame.columns[0], frame.columns[1]
        partitions = int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions"))
        grouped = frame.repartition(partitions, key).sortWithinPartitions(key, seq)
        return grouped.mapInArrow(_group_runner(func, arrow_schema), struct)

    return _spark_run(store, key_sql, params, build, schema, keyed=True, func=func)


def map_batches(store: Store, sql: str, func: BatchFunc, *, schema: str, engine: str = "local",
                params: Sequence[Any] = (), batch: int = 1000) -> list[tuple]:
    """Apply ``func(rows)`` to batches of at most ``batch`` rows of ``sql``; return all output rows.

    For row-wise work (embedding abstracts, scoring papers): ``func``'s output for a row must not depend on which
    other rows share its batch, since the two engines cut batches differently (Spark: per partition).
    """
    check_engine(engine)
    if engine == "local":
        return _local_batches(store, sql, params, func, batch)

    def build(frame, arrow_schema, struct):
        frame.sparkSession.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch))
        return frame.mapInArrow(_batch_runner(func, arrow_schema), struct)

    return _spark_run(store, sql, params, build, schema, keyed=False, func=func)


def map_items(items: list[Any], func: Callable[[Any], Any], *, engine: str = "local") -> list[Any]:
    """``[func(item) for item in items]``, on Spark's executors when ``engine="spark"`` (same order back).

    For work the driver already holds in memory, cut into independent picklable pieces (e.g. the evidence of one
    name block, whose corpus-wide statistics the driver computed once): Spark ships each piece to a task.
    """
    check_engine(engine)
    if engine == "local" or not items:
        return [func(item) for item in items]
    from .session import get_spark

    _ship_by_value(func)
    context = get_spark().sparkContext
    slices = max(1, min(len(items), int(context.defaultParallelism) * 4))
    return context.parallelize(items, slices).map(func).collect()  # collect keeps the partitions' order
