"""Real papers for digest tests and the digest benchmark, when the ingest pipeline is not at hand.

``load_atom_papers`` reads arXiv API Atom feeds (``../shared/data/arxiv/atom-api/cs-2025-12``: 500 real cs papers)
straight into the core tables, with one identity per exact author name so authors can be followed.  It is a
deliberately small stand-in for ``paperatlas.ingest.ingest_paths`` plus disambiguation; ``real_store`` uses the
real pipeline when it is installed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from lxml import etree

from ..normalize import name_key, parse_arxiv_id, parse_name, title_key
from ..store import Store
from ..store.ids import make_aid, make_pid

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV_NS = "{http://arxiv.org/schemas/atom}"


def atom_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.name.endswith((".atom.xml", ".xml")))


def parse_atom(path: Path) -> list[dict]:
    root = etree.parse(str(path)).getroot()
    out = []
    for entry in root.iter(f"{ATOM}entry"):
        parsed = parse_arxiv_id(entry.findtext(f"{ATOM}id") or "")
        if not parsed:
            continue
        primary = entry.find(f"{ARXIV_NS}primary_category")
        out.append({
            "arxiv": parsed[0],
            "version": parsed[1],
            "title": " ".join((entry.findtext(f"{ATOM}title") or "").split()),
            "abstract": " ".join((entry.findtext(f"{ATOM}summary") or "").split()),
            "published": (entry.findtext(f"{ATOM}published") or "")[:10] or None,
            "updated": (entry.findtext(f"{ATOM}updated") or "")[:10] or None,
            "primary": primary.get("term") if primary is not None else None,
            "categories": [c.get("term") for c in entry.findall(f"{ATOM}category") if c.get("term")],
            "authors": [" ".join((a.findtext(f"{ATOM}name") or "").split()) for a in entry.findall(f"{ATOM}author")],
        })
    return out


def load_atom_papers(store: Store, folder: Path, limit: int | None = None) -> int:
    """Insert the feeds' papers (skipping ones already there); return how many were inserted."""
    db = store.db
    now = datetime.now(UTC).isoformat(timespec="seconds")
    entries = [e for path in atom_files(folder) for e in parse_atom(path)]
    if limit is not None:
        entries = entries[:limit]
    inserted = 0
    identities: dict[str, int] = {k: i for i, k in db.query_tuples("SELECT id, name_key FROM identities")}
    with db.transaction():
        for e in entries:
            if db.scalar("SELECT 1 FROM paper_ids WHERE scheme = 'arxiv' AND value = ?", (e["arxiv"],)):
                continue
            year = int(e["published"][:4]) if e["published"] else None
            db.execute(
                "INSERT INTO papers (pid, title, abstract, title_key, year, submitted, updated, arxiv_version, "
                "primary_category, categories, change_seq, created_at, modified_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (make_pid(f"arxiv:{e['arxiv']}"), e["title"], e["abstract"], title_key(e["title"]), year,
                 e["published"], e["updated"], e["version"], e["primary"], orjson.dumps(e["categories"]).decode(),
                 now, now))
            paper_id = int(db.scalar("SELECT id FROM papers WHERE pid = ?", (make_pid(f"arxiv:{e['arxiv']}"),)))
            db.execute("INSERT INTO paper_ids (scheme, value, paper_id) VALUES ('arxiv', ?, ?)", (e["arxiv"], paper_id))
            for position, name in enumerate(e["authors"]):
                key = name_key(name)
                if key not in identities:
                    db.execute("INSERT INTO identities (aid, name, name_key, created_at, modified_at) "
                               "VALUES (?, ?, ?, ?, ?)", (make_aid(key), name, key, now, now))
                    identities[key] = int(db.scalar("SELECT id FROM identities WHERE name_key = ?", (key,)))
                forenames, surname, suffix = parse_name(name)
                db.execute(
                    "INSERT INTO authorships (paper_id, position, name, forenames, surname, suffix, name_key, source, "
                    "identity_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'arxiv-atom', ?)",
                    (paper_id, position, name, forenames, surname, suffix, key, identities[key]))
            inserted += 1
    return inserted


def latest_submitted(store: Store) -> str | None:
    """The newest submission date in the store: benchmarks and demos replay the corpus as of that day."""
    value = store.db.scalar("SELECT MAX(submitted) FROM papers")
    return value[:10] if value else None
