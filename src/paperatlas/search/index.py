"""The tantivy full-text index: its schema, its analyzer, and where it lives (``<data_dir>/index/tantivy``).

Why tantivy: measured at 200k documents it answers top-20 BM25 queries in well under a millisecond where SQLite
FTS5 takes 5-60 ms on OR queries (docs in /work/shared/TECH-NOTES.md, and ``paperatlas bench search``), it runs
embedded with no server, and it computes facets (terms aggregations) on its column store.

Everything a result line needs (pid, title, authors, year, date) is stored in the index too, so a search never
has to go back to SQL on its hot path.
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any

from ..store import Store

ANALYZER = "paper"  # simple tokens, long ones dropped, lower-cased, ASCII-folded, English-stemmed
NAME_ANALYZER = "name"  # same without stemming: author names and prefix queries
ID_ANALYZER = "raw_lower"  # whole identifiers, lower-cased

TEXT_FIELDS = {"title": 3.0, "abstract": 1.0, "authors": 2.0, "venue": 0.7}

_lock = threading.Lock()
_open: dict[Path, tuple[Any, float]] = {}


def index_dir(store: Store) -> Path:
    return store.data_dir / "index" / "tantivy"


@functools.lru_cache(maxsize=64)
def _paths(data_dir: Path) -> tuple[Path, str]:
    """The index folder and its meta.json (as a str: one ``os.stat`` per query, no path objects built)."""
    path = Path(data_dir) / "index" / "tantivy"
    return path, str(path / "meta.json")


def analyzers() -> dict[str, Any]:
    import tantivy as t

    def base(stem: bool) -> Any:
        builder = (
            t.TextAnalyzerBuilder(t.Tokenizer.simple())
            .filter(t.Filter.remove_long(40))
            .filter(t.Filter.lowercase())
            .filter(t.Filter.ascii_fold())
        )
        return (builder.filter(t.Filter.stemmer("english")) if stem else builder).build()

    raw = t.TextAnalyzerBuilder(t.Tokenizer.raw()).filter(t.Filter.lowercase()).build()
    return {ANALYZER: base(True), NAME_ANALYZER: base(False), ID_ANALYZER: raw}


_ANALYZERS: dict[str, Any] | None = None


def analyzer(name: str) -> Any:
    global _ANALYZERS
    if _ANALYZERS is None:
        _ANALYZERS = analyzers()
    return _ANALYZERS[name]


def build_schema() -> Any:
    import tantivy as t

    sb = t.SchemaBuilder()
    sb.add_integer_field("paper_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("pid", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name=ANALYZER)
    sb.add_text_field("abstract", stored=True, tokenizer_name=ANALYZER)
    sb.add_text_field("authors", stored=True, tokenizer_name=NAME_ANALYZER)
    sb.add_text_field("venue", stored=True, tokenizer_name=ANALYZER)
    sb.add_text_field("ids", stored=False, tokenizer_name=ID_ANALYZER, index_option="basic")
    sb.add_text_field("category", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("archive", tokenizer_name="raw", index_option="basic")  # "cs" for cs.LG: filter by archive
    sb.add_text_field("venue_key", fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("year", stored=True, indexed=True, fast=True)
    sb.add_integer_field("date", stored=True, indexed=True, fast=True)  # yyyymmdd of first submission/publication
    sb.add_integer_field("has_code", indexed=True, fast=True)
    return sb.build()


def _register(index: Any) -> None:
    for name, an in analyzers().items():
        index.register_tokenizer(name, an)


def create_index(store: Store) -> Any:
    """A new, empty index (an old one in the same place is replaced)."""
    import shutil

    import tantivy as t

    path = index_dir(store)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    index = t.Index(build_schema(), path=str(path), reuse=False)
    _register(index)
    with _lock:
        _open.pop(path, None)
    return index


class IndexNotBuilt(RuntimeError):
    """The full-text index (or, as :class:`paperatlas.search.encoder.QueryEncoderNotBuilt`, the query encoder) does
    not exist yet: callers say what to run instead of answering differently."""

    def __init__(self, data_dir: object = None,
                 message: str = "the search index is not built: run `paperatlas build`") -> None:
        super().__init__(message)
        self.data_dir = data_dir


def open_index(store: Store) -> Any | None:
    """The index for writing or searching, or None when it has not been built yet.

    Opened indexes are cached per folder and reloaded when a writer has committed since (``meta.json`` changes),
    so a long-running web server sees every incremental update without reopening anything per query.
    """
    import tantivy as t

    path, meta = _paths(store.data_dir)
    try:
        mtime = os.stat(meta).st_mtime
    except FileNotFoundError:
        return None
    with _lock:
        cached = _open.get(path)
        if cached is not None and cached[1] == mtime:
            return cached[0]
        if cached is not None:
            index = cached[0]
            index.reload()
        else:
            index = t.Index.open(str(path))
            _register(index)
        _open[path] = (index, mtime)
        return index

