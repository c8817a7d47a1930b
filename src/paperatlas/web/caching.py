"""HTTP caching: ETag / Last-Modified validators and an in-process cache of rendered responses.

Both hang off one *data version*: the newest change the store knows of (papers, identities, every stage's
watermark).  It is read with a handful of index probes at most once a second, so a 304 or a cache hit costs no
page query at all, and any ingest, disambiguation or metrics run changes the version and so every ETag.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from ..store import Store
from .security import origin_of


class DataVersion:
    def __init__(self, store: Store, ttl: float = 1.0):
        self.store = store
        self.ttl = ttl
        self._at = 0.0
        self._value: tuple[str, datetime] = ("", datetime.now(UTC))
        self._lock = threading.Lock()

    def _read(self) -> tuple[str, datetime]:
        db = self.store.db
        stamps = [
            db.scalar("SELECT MAX(modified_at) FROM papers"),
            db.scalar("SELECT MAX(modified_at) FROM identities"),
        ]
        parts = [str(db.scalar("SELECT MAX(change_seq) FROM papers")), *map(str, stamps)]
        for stage, watermark, updated in db.query_tuples("SELECT stage, watermark, updated_at FROM stage_state"):
            parts.append(f"{stage}={watermark}@{updated}")
            stamps.append(updated)
        parts.append(str(db.scalar("SELECT MAX(number) FROM schema_migrations")))
        newest = datetime(2000, 1, 1, tzinfo=UTC)
        for stamp in stamps:
            if not stamp:
                continue
            try:
                when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            except ValueError:
                continue
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            newest = max(newest, when)
        return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest(), newest.replace(microsecond=0)

    def invalidate(self) -> None:
        """Re-read the version on the next request: a reader who just voted must see the vote, not a page
        rendered up to ``ttl`` seconds earlier."""
        with self._lock:
            self._at = 0.0

    def get(self) -> tuple[str, datetime]:
        now = time.monotonic()
        if now - self._at > self.ttl:
            with self._lock:
                if now - self._at > self.ttl:
                    self._value = self._read()
                    self._at = time.monotonic()
        return self._value


class SharedResponses:
    """Rendered bodies shared by the worker processes of one server: a SQLite file of its own, keyed by ETag.

    Each worker keeps its own LRU (:class:`ResponseCache`), so without this every worker rendered each page again
    for itself: under ``bench web --mix`` with 2 workers, 6,300 renders for 4,900 distinct URLs.  A worker that
    misses its own LRU reads this file (an index probe, ~30 us) before rendering, and every render is written here
    (on the render thread: a write may wait for the other worker's).  The newest ``size`` bodies are kept.  The
    file is made for one server run (:func:`shared_responses_path`), so a new server starts cold."""

    PRUNE_EVERY = 256  # writes between two prunings to ``size`` rows

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._local = threading.local()  # a connection per thread, as the store has
        self._writes = 0
        self._lock = threading.Lock()
        self._connection()  # a file that cannot be made fails at start, not on the first request

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a cache: losing it to a crash costs renders, nothing else
            conn.execute("CREATE TABLE IF NOT EXISTS responses (etag TEXT PRIMARY KEY, body BLOB NOT NULL, "
                         "media_type TEXT NOT NULL)")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> tuple[bytes, str] | None:
        row = self._connection().execute("SELECT body, media_type FROM responses WHERE etag = ?", (key,)).fetchone()
        return (bytes(row[0]), str(row[1])) if row is not None else None

    def put(self, key: str, body: bytes, media_type: str) -> None:
        conn = self._connection()
        # a new rowid on every write: rowid order is write order, which is what pruning keeps the newest of
        conn.execute("INSERT OR REPLACE INTO responses (etag, body, media_type) VALUES (?, ?, ?)",
                     (key, body, media_type))
        with self._lock:
            self._writes += 1
            prune = self._writes % self.PRUNE_EVERY == 0
        if prune:
            conn.execute("DELETE FROM responses WHERE rowid <= (SELECT MAX(rowid) FROM responses) - ?", (self.size,))


def shared_responses_path(data_dir: Path, server_pid: int) -> Path:
    """The file the workers of the server process ``server_pid`` share: in ``DATA_DIR/web-cache`` (a folder only
    this user may open, never the world-writable temporary folder, where another local user could plant a file of
    the predictable name and serve its pages), named by that process's id and start time, so never a file an
    earlier server left.  Files of servers that are gone are removed on the way."""
    folder = Path(data_dir) / "web-cache"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # mkdir's mode is masked by the umask, and an existing folder keeps its own
    for old in folder.glob("paperatlas-responses-*.sqlite3*"):
        pid, _, started = old.name.split(".")[0].removeprefix("paperatlas-responses-").partition("-")
        if pid.isdigit() and _start_time(int(pid)) != started:
            old.unlink(missing_ok=True)
    return folder / f"paperatlas-responses-{server_pid}-{_start_time(server_pid)}.sqlite3"


def _start_time(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot (``/proc/PID/stat``), or "gone"."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "gone"


class ResponseCache:
    """A small LRU of rendered bodies keyed by ETag (which already folds in the data version); with ``shared``,
    backed by the bodies the server's other workers rendered (:class:`SharedResponses`)."""

    def __init__(self, size: int = 4096, shared: SharedResponses | None = None):
        self.size = size
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.enabled = size > 0
        self.shared = shared if self.enabled else None

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                return item
        if self.shared is None:
            return None
        item = self.shared.get(key)
        if item is not None:
            self._remember(key, item)
        return item

    def put(self, key: str, body: bytes, media_type: str) -> None:
        if not self.enabled:
            return
        self._remember(key, (body, media_type))
        if self.shared is not None:
            self.shared.put(key, body, media_type)

    def _remember(self, key: str, item: tuple[bytes, str]) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    return _fresh(request.headers.get("if-none-match"), request.headers.get("if-modified-since"), etag,
                  last_modified)


def _fresh(match: str | None, since: str | None, etag: str, last_modified: datetime) -> bool:
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return etag in tags or "*" in tags
    if since:
        try:
            return parsedate_to_datetime(since) >= last_modified
        except (TypeError, ValueError):
            return False
    return False


def cache_url(scope: MutableMapping[str, Any]) -> str:
    """Everything a cached response varies by: scheme and host (feeds carry absolute links, see
    ``security.PublicOrigin``), path and query.  Pages that vary by anything else (cookies) are never cached."""
    query = scope.get("query_string", b"").decode("latin-1")
    return origin_of(scope) + scope["path"] + ("?" + query if query else "")


def etag_for(version: str, url: str) -> str:
    return '"' + hashlib.blake2b(f"{version}|{url}".encode(), digest_size=10).hexdigest() + '"'


class CachedResponses:
    """ASGI middleware answering a GET whose rendered body is already cached, before routing even starts.

    It only ever serves what :func:`cached_response` stored under the same ETag (URL + data version), so pages
    that are not cacheable (the digest's forms with their cookies) always reach their handlers.
    """

    def __init__(self, app, state):
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        url = cache_url(scope)
        version, last_modified = self.state.data_version.get()
        etag = etag_for(version, url)
        hit = self.state.response_cache.get(etag)
        if hit is None:
            await self.app(scope, receive, send)
            return
        body, media_type = hit
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
                   if k in (b"if-none-match", b"if-modified-since")}
        fresh = _fresh(headers.get("if-none-match"), headers.get("if-modified-since"), etag, last_modified)
        out = [(b"etag", etag.encode()), (b"last-modified", format_datetime(last_modified, usegmt=True).encode()),
               (b"cache-control", b"public, max-age=60")]
        if fresh:
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        out += [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": body})


async def cached_response(request: Request, render: Callable[[], tuple[bytes, str]], *,
                          max_age: int = 60) -> Response:
    """Answer 304 when the client's copy is current, else the cached or freshly rendered body, with validators.

    ``render`` returns (body, media type); it may raise HTTPException (404...), which is never cached.  A 304 or a
    cache hit is answered on the event loop; only a miss goes to the thread pool, where the queries block.
    """
    state = request.app.state
    version, last_modified = state.data_version.get()
    etag = etag_for(version, cache_url(request.scope))
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(last_modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
    }
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    cache: ResponseCache = state.response_cache
    hit = cache.get(etag)
    if hit is None:
        def render_and_keep() -> tuple[bytes, str]:
            body, media_type = render()
            cache.put(etag, body, media_type)  # on the render thread: a shared cache's write may wait
            return body, media_type

        body, media_type = await run_in_threadpool(render_and_keep)
    else:
        body, media_type = hit
    return Response(content=body, media_type=media_type, headers=headers)
