"""The people a search names: the "People" box above the papers on /search, and the /authors?q= page.

The lookup is the disambiguation stage's own author search (folded names, initials, "surname, given", typo
tolerance); this module only picks what a box shows.  A box is for a query that names someone, so it keeps the
matches whose surname is the one typed (``match`` >= ``STRONG``): "diffusion" does not list people called
Diffusini, while "D. Klein" and "Klein, Dan" list every Dan Klein the store tells apart.
"""

from __future__ import annotations

from typing import Any

from ..disambiguation.author_search import search_authors
from ..store import Store

STRONG = 0.9  # author_search's match: surname similarity x given-name agreement (1.0: exact)
BOX = 5


def matching_people(store: Store, query: str, limit: int = BOX, *, strong_only: bool = True) -> list[dict[str, Any]]:
    """People whose name the query is, best match first, each with what a row shows: name, top categories,
    affiliation, paper count, years active and the profile id."""
    text = " ".join(query.replace('"', " ").split())
    if text.lower().startswith(("author:", "authors:", "au:")):
        text = text.split(":", 1)[1].strip()
    if not text or len(text) > 120:
        return []
    found = search_authors(store, text, limit=limit)
    if strong_only:
        found = [p for p in found if p.get("match", 0) >= STRONG]
    return found
