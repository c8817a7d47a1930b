"""Reading papers back out of the store, and resolving any id a user may type to a paper.

Pages, the CLI and the API accept the PaperAtlas id or any source identifier (``arxiv:1706.03762``,
``doi:10.1145/...``, a bare arXiv id or DOI, an arXiv URL); this module is the one place that knows how.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..model import ARXIV, DOI, ID_SCHEMES, Authorship, Paper, Venue, unpack_provenance
from ..normalize import normalize_doi, parse_arxiv_id
from .database import Database

MAX_REF_CHARS = 1024  # DOIs have no set limit but real ones stay under 300 characters


def parse_ref(ref: str) -> tuple[str, str] | None:
    """``"arxiv:1706.03762v2"`` -> ``("arxiv", "1706.03762")``; bare arXiv ids, DOIs and URLs work too.

    A reference longer than ``MAX_REF_CHARS`` is no id at all (None) and is not even scanned: it comes from a URL
    anyone can type, and every step below is then bounded by the cap."""
    if len(ref) > MAX_REF_CHARS:
        return None
    text = ref.strip()
    scheme, sep, value = text.partition(":")
    if sep and scheme.lower() in ID_SCHEMES:
        scheme = scheme.lower()
        if scheme == ARXIV:
            parsed = parse_arxiv_id(value)
            return (ARXIV, parsed[0]) if parsed else None
        if scheme == DOI:
            doi = normalize_doi(value)
            return (DOI, doi) if doi else None
        return scheme, value.strip()
    doi = normalize_doi(text)
    if doi:
        return DOI, doi
    parsed = parse_arxiv_id(text)
    if parsed:
        return ARXIV, parsed[0]
    return None


def resolve_paper(db: Database, ref: str) -> int | None:
    """The internal id of the paper that ``ref`` names, or None."""
    ref = ref.strip()
    if not ref:
        return None
    found = db.scalar("SELECT id FROM papers WHERE pid = ?", (ref,))
    if found is not None:
        return int(found)
    parsed = parse_ref(ref)
    if parsed is None:
        return None
    found = db.scalar("SELECT paper_id FROM paper_ids WHERE scheme = ? AND value = ?", parsed)
    return int(found) if found is not None else None


def resolve_author(db: Database, ref: str) -> int | None:
    """The internal id of the identity that ``ref`` (its public id, or ``orcid:...``) names, or None."""
    ref = ref.strip()
    found = db.scalar("SELECT id FROM identities WHERE aid = ?", (ref,))
    if found is None and ref.lower().startswith("orcid:"):
        found = db.scalar("SELECT id FROM identities WHERE orcid = ?", (ref[6:].strip(),))
    return int(found) if found is not None else None


def _loads(text: str | None, default: Any) -> Any:
    return orjson.loads(text) if text else default


def row_to_paper(row: dict[str, Any], ids: dict[str, str], authors: list[Authorship]) -> Paper:
    return Paper(
        id=row["id"],
        pid=row["pid"],
        ids=ids,
        arxiv_version=row["arxiv_version"],
        title=row["title"],
        abstract=row["abstract"],
        submitted=row["submitted"],
        updated=row["updated"],
        published=row["published"],
        year=row["year"],
        primary_category=row["primary_category"],
        categories=_loads(row["categories"], []),
        venue=Venue(row["venue_name"], row["venue_year"], row["venue_kind"]),
        comments=row["comments"],
        journal_ref=row["journal_ref"],
        license=row["license"],
        code_links=_loads(row["code_links"], []),
        external_citation_count=row["external_citation_count"],
        external_citation_source=row["external_citation_source"],
        provenance=unpack_provenance(row["provenance"]),
        authors=authors,
    )


def row_to_authorship(row: dict[str, Any]) -> Authorship:
    return Authorship(
        position=row["position"],
        name=row["name"],
        forenames=row["forenames"],
        surname=row["surname"],
        suffix=row["suffix"],
        affiliations=_loads(row["affiliations"], []),
        orcid=row["orcid"],
        dblp_homonym=row["dblp_homonym"],
        identity_id=row["identity_id"],
    )


def get_papers(db: Database, paper_ids: list[int]) -> list[Paper]:
    """Papers with their identifiers and authors, in the order asked (missing ids are left out)."""
    if not paper_ids:
        return []
    out: dict[int, Paper] = {}
    for start in range(0, len(paper_ids), 500):
        chunk = paper_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        ids: dict[int, dict[str, str]] = {}
        for scheme, value, pid in db.query_tuples(
            f"SELECT scheme, value, paper_id FROM paper_ids WHERE paper_id IN ({marks})", chunk
        ):
            ids.setdefault(pid, {})[scheme] = value
        authors: dict[int, list[Authorship]] = {}
        for row in db.query(
            f"SELECT * FROM authorships WHERE paper_id IN ({marks}) ORDER BY paper_id, position", chunk
        ):
            authors.setdefault(row["paper_id"], []).append(row_to_authorship(row))
        for row in db.query(f"SELECT * FROM papers WHERE id IN ({marks})", chunk):
            out[row["id"]] = row_to_paper(row, ids.get(row["id"], {}), authors.get(row["id"], []))
    return [out[i] for i in paper_ids if i in out]


def get_paper(db: Database, paper_id: int) -> Paper | None:
    found = get_papers(db, [paper_id])
    return found[0] if found else None
