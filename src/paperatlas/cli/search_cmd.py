"""``paperatlas search QUERY``: ranked papers with every identifier, title, authors, date and score."""

from __future__ import annotations

import html
import re
from typing import Any

import click
import orjson

from ..context import AppContext, fail, pass_app

_MARK = re.compile(r"</?mark>")


def _plain(fragment: str) -> str:
    return html.unescape(_MARK.sub("", fragment))


def _people(app: AppContext, query: str) -> list[dict[str, Any]]:
    """People whose name matches the query (the identities stage's author search)."""
    from ..disambiguation.author_search import search_authors

    return search_authors(app.store, query, limit=5)


@click.command()
@click.argument("query", required=False, default="")
@click.option("--limit", "-n", type=click.IntRange(1, 500), default=20, show_default=True, help="Papers to show.")
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many results (paging).")
@click.option("--category", multiple=True, help="Only papers in this arXiv category (cs.LG) or archive (cs).")
@click.option("--year-from", type=int, help="Only papers from this year on.")
@click.option("--year-to", type=int, help="Only papers up to this year.")
@click.option("--venue", help="Only papers from this venue (case-insensitive exact name).")
@click.option("--has-code", is_flag=True, default=None, help="Only papers with a code link.")
@click.option("--author", "author_id", help="Only papers by this author identity (its public id).")
@click.option("--sort", type=click.Choice(["relevance", "date", "citations", "trending"]), default="relevance",
              show_default=True)
@click.option("--mode", type=click.Choice(["auto", "bm25", "semantic", "hybrid"]), default="auto", show_default=True,
              help="auto = hybrid when embeddings exist, else BM25.")
@click.option("--facets", "with_facets", is_flag=True,
              help="Also count every match per category and year (in --json: \"facets\"; costs more than the search "
                   "itself on a large corpus).")
@click.option("--people/--no-people", default=True, help="Also list people whose name matches the query.")
@click.option("--explain", is_flag=True,
              help="Say why each paper ranks where it does: its tier (author name, every word in the title or "
                   "authors, the rest), BM25 score, cosine similarity, and the semantic floor.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def search(app: AppContext, query: str, limit: int, offset: int, category: tuple[str, ...], year_from: int | None,
           year_to: int | None, venue: str | None, has_code: bool | None, author_id: str | None, sort: str,
           mode: str, with_facets: bool, people: bool, explain: bool, as_json: bool) -> None:
    """Search papers by words, "phrases", prefix* and identifiers, with filters; best first.

    Words must all match (else any word, ranked by BM25); -word excludes; title:, author:, abstract:, venue:
    restrict to a field.  With embeddings, keyword and semantic rankings are fused.
    """
    from ..search import IndexNotBuilt, search_papers
    from ..store.papers import get_papers

    filters: dict[str, Any] = {}
    if category:
        filters["category"] = list(category)
    if year_from is not None:
        filters["year_from"] = year_from
    if year_to is not None:
        filters["year_to"] = year_to
    if venue:
        filters["venue"] = venue
    if has_code:
        filters["has_code"] = True
    if author_id:
        filters["author"] = author_id
    try:
        found = search_papers(app.store, query, limit=limit, offset=offset, filters=filters, sort=sort, mode=mode,
                              facets=with_facets, explain=explain)
    except IndexNotBuilt as exc:
        fail(str(exc))
    if found["message"] and not found["results"]:
        if as_json:
            click.echo(orjson.dumps(found).decode())
            return
        hints = found.get("suggestions") or []
        fail(found["message"] + (f" (did you mean: {', '.join(hints)}?)" if hints else ""), code=1)
    papers = {p.id: p for p in get_papers(app.store.db, [r["paper_id"] for r in found["results"]])}
    results = []
    for r in found["results"]:
        paper = papers.get(r["paper_id"])
        results.append({
            "paper_id": r["paper_id"],
            "pid": r["pid"],
            "ids": {"paperatlas": r["pid"], **(paper.ids if paper else {})},
            "title": paper.title if paper else r["title"],
            "authors": [a.name for a in paper.authors] if paper else r["authors"],
            "date": (paper.submitted or paper.published) if paper and (paper.submitted or paper.published)
            else r["date"],
            "year": paper.year if paper else r["year"],
            "score": r["score"],
            "snippet": r["snippet"],
            **({"explain": r["explain"]} if explain and "explain" in r else {}),
        })
    matched_people = _people(app, query) if people and query.strip() and offset == 0 else []
    if as_json:
        click.echo(orjson.dumps({"query": query, "total": found["total"], "results": results,
                                 "facets": found["facets"], "message": found["message"],
                                 "people": matched_people,
                                 **({"explain": found.get("explain")} if explain else {})}).decode())
        return
    if found["message"]:
        click.echo(f"note: {found['message']}", err=True)
    if explain and found.get("explain"):
        why = found["explain"]
        click.echo(f"ranking: tiers {' > '.join(why['tiers'] + ['the rest']) }; semantic floor "
                   f"{why['semantic_floor'] if why['semantic_floor'] is not None else 'n/a (no embeddings)'}, "
                   f"{why['semantic_candidates']} neighbours above it, "
                   f"{why['semantic_only'] or 0} of them not among the word matches")
    click.echo(f"{found['total']:,} papers" + (f" (showing {offset + 1}-{offset + len(results)})" if results else ""))
    for rank, r in enumerate(results, start=offset + 1):
        ids = "  ".join(f"{k}:{v}" for k, v in r["ids"].items())
        authors = ", ".join(r["authors"][:6]) + (" et al." if len(r["authors"]) > 6 else "")
        click.echo(f"\n{rank:>3}. {r['title']}  [{r['score']:.4g}]")
        click.echo(f"     {authors}  ({r['date'] or r['year'] or 'n.d.'})")
        click.echo(f"     {ids}")
        click.echo(f"     {_plain(r['snippet'])}")
        if explain and "explain" in r:
            click.echo("     why: " + ", ".join(f"{k} {v}" for k, v in r["explain"].items() if v is not None))
    if with_facets:
        for name in ("category", "year"):
            counts = found["facets"].get(name) or {}
            click.echo(f"\n{name}: " + ", ".join(f"{k} {v:,}" for k, v in list(counts.items())[:15]))
    if matched_people:
        click.echo("\npeople:")
        for person in matched_people:
            years = person.get("years_active") or []
            span = f" {years[0]}-{years[-1]}" if years else ""
            click.echo(f"  {person.get('id')}  {person.get('name')}  ({person.get('paper_count', 0)} papers{span})")
