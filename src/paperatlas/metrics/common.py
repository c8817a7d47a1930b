"""Small helpers the metric modules share: JSON reasons, timestamps, upserts into ``paper_metrics``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from ..store import Database


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


def loads(text: str | None, default: Any = None) -> Any:
    return orjson.loads(text) if text else default


def upsert_paper_metrics(db: Database, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write some columns of ``paper_metrics`` for many papers, leaving the other columns as they are.

    Each row is (paper_id, *values in ``columns`` order).  Stages of the metrics pipeline fill different columns
    of the same row, so none may overwrite another's.
    """
    names = ["paper_id", *columns, "computed_at"]
    marks = ", ".join("?" * len(names))
    updates = ", ".join(f"{c} = excluded.{c}" for c in [*columns, "computed_at"])
    sql = (f"INSERT INTO paper_metrics ({', '.join(names)}) VALUES ({marks}) "
           f"ON CONFLICT (paper_id) DO UPDATE SET {updates}")
    stamp = now_iso()
    batch: list[tuple] = []
    for row in rows:
        batch.append((*row, stamp))
        if len(batch) >= 5000:
            db.executemany(sql, batch)
            batch.clear()
    if batch:
        db.executemany(sql, batch)


def ensure_paper_rows(db: Database) -> int:
    """A ``paper_metrics`` row for every paper (zero citations until known), so pages always find one."""
    return db.execute(
        "INSERT INTO paper_metrics (paper_id, citations, computed_at) SELECT id, 0, ? FROM papers "
        "WHERE id NOT IN (SELECT paper_id FROM paper_metrics)",
        (now_iso(),),
    )
