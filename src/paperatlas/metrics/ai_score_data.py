"""Training data of the AI Score: real papers with Google Scholar counts, and their MiniLM vectors cached on disk.

Why a separate module: the runtime scorer (:mod:`paperatlas.metrics.ai_score`) must stay light (no file readers,
no embedding model), while training reads ../shared/data and needs the vectors of ~14,000 abstracts.  Those take
~7 minutes of a shared 2-core CPU to embed, so they are cached by the same ``content_hash(paper_text(...))`` as
the embeddings table and :mod:`paperatlas.embeddings.cache` use (and in the same ``.npz`` layout): a second
training run embeds nothing, and the cache can also serve a store's own embedding stage.

What is read, and what is deliberately not:
* ``citations/papercopilot-gs/<venue><year>.jsonl.gz``: title, abstract, venue, year, ``gs_citation``.  The
  ``status`` (oral/poster...), authors and affiliations are *not* read: decisions are known only after review,
  and author identity is what the score must not learn.
* ``code-links/paper_code_links.jsonl``: the same fields for ACL/NAACL/CVPR/ICML papers with code, used only
  where the paper is not already in papercopilot-gs (matched by normalised title).
* ``peer-review/iclr-papercopilot/iclr2017.json``: the ICLR 2017 decisions, for the tf-idf baseline the issue asks
  for (and ICLR 2017's own Google Scholar counts as one more venue-year).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from ..embeddings.store import content_hash, paper_text

if TYPE_CHECKING:
    import numpy as np

ACCEPTED = {"poster", "oral", "spotlight", "talk"}
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(slots=True)
class CitedPaper:
    """One real paper with what is known at submission (title, abstract, venue, year) and its later citations."""

    title: str
    abstract: str
    venue: str
    year: int
    citations: int
    accepted: int | None = None  # only for the ICLR decisions baseline; never a feature

    @property
    def group(self) -> str:
        """The venue-year: the unit the target is ranked within and the unit held out in validation."""
        return f"{self.venue}{self.year}"

    @property
    def text(self) -> str:
        return paper_text(self.title, self.abstract)


def _title_key(title: str) -> str:
    return _NON_WORD.sub(" ", title.lower()).strip()


def _count(value: object) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def _year(value: object, fallback: str) -> int:
    text = str(value or "").strip()
    if text.isdigit():
        return int(text)
    found = re.search(r"(19|20)\d\d", fallback)
    if found is None:
        raise ValueError(f"no year in {fallback!r}")
    return int(found.group(0))


def _json_lines(path: Path, data: bytes) -> Iterator[dict]:
    """The JSON objects of a JSON-lines file's bytes; a line that is not JSON stops training with FILE:LINE."""
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc})") from exc


def load_papercopilot(shared: Path) -> list[CitedPaper]:
    """Every paper of ``citations/papercopilot-gs`` with a title, an abstract and a citation count."""
    folder = Path(shared) / "citations" / "papercopilot-gs"
    files = sorted(folder.glob("*.jsonl.gz"))
    if not files:
        raise ValueError(f"no venue-year files (*.jsonl.gz) under {folder}")
    out: list[CitedPaper] = []
    for path in files:
        stem = path.name.removesuffix(".jsonl.gz")
        for row in _json_lines(path, gzip.decompress(path.read_bytes())):
            cites = _count(row.get("gs_citation"))
            title = (row.get("title") or "").strip()
            abstract = (row.get("abstract") or "").strip()
            if cites is None or not title or not abstract:
                continue
            venue = _NON_WORD.sub("", str(row.get("venue") or re.sub(r"\d", "", stem)).lower())
            out.append(CitedPaper(title, abstract, venue, _year(row.get("year"), stem), cites))
    return out


def load_code_links(shared: Path, known_titles: Iterable[str] = ()) -> list[CitedPaper]:
    """Code-links papers with an abstract and a count, minus those already known (by normalised title)."""
    path = Path(shared) / "code-links" / "paper_code_links.jsonl"
    if not path.is_file():
        return []
    seen = {_title_key(t) for t in known_titles}
    out: list[CitedPaper] = []
    for row in _json_lines(path, path.read_bytes()):
        cites = _count(row.get("gs_citation"))
        title = (row.get("title") or "").strip()
        abstract = (row.get("abstract") or "").strip()
        source = str(row.get("conference_file") or "")
        found = re.match(r"([a-z]+)\D*((?:19|20)\d\d)", source.lower())
        if cites is None or not title or not abstract or found is None or _title_key(title) in seen:
            continue
        seen.add(_title_key(title))
        out.append(CitedPaper(title, abstract, found.group(1), int(found.group(2)), cites))
    return out


def load_iclr2017(shared: Path) -> list[CitedPaper]:
    """ICLR 2017 submissions with decision, abstract and (where scraped) a citation count (-1 when missing)."""
    path = Path(shared) / "peer-review" / "iclr-papercopilot" / "iclr2017.json"
    if not path.is_file():
        return []
    out: list[CitedPaper] = []
    for row in orjson.loads(path.read_bytes()):
        status = (row.get("status") or "").strip().lower()
        title = (row.get("title") or "").strip()
        if not status or not title:
            continue
        cites = _count(row.get("gs_citation"))
        out.append(CitedPaper(title, (row.get("abstract") or "").strip(), "iclr", 2017,
                              -1 if cites is None else cites, accepted=int(status in ACCEPTED)))
    return out


def load_all(shared: Path) -> tuple[list[CitedPaper], list[CitedPaper]]:
    """(papers with citation counts for training/validation, ICLR 2017 decisions for the baseline)."""
    papers = load_papercopilot(shared)
    iclr = load_iclr2017(shared)
    known = [p.title for p in papers]
    papers += load_code_links(shared, known)
    known += [p.title for p in papers]
    seen = {_title_key(t) for t in known}
    papers += [p for p in iclr if p.citations >= 0 and p.abstract and _title_key(p.title) not in seen]
    return papers, iclr


def cached_vectors(texts: list[str], cache_path: Path, model: str,
                   encode: Callable[[list[str]], np.ndarray], *, chunk: int = 512,
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Vectors of ``texts`` (one L2-normalised float32 row each), from ``cache_path`` where it has them.

    The rest are encoded ``chunk`` texts at a time and the cache rewritten after each chunk, so an interrupted
    run keeps what it computed.  A cache made by another model is refused rather than mixed in.
    """
    import numpy as np

    from ..embeddings.cache import load_cache

    index: dict[str, int] = {}
    rows: list[np.ndarray] = []
    if cache_path.is_file():
        cache = load_cache(cache_path)
        if cache.model != model:
            raise ValueError(f"{cache_path} holds vectors of {cache.model}, not {model}: delete it or use another")
        index, rows = dict(cache.index), list(cache.matrix)
    digests = [content_hash(t) for t in texts]
    missing = list(dict.fromkeys(d for d in digests if d not in index))
    by_digest = {d: t for d, t in zip(digests, texts, strict=True)}
    for start in range(0, len(missing), chunk):
        part = missing[start : start + chunk]
        vectors = encode([by_digest[d] for d in part])
        for digest, vector in zip(part, vectors, strict=True):
            index[digest] = len(rows)
            rows.append(np.asarray(vector, dtype=np.float32))
        _write(cache_path, model, index, rows)
        if progress is not None:
            progress(min(start + chunk, len(missing)), len(missing))
    if not rows:
        return np.zeros((len(texts), 0), dtype=np.float32)
    matrix = np.vstack(rows)
    return matrix[[index[d] for d in digests]]


def _write(path: Path, model: str, index: dict[str, int], rows: list) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    order = sorted(index, key=index.__getitem__)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez_compressed(partial, model=np.array(model), hashes=np.array(order),
                        vectors=np.vstack(rows).astype("<f4"))
    partial.replace(path)
