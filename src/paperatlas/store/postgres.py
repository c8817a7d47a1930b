"""The server store: the :class:`~paperatlas.store.database.Database` interface on PostgreSQL (psycopg 3).

Stages write one portable SQL dialect (``?`` placeholders, ``ON CONFLICT``, ``RETURNING``) and never ask which
engine runs it.  This module makes PostgreSQL accept that dialect:

* ``?`` placeholders become ``%s`` -- but only in SQL code, never inside string literals, quoted identifiers,
  comments or dollar-quoted bodies -- and every literal ``%`` is doubled, because psycopg reads ``%`` as its own
  placeholder syntax everywhere in the text.
* The few SQLite spellings stages are tempted to use get their PostgreSQL form: ``INSERT OR IGNORE`` (``ON
  CONFLICT DO NOTHING``), ``INSERT OR REPLACE`` (``ON CONFLICT (primary key) DO UPDATE``) and ``IFNULL``.
* Results look like SQLite's: ``SUM``/``AVG`` over integers come back as ``int``/``float`` rather than
  ``Decimal`` (which JSON encoders refuse), and Python booleans are stored as 0/1 in the INTEGER columns the
  portable schema uses for flags.

Transactions nest with savepoints exactly like the SQLite store, large reads stream through server-side cursors,
and :meth:`PostgresDatabase.copy_rows` bulk-loads with ``COPY`` (see :func:`paperatlas.store.bulk.copy_rows`).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from .database import Row

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_cursor_names = itertools.count(1)


# --- SQL translation ---------------------------------------------------------------------------------------------

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_sql(text: str) -> list[tuple[bool, str]]:
    """Cut SQL into (is_code, piece): code, versus literals / quoted identifiers / comments that must stay as is."""
    pieces: list[tuple[bool, str]] = []
    code_start = 0
    i = 0
    n = len(text)

    def flush_code(end: int) -> None:
        if end > code_start:
            pieces.append((True, text[code_start:end]))

    while i < n:
        ch = text[i]
        end = -1
        if ch == "'" or ch == '"':
            escape_backslash = ch == "'" and i > 0 and text[i - 1] in "eE" and (i < 2 or not text[i - 2].isalnum())
            j = i + 1
            while j < n:
                if escape_backslash and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # doubled quote inside the literal
                        j += 2
                        continue
                    break
                j += 1
            end = min(j + 1, n)
        elif ch == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            end = n if j < 0 else j
        elif ch == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            end = n if j < 0 else j + 2
        elif ch == "$":
            match = _DOLLAR_TAG.match(text, i)
            if match and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
                tag = match.group(0)
                j = text.find(tag, match.end())
                end = n if j < 0 else j + len(tag)
        if end >= 0:
            flush_code(i)
            pieces.append((False, text[i:end]))
            i = end
            code_start = i
        else:
            i += 1
    flush_code(n)
    return pieces


_INSERT_OR = re.compile(r"\bINSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\b", re.IGNORECASE)
_IFNULL = re.compile(r"\bIFNULL\s*\(", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_INSERT_TARGET = re.compile(r"\bINTO\s+([A-Za-z_][A-Za-z0-9_.]*)\s*\(([^)]*)\)", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _translate(text: str) -> tuple[str, str | None, str | None, tuple[str, ...]]:
    """(psycopg SQL, "IGNORE"/"REPLACE"/None, insert table, insert columns) for one portable statement."""
    out: list[str] = []
    conflict: str | None = None
    for is_code, piece in split_sql(text):
        if not is_code:
            out.append(piece.replace("%", "%%"))
            continue
        piece = piece.replace("%", "%%").replace("?", "%s")
        piece = _IFNULL.sub("COALESCE(", piece)
        match = _INSERT_OR.search(piece)
        if match:
            conflict = match.group(1).upper()
            piece = piece[: match.start()] + "INSERT INTO" + piece[match.end() :]
        out.append(piece)
    translated = "".join(out)
    table, columns = None, ()
    if conflict:
        target = _INSERT_TARGET.search(translated)
        if target:
            table = target.group(1)
            columns = tuple(c.strip().strip('"') for c in target.group(2).split(",") if c.strip())
    return translated, conflict, table, columns


def _append_conflict(translated: str, clause: str) -> str:
    """Put an ON CONFLICT clause where PostgreSQL wants it: before RETURNING, else at the end."""
    body = translated.rstrip().rstrip(";").rstrip()
    code_positions = []
    offset = 0
    for is_code, piece in split_sql(body):
        if is_code:
            code_positions.extend(offset + m.start() for m in _RETURNING.finditer(piece))
        offset += len(piece)
    if code_positions:
        at = code_positions[-1]
        return f"{body[:at]}{clause} {body[at:]}"
    return f"{body} {clause}"


def to_pyformat(text: str) -> str:
    """The psycopg form of a portable statement (placeholders and ``%`` only; see :meth:`PostgresDatabase.sql`)."""
    return _translate(text)[0]


# --- type adaptation ---------------------------------------------------------------------------------------------


class _NumericLoader(Loader):
    """NUMERIC (what SUM/AVG of integers return) as int when integral, else float -- what SQLite gives."""

    def load(self, data: Any) -> int | float:
        raw = bytes(data)
        if b"." in raw or b"e" in raw or b"N" in raw or b"I" in raw:
            return float(raw)
        return int(raw)


class _BoolAsIntDumper(Dumper):
    """Python booleans into the INTEGER flag columns of the portable schema (SQLite has no boolean type)."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


def _configure(conn: psycopg.Connection) -> None:
    conn.adapters.register_loader("numeric", _NumericLoader)
    conn.adapters.register_dumper(bool, _BoolAsIntDumper)


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


# --- the store ---------------------------------------------------------------------------------------------------


class PostgresDatabase:
    """A PostgreSQL database as the store: one autocommit connection per thread, explicit transactions.

    ``url`` is a libpq URL (``postgresql://user@host:5432/db``); connection options ride along in it, e.g.
    ``?options=-csearch_path%3Dmyschema`` to keep one PaperAtlas store per schema.
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, connect_timeout: int = 10):
        self.url = url
        self._connect_timeout = connect_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[psycopg.Connection] = []
        self._pk_cache: dict[str, tuple[str, ...]] = {}
        self.conn  # noqa: B018 -- connect now, so a wrong URL fails when the store is opened, not mid-stage

    def __repr__(self) -> str:
        return f"PostgresDatabase({_redact(self.url)!r})"

    def _connect(self, *, autocommit: bool = True) -> psycopg.Connection:
        conn = psycopg.connect(self.url, autocommit=autocommit, connect_timeout=self._connect_timeout)
        _configure(conn)
        return conn

    @property
    def conn(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._connect()
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._all.append(conn)
        return conn

    # -- statements

    def sql(self, text: str) -> str:
        """Translate one portable statement into what psycopg runs on PostgreSQL."""
        translated, conflict, table, columns = _translate(text)
        if conflict == "IGNORE":
            return _append_conflict(translated, "ON CONFLICT DO NOTHING")
        if conflict == "REPLACE":
            keys = self.primary_key(table) if table else ()
            if not keys or not columns:
                raise ValueError(f"INSERT OR REPLACE needs an explicit column list and a primary key: {text[:80]!r}")
            rest = [c for c in columns if c not in keys]
            action = (
                "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in rest) if rest else "DO NOTHING"
            )
            return _append_conflict(translated, f"ON CONFLICT ({', '.join(keys)}) {action}")
        return translated

    def primary_key(self, table: str) -> tuple[str, ...]:
        if table not in self._pk_cache:
            rows = self.conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)",
                [table],
            ).fetchall()
            self._pk_cache[table] = tuple(r[0] for r in rows)
        return self._pk_cache[table]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self.conn.execute(self.sql(sql), list(params))
        return cur.rowcount

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        statement = self.sql(sql)
        with self.conn.cursor() as cur, self._autocommit():
            cur.executemany(statement, [list(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self.sql(sql), list(params))
            return cur.fetchall() if cur.description else []

    def query_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(self.sql(sql), list(params))
            return cur.fetchall() if cur.description else []

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 5000) -> Iterator[tuple]:
        """Stream rows through a server-side cursor.

        Inside a transaction the cursor lives in it (and sees its uncommitted writes); outside one, a separate
        short-lived connection reads, so a caller may write through this connection while it iterates.
        """
        statement = self.sql(sql)
        name = f"paperatlas_iter_{next(_cursor_names)}"
        if self.in_transaction:
            with self.conn.cursor(name=name) as cur:
                cur.itersize = batch
                cur.execute(statement, list(params))
                while rows := cur.fetchmany(batch):
                    yield from rows
            return
        reader = self._connect(autocommit=False)
        try:
            with reader.cursor(name=name) as cur:
                cur.itersize = batch
                cur.execute(statement, list(params))
                while rows := cur.fetchmany(batch):
                    yield from rows
            reader.rollback()
        finally:
            reader.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.conn.cursor() as cur:
            cur.execute(self.sql(sql), list(params))
            row = cur.fetchone() if cur.description else None
        return row[0] if row else None

    # -- transactions

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; nested calls are savepoints, so an inner failure undoes only the inner part."""
        conn = self.conn
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            with conn.transaction():
                yield
        finally:
            self._local.depth -= 1

    @contextmanager
    def _autocommit(self) -> Iterator[None]:
        if self.in_transaction:
            yield
        else:
            with self.transaction():
                yield

    # -- bulk loading

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Append rows with ``COPY ... FROM STDIN`` (several times faster than INSERTs); return how many."""
        for name in (table, *columns):
            if not _IDENT.match(name):
                raise ValueError(f"not a plain SQL identifier: {name!r}")
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
        )
        count = 0
        with self._autocommit(), self.conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    # -- catalog

    def table_exists(self, name: str) -> bool:
        """Whether a table or view of that name is visible on the connection's search_path."""
        return bool(self.scalar("SELECT to_regclass(?) IS NOT NULL", (name,)))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except psycopg.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
