"""The one interface every stage talks to the store through, and its embedded SQLite implementation.

Stages write portable SQL (``?`` placeholders, ``INSERT ... ON CONFLICT``, ``RETURNING``) against
:class:`Database`; the SQLite and PostgreSQL implementations translate what differs (placeholders, type names in
migrations, bulk loading).  That keeps the stages ignorant of which engine holds the data, which is what the
scale-out issue asks for, without hiding SQL behind an ORM that would cost the ingest its speed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

Row = dict[str, Any]


@runtime_checkable
class Database(Protocol):
    """A connection to the store.  Every write happens inside :meth:`transaction`."""

    dialect: str  # "sqlite" or "postgresql"
    url: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows as dicts keyed by column name."""

    def query_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 5000) -> Iterator[tuple]:
        """Stream a large result without holding it in memory."""

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: an exception (or a crash) inside leaves the store as it was before."""

    def table_exists(self, name: str) -> bool: ...

    def close(self) -> None: ...


IN_CHUNK = 500  # values per IN (...) list: well under SQLite's 999 variables, and PostgreSQL plans it fast


def in_chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` cut into pieces of at most ``size``, for one ``IN (...)`` list each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def query_in(db: Database, sql: str, values: Sequence[Any], *, before: Sequence[Any] = (),
             after: Sequence[Any] = (), size: int = IN_CHUNK) -> list[tuple]:
    """Rows of ``sql`` for every value, as tuples, the ``IN`` list cut into chunks (one query per chunk).

    ``sql`` holds ``{marks}`` where the placeholders go (``"SELECT id, title FROM papers WHERE id IN ({marks})"``);
    ``before`` / ``after`` are the parameters that come before and after the list.  Rows come chunk by chunk, so an
    ``ORDER BY`` holds within a chunk only."""
    out: list[tuple] = []
    for part in in_chunks(values, size):
        out.extend(db.query_tuples(sql.format(marks=",".join("?" * len(part))), (*before, *part, *after)))
    return out


def query_rows_in(db: Database, sql: str, values: Sequence[Any], *, before: Sequence[Any] = (),
                  after: Sequence[Any] = (), size: int = IN_CHUNK) -> list[Row]:
    """:func:`query_in` with each row as a dict of its columns."""
    out: list[Row] = []
    for part in in_chunks(values, size):
        out.extend(db.query(sql.format(marks=",".join("?" * len(part))), (*before, *part, *after)))
    return out


class SQLiteDatabase:
    """One SQLite file in WAL mode: the embedded default, no server to run.

    WAL lets the web server read while an ingest writes, and makes a killed writer harmless: an uncommitted
    transaction is simply not there when the file is next opened.
    """

    dialect = "sqlite"

    def __init__(self, path: Path | str, *, readonly: bool = False):
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._readonly = readonly
        self._local = threading.local()
        self._depth_lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    # One connection per thread: sqlite3 connections must not be shared across threads, and the web server
    # answers requests from a thread pool.
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            self._local.depth = 0
            with self._depth_lock:
                self._all.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        if self._readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                   isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA mmap_size=268435456")
        return conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._autocommit():
            cur = self.conn.execute(sql, params)
            return cur.rowcount

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._autocommit():
            self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 5000) -> Iterator[tuple]:
        cur = self.conn.execute(sql, params)
        while rows := cur.fetchmany(batch):
            yield from rows

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self.conn
        depth = self._local.depth
        if depth == 0:
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn.execute(f"SAVEPOINT sp{depth}")
        self._local.depth = depth + 1
        try:
            yield
        except BaseException:
            self._local.depth = depth
            if depth == 0:
                conn.execute("ROLLBACK")
            else:
                conn.execute(f"ROLLBACK TO sp{depth}")
                conn.execute(f"RELEASE sp{depth}")
            raise
        self._local.depth = depth
        if depth == 0:
            conn.execute("COMMIT")
        else:
            conn.execute(f"RELEASE sp{depth}")

    @contextmanager
    def _autocommit(self) -> Iterator[None]:
        """A statement outside an explicit transaction still runs in one (its own)."""
        if self._local.__dict__.get("depth", 0) > 0 or self.conn.in_transaction:
            yield
        else:
            with self.transaction():
                yield

    def table_exists(self, name: str) -> bool:
        return bool(self.scalar("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", (name,)))

    def close(self) -> None:
        with self._depth_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass
            self._all.clear()
        self._local = threading.local()
