"""Stores for the web tests and the web benchmark, built from real arXiv Atom records straight into the core tables.

The pages only read the core schema, so their tests need not wait for the ingest, disambiguation or metrics stages:
this module parses real entries (titles, abstracts, authors, affiliations, categories, dates as arXiv wrote them)
and writes rows with ``executemany``.  :func:`scale_up` then generates as many papers as a benchmark asks for by
recombining the real records (real titles, abstracts, names and categories; new ids, dates, authors, citation
edges), which is how a 1,000,000-paper store is built in minutes.  Identities here are a stand-in for the
disambiguation stage: one per (name, homonym slot).
"""

from __future__ import annotations

import random
from collections import Counter as Counter_
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
from lxml import etree

from ..normalize import name_key, parse_arxiv_id, parse_name, surname_key, title_key
from ..store import Store
from ..store.ids import make_aid, make_pid

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"


@dataclass
class Entry:
    arxiv_id: str
    title: str
    abstract: str
    submitted: str
    updated: str
    primary_category: str | None
    categories: list[str]
    authors: list[tuple[str, list[str]]]  # (name, affiliations)
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    code_links: list[str] = field(default_factory=list)


def _text(node, path: str) -> str | None:
    found = node.find(path)
    return " ".join(found.text.split()) if found is not None and found.text else None


def read_atom(path: Path) -> Iterator[Entry]:
    """Entries of an arXiv API Atom file (the format of shared/data/arxiv/atom-api)."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, huge_tree=True))
    for node in tree.getroot().iter(f"{ATOM}entry"):
        parsed = parse_arxiv_id(_text(node, f"{ATOM}id") or "")
        if not parsed:
            continue
        primary = node.find(f"{ARXIV}primary_category")
        authors = []
        for author in node.findall(f"{ATOM}author"):
            name = _text(author, f"{ATOM}name")
            if name:
                affs = [" ".join(a.text.split()) for a in author.findall(f"{ARXIV}affiliation") if a.text]
                authors.append((name, affs))
        comment = _text(node, f"{ARXIV}comment")
        links = [w.rstrip(".,;)") for w in (comment or "").split() if w.startswith("https://github.com/")]
        yield Entry(
            arxiv_id=parsed[0],
            title=_text(node, f"{ATOM}title") or "",
            abstract=_text(node, f"{ATOM}summary") or "",
            submitted=(_text(node, f"{ATOM}published") or "")[:10],
            updated=(_text(node, f"{ATOM}updated") or "")[:10],
            primary_category=primary.get("term") if primary is not None else None,
            categories=[c.get("term") for c in node.findall(f"{ATOM}category") if c.get("term")],
            authors=authors,
            comment=comment,
            journal_ref=_text(node, f"{ARXIV}journal_ref"),
            doi=_text(node, f"{ARXIV}doi"),
            code_links=links,
        )


def read_atom_dir(folder: Path, limit: int | None = None) -> list[Entry]:
    out: list[Entry] = []
    for path in sorted(folder.glob("*.xml")):
        out.extend(read_atom(path))
        if limit and len(out) >= limit:
            return out[:limit]
    return out


@dataclass
class Writer:
    """Row writer with its own id counters, so generated rows can be appended in large batches."""

    store: Store
    next_paper: int = 1
    next_identity: int = 1
    identities: dict[tuple[str, int], int] = field(default_factory=dict)
    papers: list[tuple] = field(default_factory=list)
    paper_ids: list[tuple] = field(default_factory=list)
    authorships: list[tuple] = field(default_factory=list)
    identity_rows: list[tuple] = field(default_factory=list)
    citations: list[tuple] = field(default_factory=list)
    metrics: list[tuple] = field(default_factory=list)
    now: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def identity(self, name: str, slot: int = 0) -> int:
        key = (name_key(name), slot)
        found = self.identities.get(key)
        if found is None:
            found = self.identities[key] = self.next_identity
            self.next_identity += 1
            self.identity_rows.append((found, make_aid(f"{key[0]}#{slot}"), name, key[0], self.now, self.now))
        return found

    def paper(self, entry: Entry, *, seed: str | None = None, submitted: str | None = None,
              authors: list[tuple[str, list[str], int]] | None = None) -> int:
        """Add one paper; ``authors`` are (name, affiliations, identity slot); returns its internal id."""
        pid_num = self.next_paper
        self.next_paper += 1
        seed = seed or f"arxiv:{entry.arxiv_id}"
        submitted = submitted or entry.submitted
        people = authors if authors is not None else [(n, a, 0) for n, a in entry.authors]
        first = parse_name(people[0][0])[1] if people else None
        self.papers.append((
            pid_num, make_pid(seed), entry.title, entry.abstract, title_key(entry.title), surname_key(first),
            int(submitted[:4]) if submitted else None, submitted or None, entry.updated or None,
            entry.primary_category, orjson.dumps(entry.categories).decode(), entry.comment, entry.journal_ref,
            orjson.dumps(entry.code_links).decode() if entry.code_links else None, 1, self.now, self.now,
        ))
        scheme, value = seed.split(":", 1)
        self.paper_ids.append((scheme, value, pid_num))
        if entry.doi and seed == f"arxiv:{entry.arxiv_id}":
            self.paper_ids.append(("doi", entry.doi.lower(), pid_num))
        for position, (name, affs, slot) in enumerate(people):
            forenames, surname, suffix = parse_name(name)
            self.authorships.append((
                pid_num, position, name, forenames, surname, suffix, name_key(name),
                orjson.dumps(affs).decode() if affs else None, "arxiv-atom", self.identity(name, slot),
            ))
        return pid_num

    def cite(self, citing: int, cited: int, cited_pid_seed: str) -> None:
        self.citations.append((citing, cited_pid_seed, cited, "sample"))

    def flush(self) -> None:
        db = self.store.db
        with db.transaction():
            db.executemany(
                "INSERT INTO identities (id, aid, name, name_key, created_at, modified_at) VALUES (?,?,?,?,?,?)",
                self.identity_rows)
            db.executemany(
                "INSERT INTO papers (id, pid, title, abstract, title_key, first_author_key, year, submitted, updated, "
                "primary_category, categories, comments, journal_ref, code_links, change_seq, created_at, "
                "modified_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self.papers)
            db.executemany("INSERT INTO paper_ids (scheme, value, paper_id) VALUES (?,?,?) ON CONFLICT DO NOTHING",
                           self.paper_ids)
            db.executemany(
                "INSERT INTO authorships (paper_id, position, name, forenames, surname, suffix, name_key, "
                "affiliations, source, identity_id) VALUES (?,?,?,?,?,?,?,?,?,?)", self.authorships)
            db.executemany(
                "INSERT INTO citations (citing_id, cited_ref, cited_id, source) VALUES (?,?,?,?) "
                "ON CONFLICT DO NOTHING",
                self.citations)
            db.executemany(
                "INSERT INTO paper_metrics (paper_id, citations, novelty, novelty_reason, ai_score, ai_score_reason, "
                "trending, trending_reason, computed_at) VALUES (?,?,?,?,?,?,?,?,?)", self.metrics)
        for rows in (self.identity_rows, self.papers, self.paper_ids, self.authorships, self.citations,
                     self.metrics):
            rows.clear()


def write_entries(store: Store, entries: Iterable[Entry]) -> Writer:
    writer = Writer(store)
    for entry in entries:
        writer.paper(entry)
    writer.flush()
    return writer


def scale_up(store: Store, real: list[Entry], papers: int, *, seed: int = 7, cites_per_paper: int = 4,
             batch: int = 20_000, progress=None) -> dict[str, int]:
    """Generate ``papers`` papers from the real entries (see the module docstring) with citations and metrics.

    Authors: real forenames and surnames recombined into ~papers/3 people with a heavy-tailed number of papers
    (most have a few, the busiest about 800 in a million papers), as in real bibliographies.
    """
    rng = random.Random(seed)
    forenames = sorted({n.split()[0] for e in real for n, _ in e.authors if len(n.split()) > 1})
    surnames = sorted({n.split()[-1] for e in real for n, _ in e.authors if len(n.split()) > 1})
    affiliations = sorted({a for e in real for _, affs in e.authors for a in affs}) or ["Independent"]
    people = max(50, papers // 3)
    # people[i] = a real forename + a real surname; same names repeat, like real namesakes.
    names = [f"{rng.choice(forenames)} {rng.choice(surnames)}" for _ in range(people)]
    home = [rng.choice(affiliations) for _ in range(people)]
    weights = [1.0 / (rank + 1000) ** 1.1 for rank in range(people)]  # the busiest person: ~800 papers per 1M
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    writer = Writer(store)
    start = date(2015, 1, 1)
    span = (date(2026, 6, 30) - start).days
    made = 0
    while made < papers:
        count = min(batch, papers - made)
        for _ in range(count):
            entry = real[rng.randrange(len(real))]
            day = start + timedelta(days=int(span * ((made + 1) / papers) ** 0.7))
            size = rng.choice((1, 2, 3, 3, 4, 5, 7))
            chosen = {min(people - 1, _bisect(cum, rng.random() * total)) for _ in range(size)}
            # identity slot = the person's index: namesakes (same generated name) stay distinct people
            authors = [(names[p], [home[p]] if rng.random() < 0.7 else [], p) for p in sorted(chosen)]
            pid = writer.paper(entry, seed=f"s2:gen{made}", submitted=day.isoformat(), authors=authors)
            for _ in range(min(made, cites_per_paper)):
                cited = 1 + int((made) * (1 - rng.random() ** 2))  # older papers, recent ones more often
                if cited != pid:
                    writer.cite(pid, cited, f"s2:gen{cited - 1}")
            if rng.random() < 0.3:
                score = round(rng.uniform(20, 95), 1)
                writer.metrics.append((pid, 0, round(rng.uniform(0, 100), 1), None, score, None,
                                       round(rng.random() * (made / papers), 4), None, writer.now))
            made += 1
        writer.flush()
        if progress:
            progress(count)
    with store.db.transaction():  # the metrics rows count the citation edges generated above
        store.db.execute("UPDATE paper_metrics SET citations = (SELECT COUNT(DISTINCT c.citing_id) FROM citations c "
                         "WHERE c.cited_id = paper_metrics.paper_id)")
    return {"papers": made, "people": people}


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum)
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


HOSTILE_TITLE = r"<script>alert(1)</script> & the $\alpha$-\textbf{bold} <b>case</b> of O(n^2) < O(2^n)"


def build_fixture_store(store: Store, atom_dir: Path, limit: int = 150) -> dict[str, str]:
    """A small store of real entries plus the cases pages must get right; returns the public ids tests need.

    * a paper whose title holds a script tag, ``&``, LaTeX and HTML (pages must show it as text);
    * two different people who share a name (the second takes one paper of the first name's author):
      the author page must list only the first identity's papers and link the other;
    * citation edges and metrics rows with reasons on a few papers.
    """
    entries = read_atom_dir(atom_dir, limit)
    writer = Writer(store)
    ids = [writer.paper(e) for e in entries]
    counts = Counter_(n for e in entries for n, _ in e.authors)
    shared_name = counts.most_common(1)[0][0]  # the most frequent real name: an author with several papers
    # The stranger: a different person with the very same name, on a real paper of someone else's
    stranger_entry = next(e for e in entries if shared_name not in {n for n, _ in e.authors})
    stranger = Entry(**{**stranger_entry.__dict__, "arxiv_id": "2599.00001", "doi": None,
                        "authors": [(shared_name, ["Elsewhere University"]), *stranger_entry.authors[:2]]})
    stranger_id = writer.paper(stranger, authors=[(shared_name, ["Elsewhere University"], 1)]
                               + [(n, a, 0) for n, a in stranger_entry.authors[:2]])
    hostile = Entry(**{**entries[0].__dict__, "arxiv_id": "2599.00002", "doi": None, "title": HOSTILE_TITLE,
                       "abstract": "An abstract with <img src=x onerror=alert(2)> & $x<y$.",
                       "code_links": ["https://github.com/example/hostile"]})
    hostile_id = writer.paper(hostile, submitted=entries[0].submitted)
    for cited in ids[:3]:
        writer.cite(hostile_id, cited, f"arxiv:{entries[cited - 1].arxiv_id}")
    writer.cite(ids[1], hostile_id, "arxiv:2599.00002")
    writer.citations.append((hostile_id, "doi:10.9999/unresolved", None, "sample"))
    for rank, pid in enumerate([hostile_id, *ids[:20]]):
        reason = orjson.dumps({"why": f"fixture rank {rank}"}).decode()
        writer.metrics.append((pid, 0, 50.0 + rank, reason, 90.0 - rank, reason, 100.0 - rank, reason, writer.now))
    writer.flush()
    with store.db.transaction():
        store.db.execute("UPDATE paper_metrics SET citations = (SELECT COUNT(DISTINCT c.citing_id) FROM citations c "
                         "WHERE c.cited_id = paper_metrics.paper_id)")
    db = store.db
    first = db.scalar("SELECT aid FROM identities WHERE name_key = ? ORDER BY id LIMIT 1", (name_key(shared_name),))
    second = db.scalar("SELECT aid FROM identities WHERE name_key = ? ORDER BY id DESC LIMIT 1",
                       (name_key(shared_name),))
    pid = {i: db.scalar("SELECT pid FROM papers WHERE id = ?", (i,)) for i in (ids[0], hostile_id, stranger_id)}
    return {"paper": pid[ids[0]], "arxiv": entries[0].arxiv_id, "hostile": pid[hostile_id],
            "stranger_paper": pid[stranger_id], "shared_name": shared_name, "author": first, "namesake": second,
            "category": entries[0].primary_category or "cs.CL"}
