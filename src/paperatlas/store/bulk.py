"""Bulk loading that uses each engine's fastest path: ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

Ingest and the batch stages append rows by the hundred thousand.  On PostgreSQL a ``COPY FROM STDIN`` stream is
several times faster than even pipelined INSERTs; SQLite has no COPY, and its ``executemany`` inside one
transaction is already close to its limit.  Callers write ``copy_rows(db, table, columns, rows)`` once and get
both.  Plain appends only: rows that may conflict with existing keys need ``INSERT ... ON CONFLICT`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .database import Database

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def copy_rows(db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Append ``rows`` (sequences in ``columns`` order) to ``table``; return how many were written.

    Runs in the caller's transaction when there is one, else in its own: all rows or none.
    """
    for name in (table, *columns):
        if not _IDENT.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")
    native = getattr(db, "copy_rows", None)
    if native is not None:
        return int(native(table, columns, rows))
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    count = 0

    def counted() -> Iterable[Sequence[Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    with db.transaction():
        db.executemany(statement, counted())
    return count
