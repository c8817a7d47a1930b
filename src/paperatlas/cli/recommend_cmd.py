"""``paperatlas recommend``: try the per-reader recommendation model on a store from the command line."""

from __future__ import annotations

import dataclasses
import time

import click
import orjson

from ..context import AppContext, fail, pass_app


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.command("recommend")
@click.option("--positives", multiple=True, help="Saved / upvoted papers: ids separated by commas (repeatable).")
@click.option("--negatives", multiple=True, help="Downvoted / 'not relevant' papers, as --positives.")
@click.option("--follow", "follows", multiple=True, help="Followed authors: public author ids (or orcid:...).")
@click.option("--category", "categories", multiple=True, help="Followed categories, e.g. cs.CL (repeatable).")
@click.option("--since-year", type=int, help="Only papers of this year or later.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def recommend(app: AppContext, positives: tuple[str, ...], negatives: tuple[str, ...], follows: tuple[str, ...],
              categories: tuple[str, ...], since_year: int | None, limit: int, as_json: bool) -> None:
    """Papers for a reader described by saved/rejected papers, followed authors and categories, with reasons.

    Paper ids are PaperAtlas ids or any source identifier (arxiv:1706.03762, doi:10...).
    """
    from ..recommend import ReaderProfile, recommend_for
    from ..store.papers import resolve_author, resolve_paper

    db = app.store.db

    def papers(refs: tuple[str, ...]) -> tuple[int, ...]:
        out = []
        for ref in _split(refs):
            found = resolve_paper(db, ref)
            if found is None:
                fail(f"no paper with id {ref!r}")
            out.append(int(found))  # type: ignore[arg-type]
        return tuple(out)

    authors = []
    for ref in _split(follows):
        found = resolve_author(db, ref)
        if found is None:
            fail(f"no author with id {ref!r}")
        authors.append(int(found))  # type: ignore[arg-type]
    profile = ReaderProfile(positives=papers(positives), negatives=papers(negatives), follows=tuple(authors),
                            categories=tuple(_split(categories)))
    if profile.empty:
        fail("say what the reader likes: --positives, --follow or --category")
    started = time.perf_counter()
    try:
        found = recommend_for(app.store, profile, limit, since_year=since_year)
    except LookupError as exc:
        fail(str(exc))
    took_ms = round((time.perf_counter() - started) * 1000, 1)
    if as_json:
        click.echo(orjson.dumps({"results": [dataclasses.asdict(r) for r in found], "ms": took_ms}).decode())
        return
    for i, r in enumerate(found, 1):
        click.echo(f"{i:>3}. {r.title}  [{r.pid}, {r.year or 'n/a'}]  score {r.score:.3f}")
        for reason in r.reasons[:3]:
            click.echo(f"       - {reason}")
    click.echo(f"({len(found)} papers in {took_ms} ms)")
