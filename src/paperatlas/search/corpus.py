"""Real papers for the search benchmarks and tests: the arXiv OAI-PMH harvest, and a generator that scales it.

The benchmarks must run on real data, and at a million papers, more than the 102,538 harvested records.
:func:`oai_papers` streams the real records (lxml ``iterparse``, one record in memory at a time);
:func:`scaled_papers` yields them first and then synthetic papers assembled from real parts (a real paper's
categories, year and author count, a title that mixes the words of two real titles, an abstract made of real
sentences from other real abstracts, real author names), so the vocabulary, term frequencies and field mix stay
those of the harvest.  :func:`load_papers` writes such plain dicts into a store the way the ingest does (papers,
paper_ids, authorships, a bumped ``change_seq``), for tests and benchmarks that must not depend on the ingest.
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ..normalize import name_key, title_key
from ..store import Store
from ..store.ids import make_pid

OAI_DIR = ("arxiv", "oai-pmh-cs-2016")
_ARXIV_NS = "{http://arxiv.org/OAI/arXiv/}"
_SPACES = re.compile(r"\s+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z$\\(])")


def _text(element: Any, tag: str) -> str | None:
    child = element.find(_ARXIV_NS + tag)
    if child is None or child.text is None:
        return None
    value = _SPACES.sub(" ", child.text).strip()
    return value or None


def parse_oai_file(path: Path) -> Iterator[dict[str, Any]]:
    """Papers (plain dicts) from one OAI-PMH ``ListRecords`` page with ``metadataPrefix=arXiv``."""
    from lxml import etree

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for _, element in etree.iterparse(handle, tag=_ARXIV_NS + "arXiv", huge_tree=True):
            arxiv_id = _text(element, "id")
            if arxiv_id:
                authors = []
                for author in element.iterfind(f"{_ARXIV_NS}authors/{_ARXIV_NS}author"):
                    parts = [_text(author, "forenames"), _text(author, "keyname"), _text(author, "suffix")]
                    name = " ".join(p for p in parts if p)
                    if name:
                        authors.append(name)
                created = _text(element, "created")
                categories = (_text(element, "categories") or "").split()
                yield {
                    "ids": {"arxiv": arxiv_id, **({"doi": d.lower()} if (d := _text(element, "doi")) else {})},
                    "title": _text(element, "title"),
                    "abstract": _text(element, "abstract"),
                    "authors": authors,
                    "submitted": created,
                    "updated": _text(element, "updated"),
                    "year": int(created[:4]) if created else None,
                    "primary_category": categories[0] if categories else None,
                    "categories": categories,
                    "journal_ref": _text(element, "journal-ref"),
                    "comments": _text(element, "comments"),
                    "license": _text(element, "license"),
                    "code_links": [],
                }
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]


def oai_files(shared: Path) -> list[Path]:
    return sorted(shared.joinpath(*OAI_DIR).glob("page*.xml*"))


def oai_papers(shared: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The real harvest, page after page (102,538 papers in the shared sample)."""
    count = 0
    for path in oai_files(shared):
        for paper in parse_oai_file(path):
            yield paper
            count += 1
            if limit is not None and count >= limit:
                return


def scaled_papers(real: list[dict[str, Any]], n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``n`` papers: the real ones first, then synthetic ones built only from real parts (see module doc)."""
    yield from real[:n]
    if n <= len(real):
        return
    rng = random.Random(seed)
    sentences = [s for p in real if p.get("abstract") for s in _SENTENCE.split(p["abstract"])]
    names = [name for p in real for name in p["authors"]]
    for k in range(n - len(real)):
        template = real[rng.randrange(len(real))]
        other = real[rng.randrange(len(real))]
        words_a = (template.get("title") or "").split()
        words_b = (other.get("title") or "").split()
        cut = len(words_a) // 2
        title = " ".join(words_a[:cut] + words_b[len(words_b) // 2 :]) or template.get("title")
        n_sentences = max(1, len(_SENTENCE.split(template.get("abstract") or "x")))
        abstract = " ".join(rng.choice(sentences) for _ in range(n_sentences))
        authors = [rng.choice(names) for _ in range(max(1, len(template["authors"])))]
        yield {
            **template,
            "ids": {"s2corpus": f"synthetic-{k}"},
            "title": title,
            "abstract": abstract,
            "authors": authors,
            "journal_ref": other.get("journal_ref") if rng.random() < 0.2 else None,
        }


_COLUMNS = ("title", "abstract", "title_key", "year", "submitted", "updated", "primary_category", "categories",
            "venue_name", "journal_ref", "comments", "license", "code_links", "change_seq", "modified_at")


def _row(paper: dict[str, Any], seq: int, now: str) -> tuple:
    return (
        paper.get("title"), paper.get("abstract"), title_key(paper.get("title")), paper.get("year"),
        paper.get("submitted"), paper.get("updated"), paper.get("primary_category"),
        orjson.dumps(paper.get("categories") or []).decode(), paper.get("venue_name"), paper.get("journal_ref"),
        paper.get("comments"), paper.get("license"), orjson.dumps(paper.get("code_links") or []).decode(), seq, now,
    )


def load_papers(store: Store, papers: Iterable[dict[str, Any]], batch: int = 5000, *, fresh: bool = False) -> int:
    """Write papers (dicts as :func:`parse_oai_file` yields) into the store as one new ingest batch.

    A paper whose first identifier is already there is updated in place (like a re-ingest); every written paper
    gets the batch's ``change_seq``, which is what the incremental search stage watches.  ``fresh=True`` skips
    those look-ups (the store must not hold these papers yet): the benchmark's bulk path.
    """
    db = store.db
    seq = int(db.scalar("SELECT COALESCE(MAX(change_seq), 0) FROM papers") or 0) + 1
    next_id = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM papers") or 0) + 1
    now = datetime.now(UTC).isoformat(timespec="seconds")
    cols = ", ".join(_COLUMNS)
    insert = f"INSERT INTO papers (id, pid, {cols}, created_at) VALUES (?, ?{', ?' * len(_COLUMNS)}, ?)"
    update = f"UPDATE papers SET {', '.join(f'{c} = ?' for c in _COLUMNS)} WHERE id = ?"
    written = 0
    chunk: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal next_id
        new_rows, id_rows, author_rows = [], [], []
        seen: dict[tuple[str, str], int] = {}
        with db.transaction():
            for paper in chunk:
                scheme, value = next(iter(paper["ids"].items()))
                if (scheme, value) in seen:  # the same paper twice in one batch: keep the first
                    continue
                found = None if fresh else db.scalar(
                    "SELECT paper_id FROM paper_ids WHERE scheme = ? AND value = ?", (scheme, value))
                seen[(scheme, value)] = found or next_id
                if found is None:
                    found = next_id
                    next_id += 1
                    new_rows.append((found, make_pid(f"{scheme}:{value}"), *_row(paper, seq, now), now))
                else:
                    db.execute(update, (*_row(paper, seq, now), found))
                    db.execute("DELETE FROM authorships WHERE paper_id = ?", (found,))
                id_rows += [(s, v, found) for s, v in paper["ids"].items()]
                author_rows += [(found, i, name, name_key(name), "search-corpus")
                                for i, name in enumerate(paper["authors"])]
            db.executemany(insert, new_rows)
            db.executemany("INSERT INTO paper_ids (scheme, value, paper_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           id_rows)
            db.executemany("INSERT INTO authorships (paper_id, position, name, name_key, source) "
                           "VALUES (?, ?, ?, ?, ?)", author_rows)
        chunk.clear()

    for paper in papers:
        chunk.append(paper)
        written += 1
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()
    return written
