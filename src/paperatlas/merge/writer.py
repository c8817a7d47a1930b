"""Writing one batch of records into the store, in a transaction of its own (:func:`apply_batch`) or in one the
caller holds open around several batches (:func:`apply_in_transaction`, the ingest's commit groups).

A batch is never half-committed: a ``kill -9`` leaves the store exactly as it was after the last commit, and since
unchanged records (same key, same content hash) are skipped before anything is written, a re-run
writes only what the killed run had not committed, and bumps the ``change_seq`` counter exactly as often as the
uninterrupted run did.  Paper ids are allocated inside the transaction (``MAX(id) + 1``, under the write lock)
so the same input always yields the same ids.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from ..store.database import Database, query_in
from ..store.ids import make_pid
from ..store.papers import parse_ref
from .fold import Held, first_author_key, fold, record_year
from .matching import MIN_TITLE_KEY, Candidate, lookup_ids, lookup_titles, record_pairs, title_match

PAPER, CITATION, ENTITY = "paper", "citation", "entity"
_CHUNK = 500

PAPER_COLUMNS = ("title", "abstract", "title_key", "first_author_key", "year", "submitted", "updated", "published",
                 "arxiv_version", "primary_category", "categories", "venue_name", "venue_year", "venue_kind",
                 "comments", "journal_ref", "license", "code_links", "external_citation_count",
                 "external_citation_source", "provenance")
AUTHOR_COLUMNS = ("name", "forenames", "surname", "suffix", "name_key", "affiliations", "orcid", "dblp_homonym",
                  "source_author_ids", "source")
_paper_values = itemgetter(*PAPER_COLUMNS)
_INSERT_PAPER = (f"INSERT INTO papers (id, pid, {', '.join(PAPER_COLUMNS)}, change_seq, created_at, modified_at) "
                 f"VALUES ({', '.join('?' * (len(PAPER_COLUMNS) + 5))})")
_UPDATE_PAPER = (f"UPDATE papers SET {', '.join(c + ' = ?' for c in PAPER_COLUMNS)}, change_seq = ?, modified_at = ? "
                 "WHERE id = ?")
_INSERT_AUTHOR = (f"INSERT INTO authorships (paper_id, position, {', '.join(AUTHOR_COLUMNS)}, identity_id) "
                  f"VALUES ({', '.join('?' * (len(AUTHOR_COLUMNS) + 3))})")
_UPSERT_AUTHOR = (_INSERT_AUTHOR + " ON CONFLICT (paper_id, position) DO UPDATE SET "
                  + ", ".join(f"{c} = excluded.{c}" for c in (*AUTHOR_COLUMNS, "identity_id")))
_UPSERT_RECORD = ("INSERT INTO paper_records (record_key, paper_id, source, file, locator, content_hash, data, "
                  "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_key) DO UPDATE SET "
                  "paper_id = excluded.paper_id, source = excluded.source, file = excluded.file, "
                  "locator = excluded.locator, content_hash = excluded.content_hash, data = excluded.data, "
                  "ingested_at = excluded.ingested_at")
_INSERT_ID = "INSERT INTO paper_ids (scheme, value, paper_id) VALUES (?, ?, ?) ON CONFLICT (scheme, value) DO NOTHING"
_INSERT_CITATION = ("INSERT INTO citations (citing_id, cited_ref, cited_id, source) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (citing_id, cited_ref, source) DO NOTHING")
_INSERT_PENDING = ("INSERT INTO pending_citations (citing_ref, cited_ref, source) VALUES (?, ?, ?) "
                   "ON CONFLICT (citing_ref, cited_ref, source) DO NOTHING")
_UPSERT_ENTITY = ("INSERT INTO source_entities (source, id, kind, file, locator, content_hash, data, ingested_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO UPDATE SET kind = excluded.kind, "
                  "file = excluded.file, locator = excluded.locator, content_hash = excluded.content_hash, "
                  "data = excluded.data, ingested_at = excluded.ingested_at")


class Prepared(NamedTuple):
    """A paper record digested on the parser side (see :func:`prepare`)."""

    pairs: list[tuple[str, str]]
    title_key: str
    year: int | None
    author_key: str
    arxiv: str | None
    paper: tuple  # PAPER_COLUMNS values of the paper this record makes on its own
    authors: list[tuple]  # AUTHOR_COLUMNS values
    ids: list[tuple[str, str]]
    seed: str
    pid: str  # make_pid(seed), the public id unless it collides
    has_refs: bool


class Item(NamedTuple):
    """One record as the parser hands it over: already JSON, already hashed (see ``ingest/encode.py``).  A tuple,
    because batches of them cross a process boundary and tuples pickle fastest."""

    kind: str  # PAPER | CITATION | ENTITY
    key: str
    content_hash: str
    data: str  # the record as JSON (provenance left out: it is in file/locator)
    source: str
    file: str
    locator: str
    format: str
    pre: Prepared | None = None


class Paperish(NamedTuple):
    """A paper ready for SQL."""

    values: tuple
    authors: list[tuple]
    ids: list[tuple[str, str]]
    seed: str
    pid: str | None = None


@dataclass
class BatchResult:
    counts: Counter = field(default_factory=Counter)  # new / merged / updated / unchanged / citations / entities
    change_seq: int | None = None  # the value written, or None when the batch changed nothing
    written: bool = False


def canonical_ref(ref: str) -> str:
    """``"arxiv:1706.03762v2"`` -> ``"arxiv:1706.03762"``; a ref that does not parse is kept as given."""
    parsed = parse_ref(ref)
    return f"{parsed[0]}:{parsed[1]}" if parsed else ref.strip()


def _split_ref(ref: str) -> tuple[str, str] | None:
    scheme, sep, value = ref.partition(":")
    return (scheme, value) if sep and value else None


def next_change_seq(db: Database) -> int:
    current = db.scalar("SELECT value FROM meta WHERE key = 'change_seq'")
    return int(current or 0) + 1


def apply_batch(db: Database, items: list[Item]) -> BatchResult:
    """Fold ``items`` into the store in one transaction."""
    with db.transaction():
        return apply_in_transaction(db, items)


def apply_in_transaction(db: Database, items: list[Item]) -> BatchResult:
    """Fold ``items`` into the store inside the caller's open transaction, which must be rolled back if this
    raises (it may have written part of the batch).  Used by the ingest's commit groups: a savepoint per batch
    instead made every upsert keep a statement journal, and measured ten times slower on ``paper_records``."""
    result = BatchResult()
    seq = next_change_seq(db)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    papers = [i for i in items if i.kind == PAPER]
    wrote = _apply_papers(db, papers, seq, now, result) if papers else False
    entities = [i for i in items if i.kind == ENTITY]
    if entities:
        wrote = _apply_entities(db, entities, now, result) or wrote
    citations = [i for i in items if i.kind == CITATION]
    if citations:
        wrote = _apply_citations(db, citations, result) or wrote
    if wrote:
        db.execute("INSERT INTO meta (key, value) VALUES ('change_seq', ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(seq),))
        result.change_seq = seq
        result.written = True
    return result


def _known_hashes(db: Database, table: str, key_column: str, keys: list[str],
                  extra: str = "paper_id") -> dict[str, tuple[Any, str]]:
    found: dict[str, tuple[Any, str]] = {}
    sql = (f"SELECT {key_column}, {extra}, content_hash FROM {table} WHERE {key_column} IN ({{marks}})")
    for key, other, digest in query_in(db, sql, keys):
        found[key] = (other, digest)
    return found


def prepare(data: dict[str, Any], source: str, file: str, locator: str, key: str) -> Prepared:
    """Everything the writer needs of one paper record that does not depend on the store: its match keys and
    the paper it makes on its own (all a record that turns out to be a new paper needs, which is the bulk of any
    first ingest).  A parser may compute it and pass it as ``Item.pre``."""
    held = Held(data, source, f"{source}:{file}:{locator}", key)
    folded = fold([held])
    ids = data.get("ids") or {}
    return Prepared(
        pairs=record_pairs(ids),
        title_key=folded.columns["title_key"] or "",
        year=record_year(data),
        author_key=first_author_key(data),
        arxiv=ids.get("arxiv"),
        paper=_paper_values(folded.columns),
        authors=[_author_values(a) for a in folded.authors],
        ids=folded.ids,
        seed=folded.seed,
        pid=fast_pid(folded.seed),
        has_refs=bool(data.get("references") or data.get("cited_by")),
    )


_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS = tuple(a + b for a in _B32 for b in _B32)  # 10 bits -> two characters


def fast_pid(seed: str) -> str:
    """``store.ids.make_pid(seed)`` without ``base64.b32encode`` (pure Python, and 1/3 of the cost of a new paper
    in the writer): the first 50 bits of the same digest, in the same lower-case base32 alphabet, ten bits a
    table lookup."""
    bits = int.from_bytes(hashlib.blake2b(seed.encode("utf-8"), digest_size=10).digest()[:7], "big") >> 6
    return ("p" + _B32_PAIRS[bits >> 40] + _B32_PAIRS[(bits >> 30) & 1023] + _B32_PAIRS[(bits >> 20) & 1023]
            + _B32_PAIRS[(bits >> 10) & 1023] + _B32_PAIRS[bits & 1023])


def _prepared(item: Item) -> Prepared:
    return item.pre or prepare(orjson.loads(item.data), item.source, item.file, item.locator, item.key)


def _held(item: Item) -> Held:
    return Held(orjson.loads(item.data), item.source, f"{item.source}:{item.file}:{item.locator}", item.key)


def _apply_papers(db: Database, items: list[Item], seq: int, now: str, result: BatchResult) -> bool:
    counts = result.counts
    latest: dict[str, Item] = {}
    for item in items:  # the same record twice in one batch: keep the higher-ranked version (see record_rank)
        seen = latest.get(item.key)
        if seen is not None and seen.content_hash != item.content_hash and (
            record_rank(orjson.loads(seen.data), seen.content_hash)
            > record_rank(orjson.loads(item.data), item.content_hash)
        ):
            continue
        latest.pop(item.key, None)
        latest[item.key] = item
    known = _known_hashes(db, "paper_records", "record_key", list(latest))
    changed = [key for key, item in latest.items() if key in known and known[key][1] != item.content_hash]
    stored_rank = _stored_ranks(db, changed) if changed else {}
    fresh: list[tuple[Item, Prepared]] = []
    for key, item in latest.items():
        if key in known and known[key][1] == item.content_hash:
            counts["unchanged"] += 1
        elif key in stored_rank and record_rank(orjson.loads(item.data), item.content_hash) <= stored_rank[key]:
            counts["unchanged"] += 1  # an older or poorer copy of a record the store already has
        else:
            fresh.append((item, _prepared(item)))
    counts["unchanged"] += len(items) - len(latest)
    if not fresh:
        return False

    # Batched lookups: every identifier of every record, then the titles of those no identifier placed.
    id_hits = lookup_ids(db, (pair for _, pre in fresh for pair in pre.pairs))
    arxiv_of = _arxiv_ids(db, set(id_hits.values()))
    title_hits = lookup_titles(db, (pre.title_key for item, pre in fresh
                                    if item.key not in known and not any(p in id_hits for p in pre.pairs)))
    next_id = int(db.scalar("SELECT MAX(id) FROM papers") or 0) + 1

    local_ids: dict[tuple[str, str], int] = {}
    local_titles: dict[str, list[Candidate]] = {}
    touched: dict[int, list[tuple[Item, Prepared]]] = {}
    replaced: set[str] = set()
    new_ids: list[int] = []
    for item, pre in fresh:
        arxiv = pre.arxiv
        paper_id: int | None = None
        if item.key in known:
            paper_id = known[item.key][0]
            replaced.add(item.key)
            counts["updated"] += 1
        else:
            for pair in pre.pairs:
                hit = local_ids.get(pair) or id_hits.get(pair)
                # Two arXiv submissions are two papers, even when they (wrongly) share a DOI.
                if hit is not None and not (arxiv and arxiv_of.get(hit) and arxiv not in arxiv_of[hit]):
                    paper_id = hit
                    break
            if paper_id is None and pre.title_key:
                candidates = [*title_hits.get(pre.title_key, ()), *local_titles.get(pre.title_key, ())]
                paper_id = title_match(candidates, pre.year, pre.author_key, arxiv)
            if paper_id is None:
                paper_id = next_id
                next_id += 1
                new_ids.append(paper_id)
                counts["new"] += 1
            else:
                counts["merged"] += 1
        for pair in pre.pairs:
            if pair not in id_hits:
                local_ids.setdefault(pair, paper_id)
        if arxiv:
            arxiv_of.setdefault(paper_id, set()).add(arxiv)
        if len(pre.title_key) >= MIN_TITLE_KEY:
            local_titles.setdefault(pre.title_key, []).append(
                Candidate(paper_id, pre.year, pre.author_key or None, {arxiv} if arxiv else set()))
        touched.setdefault(paper_id, []).append((item, pre))

    new_set = set(new_ids)
    existing = sorted(pid for pid in touched if pid not in new_set)
    stored = _stored_records(db, existing, replaced | set(latest))
    old_authors = _stored_authors(db, existing)

    papers: dict[int, Paperish] = {}
    for paper_id, entries in touched.items():
        if len(entries) == 1 and paper_id in new_set:
            pre = entries[0][1]
            papers[paper_id] = Paperish(pre.paper, pre.authors, pre.ids, pre.seed, pre.pid)
        else:
            folded = fold([*stored.get(paper_id, ()), *(_held(item) for item, _ in entries)])
            papers[paper_id] = Paperish(_paper_values(folded.columns),
                                        [_author_values(a) for a in folded.authors], folded.ids, folded.seed)

    pids = _new_pids(db, {pid: (papers[pid].seed, papers[pid].pid) for pid in new_ids})
    db.executemany(_INSERT_PAPER, [(pid, pids[pid], *papers[pid].values, seq, now, now) for pid in new_ids])
    if existing:
        db.executemany(_UPDATE_PAPER, [(*papers[pid].values, seq, now, pid) for pid in existing])
    db.executemany(_INSERT_ID, [(s, v, pid) for pid in touched for s, v in papers[pid].ids])
    db.executemany(_UPSERT_RECORD, [
        (item.key, pid, item.source, item.file, item.locator, item.content_hash, item.data, now)
        for pid, entries in touched.items() for item, _ in entries
    ])
    db.executemany(_INSERT_AUTHOR, [
        (pid, pos, *values, None) for pid in new_ids for pos, values in enumerate(papers[pid].authors)
    ])
    if existing:
        _rewrite_authors(db, existing, papers, old_authors)
    with_refs = {pid: [_held(item) for item, pre in entries if pre.has_refs] for pid, entries in touched.items()}
    with_refs = {pid: helds for pid, helds in with_refs.items() if helds}
    if with_refs:
        _write_paper_citations(db, with_refs, papers, {**id_hits, **local_ids}, result)
    return True


def record_rank(data: dict[str, Any], digest: str) -> tuple:
    """The order in which two versions of one source record (same key, different content) replace each other:
    the newer (arXiv ``updated`` date, version), then the fuller, then, for a total order, the content hash.

    A total order makes re-ingest a no-op even when one input holds two versions of a record (a Semantic
    Scholar paper in several API responses, a paper harvested twice): whatever the order they are read in, the
    store keeps the same one, and reading them again changes nothing."""
    newness = (data.get("updated") or data.get("submitted") or "", data.get("arxiv_version") or 0)
    filled = sum(1 for value in data.values() if value)
    return (newness, filled, len(orjson.dumps(data)), digest)


def _stored_ranks(db: Database, keys: list[str]) -> dict[str, tuple]:
    ranks: dict[str, tuple] = {}
    sql = ("SELECT record_key, content_hash, data FROM paper_records WHERE record_key IN ({marks})")
    for key, digest, data in query_in(db, sql, keys):
        ranks[key] = record_rank(orjson.loads(data), digest)
    return ranks


def _arxiv_ids(db: Database, paper_ids: set[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    ordered = sorted(paper_ids)
    sql = ("SELECT paper_id, value FROM paper_ids WHERE scheme = 'arxiv' AND paper_id IN ({marks})")
    for paper_id, value in query_in(db, sql, ordered):
        found.setdefault(paper_id, set()).add(value)
    return found


def _author_values(row: dict[str, Any]) -> tuple:
    return (row["name"], row["forenames"], row["surname"], row["suffix"], row["name_key"],
            orjson.dumps(row["affiliations"]).decode() if row["affiliations"] else None, row["orcid"],
            row["dblp_homonym"],
            orjson.dumps(row["source_author_ids"]).decode() if row["source_author_ids"] else None, row["source"])


def _stored_records(db: Database, paper_ids: list[int], skip: set[str]) -> dict[int, list[Held]]:
    found: dict[int, list[Held]] = {}
    sql = ("SELECT record_key, paper_id, source, file, locator, data FROM paper_records "
           "WHERE paper_id IN ({marks}) ORDER BY record_key")
    for key, paper_id, source, file, locator, data in query_in(db, sql, paper_ids):
        if key not in skip:
            found.setdefault(paper_id, []).append(Held(orjson.loads(data), source, f"{source}:{file}:{locator}",
                                                       key))
    return found


def _stored_authors(db: Database, paper_ids: list[int]) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = {}
    sql = (f"SELECT paper_id, position, {', '.join(AUTHOR_COLUMNS)}, identity_id FROM authorships "
           f"WHERE paper_id IN ({{marks}}) ORDER BY paper_id, position")
    for row in query_in(db, sql, paper_ids):
        found.setdefault(row[0], []).append(row[1:])
    return found


def _rewrite_authors(db: Database, paper_ids: list[int], papers: dict[int, Paperish],
                     old: dict[int, list[tuple]]) -> None:
    """Rewrite changed author lists in place, keeping the identity of every author still there (same position
    and name key, else the one author of that name key) so that disambiguation need not start over."""
    key_at = AUTHOR_COLUMNS.index("name_key")
    upserts, deletes = [], []
    for pid in paper_ids:
        before = old.get(pid, [])  # (position, *AUTHOR_COLUMNS, identity_id)
        at = {row[0]: row for row in before}
        by_key: dict[str, list[tuple]] = {}
        for row in before:
            by_key.setdefault(row[1 + key_at], []).append(row)
        authors = papers[pid].authors
        for position, values in enumerate(authors):
            previous = at.get(position)
            identity = None
            if previous is not None and previous[1 + key_at] == values[key_at]:
                identity = previous[-1]
            elif len(by_key.get(values[key_at], ())) == 1:
                identity = by_key[values[key_at]][0][-1]
            if previous is not None and tuple(previous[1:-1]) == values and previous[-1] == identity:
                continue
            upserts.append((pid, position, *values, identity))
        if len(before) > len(authors):
            deletes.append((pid, len(authors)))
    if upserts:
        db.executemany(_UPSERT_AUTHOR, upserts)
    if deletes:
        db.executemany("DELETE FROM authorships WHERE paper_id = ? AND position >= ?", deletes)


def _new_pids(db: Database, seeds: dict[int, tuple[str, str | None]]) -> dict[int, str]:
    """Public ids for new papers, from their seeds; a (rare) collision takes the next attempt."""
    wanted = {pid: made or make_pid(seed) for pid, (seed, made) in seeds.items()}
    taken: set[str] = set()
    values = sorted(set(wanted.values()))
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        taken.update(r[0] for r in db.query_tuples(f"SELECT pid FROM papers WHERE pid IN ({marks})", chunk))
    out: dict[int, str] = {}
    for paper_id in sorted(wanted):
        candidate, attempt = wanted[paper_id], 0
        while candidate in taken:
            attempt += 1
            candidate = make_pid(seeds[paper_id][0], attempt)
        taken.add(candidate)
        out[paper_id] = candidate
    return out


def _write_paper_citations(db: Database, touched: dict[int, list[Held]], folded: dict[int, Paperish],
                           known: dict[tuple[str, str], int], result: BatchResult) -> None:
    refs: list[tuple[int, str, str]] = []  # (paper, ref, source); direction below
    cited_by: list[tuple[int, str, str]] = []
    for pid, helds in touched.items():
        for held in helds:
            for ref in held.data.get("references") or ():
                if ref.get("cited"):
                    refs.append((pid, canonical_ref(ref["cited"]), held.source))
            for ref in held.data.get("cited_by") or ():
                if ref.get("cited"):
                    cited_by.append((pid, canonical_ref(ref["cited"]), held.source))
    if not refs and not cited_by:
        return
    wanted = [p for _, ref, _ in (*refs, *cited_by) if (p := _split_ref(ref)) and p not in known]
    known = {**lookup_ids(db, wanted), **known}
    rows = []
    for pid, ref, source in refs:
        pair = _split_ref(ref)
        rows.append((pid, ref, known.get(pair) if pair else None, source))
    pending = []
    for pid, ref, source in cited_by:
        pair = _split_ref(ref)
        citing = known.get(pair) if pair else None
        if citing is not None:
            rows.append((citing, folded[pid].seed, pid, source))
        else:
            pending.append((ref, folded[pid].seed, source))
    if rows:
        db.executemany(_INSERT_CITATION, rows)
    if pending:
        db.executemany(_INSERT_PENDING, pending)
    result.counts["citations"] += len(rows) + len(pending)


def _entity_rank(data: dict[str, Any], digest: str) -> tuple:
    """Like :func:`record_rank` for entities: the fuller description wins, the hash breaks ties."""
    return (sum(1 for value in data.values() if value), len(orjson.dumps(data)), digest)


def _apply_entities(db: Database, items: list[Item], now: str, result: BatchResult) -> bool:
    latest: dict[tuple[str, str], tuple[Item, dict[str, Any], tuple]] = {}
    for item in items:
        entity = orjson.loads(item.data)
        rank = _entity_rank(entity.get("data") or {}, item.content_hash)
        seen = latest.get((item.source, item.key))
        if seen is None or rank > seen[2]:
            latest[(item.source, item.key)] = (item, entity, rank)
    known: dict[tuple[str, str], tuple] = {}
    keys = sorted({k for _, k in latest})
    sql = ("SELECT source, id, content_hash, data FROM source_entities WHERE id IN ({marks})")
    for source, key, digest, data in query_in(db, sql, keys):
        known[(source, key)] = _entity_rank(orjson.loads(data), digest)
    rows = []
    for (source, key), (item, entity, rank) in latest.items():
        stored = known.get((source, key))
        if stored is not None and rank <= stored:  # the same, or a poorer copy of what the store has
            result.counts["unchanged"] += 1
            continue
        rows.append((source, key, entity.get("kind") or "other", item.file, item.locator, item.content_hash,
                     orjson.dumps(entity.get("data") or {}).decode(), now))
    result.counts["unchanged"] += len(items) - len(latest)
    if rows:
        db.executemany(_UPSERT_ENTITY, rows)
        result.counts["entities"] += len(rows)
    return bool(rows)


def _apply_citations(db: Database, items: list[Item], result: BatchResult) -> bool:
    edges = []
    for item in items:
        edge = orjson.loads(item.data)
        edges.append((canonical_ref(edge["citing"]), canonical_ref(edge["cited"]), item.source))
    pairs = [p for citing, cited, _ in edges for p in (_split_ref(citing), _split_ref(cited)) if p]
    known = lookup_ids(db, pairs)
    rows, pending = [], []
    for citing, cited, source in edges:
        citing_pair, cited_pair = _split_ref(citing), _split_ref(cited)
        citing_id = known.get(citing_pair) if citing_pair else None
        if citing_id is None:
            pending.append((citing, cited, source))
        else:
            rows.append((citing_id, cited, known.get(cited_pair) if cited_pair else None, source))
    before = _count_edges(db)
    if rows:
        db.executemany(_INSERT_CITATION, rows)
    if pending:
        db.executemany(_INSERT_PENDING, pending)
    after = _count_edges(db)
    added = after - before
    result.counts["citations"] += added
    result.counts["unchanged"] += len(edges) - added
    return added > 0


def _count_edges(db: Database) -> int:
    return int(db.scalar("SELECT (SELECT COUNT(*) FROM citations) + (SELECT COUNT(*) FROM pending_citations)") or 0)
