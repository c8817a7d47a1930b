"""Put labelled mentions into a store as papers and authorships, so the build stage, curation and search can be
exercised on real data before (or without) the ingest pipeline.  Used by tests and the benchmark."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from paperatlas.disambiguation.mentions import Mention
from paperatlas.disambiguation.storage import now
from paperatlas.normalize import name_key, parse_name, title_key
from paperatlas.store import Store
from paperatlas.store.ids import make_pid


def insert_mentions(store: Store, mentions: Sequence[Mention], change_seq: int = 1) -> dict[object, int]:
    """One paper per distinct ``mention.paper`` (authors: the mention first, then its coauthors); returns
    {mention.key: authorship id}."""
    db = store.db
    stamp = now()
    out: dict[object, int] = {}
    papers: dict[object, int] = {}
    with db.transaction():
        for m in mentions:
            paper = papers.get(m.paper)
            if paper is None:
                pid = make_pid(f"sample|{m.paper}")
                paper = int(db.query_tuples(
                    "INSERT INTO papers (pid, title, title_key, year, categories, primary_category, venue_name, "
                    "change_seq, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (pid, m.title, title_key(m.title), m.year, orjson.dumps(m.categories).decode(),
                     m.categories[0] if m.categories else None, m.venue or None, change_seq, stamp, stamp))[0][0])
                papers[m.paper] = paper
                for pos, co in enumerate(m.coauthors, start=1):
                    _authorship(store, paper, pos, co, None, None, [], None, None)
                position = 0
            else:
                position = int(db.scalar("SELECT MAX(position) FROM authorships WHERE paper_id = ?", (paper,))) + 1
                db.execute("DELETE FROM authorships WHERE paper_id = ? AND name = ? AND position > 0",
                           (paper, m.name))
            out[m.key] = _authorship(store, paper, position, m.name, m.forenames, m.surname, m.affiliations,
                                     m.orcid, m.homonym)
    return out


def _authorship(store: Store, paper: int, position: int, name: str, forenames: str | None, surname: str | None,
                affiliations: list[str], orcid: str | None, homonym: str | None) -> int:
    if surname is None:
        forenames, surname, _ = parse_name(name)
    return int(store.db.query_tuples(
        "INSERT INTO authorships (paper_id, position, name, forenames, surname, name_key, affiliations, orcid, "
        "dblp_homonym, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (paper, position, name, forenames, surname, name_key(name), orjson.dumps(affiliations).decode(), orcid,
         homonym, "sample"))[0][0])
