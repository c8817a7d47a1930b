"""Real arXiv records from the shared OAI-PMH harvest, for the scores' tests and benchmarks.

The ingest stage belongs to another part of PaperAtlas; the scores must be testable (and benchmarkable) on real
papers without waiting for it, so this reads ``arxiv/oai-pmh-cs-2016/page*.xml.gz`` directly (a few fields only)
and can insert those papers into a store the way the core schema describes them.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from ..store import Store

ARXIV_NS = "{http://arxiv.org/OAI/arXiv/}"


@dataclass
class SamplePaper:
    arxiv_id: str
    title: str
    abstract: str
    created: str
    categories: list[str]
    authors: list[tuple[str, str]] = field(default_factory=list)  # (forenames, keyname)
    doi: str | None = None


def oai_pages(shared: Path) -> list[Path]:
    return sorted((Path(shared) / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))


def read_oai(shared: Path, limit: int | None = None, *, start_page: int = 0) -> Iterator[SamplePaper]:
    """Papers from the real 2016 arXiv ``cs`` harvest, in file order."""
    from lxml import etree

    count = 0
    for page in oai_pages(shared)[start_page:]:
        with gzip.open(page, "rb") as handle:
            for _, elem in etree.iterparse(handle, tag=f"{ARXIV_NS}arXiv", huge_tree=True):
                def text(tag: str, node=elem) -> str:
                    found = node.find(f"{ARXIV_NS}{tag}")
                    return (found.text or "").strip() if found is not None else ""

                authors = [
                    (text("forenames", a), text("keyname", a)) for a in elem.iter(f"{ARXIV_NS}author")
                ]
                yield SamplePaper(
                    arxiv_id=text("id"),
                    title=" ".join(text("title").split()),
                    abstract=" ".join(text("abstract").split()),
                    created=text("created"),
                    categories=text("categories").split(),
                    authors=authors,
                    doi=text("doi") or None,
                )
                elem.clear()
                count += 1
                if limit is not None and count >= limit:
                    return


def insert_papers(store: Store, papers: list[SamplePaper]) -> list[int]:
    """Insert papers (and their arXiv ids and authorships, no identities) the way the core schema holds them."""
    from ..normalize import name_key
    from ..store.ids import make_pid

    now = datetime.now(UTC).isoformat(timespec="seconds")
    db = store.db
    ids: list[int] = []
    with db.transaction():
        for paper in papers:
            db.execute(
                "INSERT INTO papers (pid, title, abstract, year, submitted, primary_category, categories, "
                "created_at, modified_at, change_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (
                    make_pid(f"arxiv:{paper.arxiv_id}"),
                    paper.title,
                    paper.abstract,
                    int(paper.created[:4]) if paper.created else None,
                    paper.created or None,
                    paper.categories[0] if paper.categories else None,
                    orjson.dumps(paper.categories).decode(),
                    now,
                    now,
                ),
            )
            paper_id = int(db.scalar("SELECT id FROM papers WHERE pid = ?", (make_pid(f"arxiv:{paper.arxiv_id}"),)))
            db.execute("INSERT INTO paper_ids (scheme, value, paper_id) VALUES ('arxiv', ?, ?)",
                       (paper.arxiv_id, paper_id))
            for position, (forenames, keyname) in enumerate(paper.authors):
                full = f"{forenames} {keyname}".strip()
                db.execute(
                    "INSERT INTO authorships (paper_id, position, name, forenames, surname, name_key) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (paper_id, position, full, forenames or None, keyname or None, name_key(full)),
                )
            ids.append(paper_id)
    return ids


@dataclass
class AclNetwork:
    papers: dict[str, dict]  # ACL id -> {title, authors: [names], venue, year}
    edges: list[tuple[str, str]]  # (citing, cited)


def read_acl(shared: Path) -> AclNetwork:
    """The ACL Anthology Network: paper metadata and its real citation graph."""
    import re

    folder = Path(shared) / "citations" / "acl-anthology-network"
    papers: dict[str, dict] = {}
    current: dict[str, str] = {}
    field_re = re.compile(r"^(\w+)\s*=\s*\{(.*)\}\s*$")
    for line in [*(folder / "acl-metadata.txt").read_text(encoding="utf-8", errors="replace").splitlines(), ""]:
        match = field_re.match(line.strip())
        if match:
            current[match.group(1)] = match.group(2).strip()
        elif current:
            if current.get("id"):
                names = [" ".join(reversed([x.strip() for x in n.split(",", 1)])) for n in
                         current.get("author", "").split(";") if n.strip()]
                year = current.get("year", "")
                papers[current["id"]] = {"title": current.get("title", ""), "authors": names,
                                         "venue": current.get("venue"), "year": int(year) if year.isdigit() else None}
            current = {}
    edges = []
    for line in (folder / "acl.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        citing, sep, cited = line.partition("==>") if "==>" in line else line.partition(",")
        if sep and citing.strip() and cited.strip():
            edges.append((citing.strip(), cited.strip()))
    return AclNetwork(papers, edges)


def insert_acl(store: Store, network: AclNetwork, ids: list[str], *, source: str = "acl-anthology-network") -> dict:
    """Insert these ACL papers, their authorships and the citation edges among them; ACL id -> paper id."""
    from ..normalize import name_key
    from ..store.ids import make_pid

    now = datetime.now(UTC).isoformat(timespec="seconds")
    db = store.db
    out: dict[str, int] = {}
    with db.transaction():
        for acl_id in ids:
            paper = network.papers[acl_id]
            pid = make_pid(f"acl:{acl_id}")
            year = paper["year"]
            db.execute(
                "INSERT INTO papers (pid, title, year, submitted, venue_name, venue_year, created_at, modified_at, "
                "change_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (pid, paper["title"], year, f"{year}-06-01" if year else None, paper["venue"], year, now, now),
            )
            paper_id = int(db.scalar("SELECT id FROM papers WHERE pid = ?", (pid,)))
            db.execute("INSERT INTO paper_ids (scheme, value, paper_id) VALUES ('acl', ?, ?)", (acl_id, paper_id))
            for position, name in enumerate(paper["authors"]):
                db.execute("INSERT INTO authorships (paper_id, position, name, name_key) VALUES (?, ?, ?, ?)",
                           (paper_id, position, name, name_key(name)))
            out[acl_id] = paper_id
        wanted = set(out)
        db.executemany(
            "INSERT INTO citations (citing_id, cited_ref, cited_id, source) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(out[a], f"acl:{b}", out[b], source) for a, b in network.edges if a in wanted and b in wanted],
        )
    return out


def make_identity(store: Store, name: str, paper_ids: list[int] | None = None) -> int:
    """An identity holding the authorships named exactly ``name`` (optionally only on these papers)."""
    from ..normalize import name_key
    from ..store.ids import make_aid

    now = datetime.now(UTC).isoformat(timespec="seconds")
    db = store.db
    with db.transaction():
        db.execute("INSERT INTO identities (aid, name, name_key, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
                   (make_aid(name), name, name_key(name), now, now))
        identity_id = int(db.scalar("SELECT id FROM identities WHERE aid = ?", (make_aid(name),)))
        sql = "UPDATE authorships SET identity_id = ? WHERE name = ?"
        params: list = [identity_id, name]
        if paper_ids is not None:
            sql += f" AND paper_id IN ({','.join('?' * len(paper_ids))})"
            params += paper_ids
        db.execute(sql, params)
    return identity_id
