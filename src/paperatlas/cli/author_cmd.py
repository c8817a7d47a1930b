"""``paperatlas author ...``: find the people behind a name, and fix them (merge, split, move).

``author`` is a group so other stages can add subcommands (``author show`` comes from the scores stage).
``train_disambiguation`` (``paperatlas train disambiguation``) rebuilds the shipped pair model.
"""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from ..context import AppContext, fail, pass_app


@click.group("author")
def author() -> None:
    """Author identities: search, show, and curate."""


@author.command("search")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="At most this many people.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@pass_app
def search_cmd(app: AppContext, name: str, limit: int, as_json: bool) -> None:
    """The people behind NAME (initials, swapped order, diacritics and typos are fine)."""
    from ..disambiguation.author_search import search_authors

    if not name.strip():
        fail("give a name to search for")
    found = search_authors(app.store, name, limit=limit)
    if as_json:
        click.echo(orjson.dumps(found).decode())
        return
    if not found:
        click.echo(f"no author matches {name!r}")
        return
    for person in found:
        years = "-".join(str(y) for y in person["years_active"]) if person["years_active"] else "?"
        co = ", ".join(c["name"] for c in person["top_coauthors"][:3])
        click.echo(f"{person['id']}  {person['name']}  {person['paper_count']} papers  {years}  "
                   f"[{', '.join(person['top_categories'][:3])}]" + (f"  with {co}" if co else ""))


def _curate(action, *args) -> None:
    from ..disambiguation.curation import CurationError

    try:
        outcome = action(*args)
    except CurationError as exc:
        fail(str(exc))
        return
    click.echo(orjson.dumps({"action": outcome.action, "curation": outcome.curation_id, **outcome.result}).decode())


@author.command("merge")
@click.argument("keep")
@click.argument("other")
@click.option("--actor", help="Who made this change (kept in the audit log).")
@pass_app
def merge_cmd(app: AppContext, keep: str, other: str, actor: str | None) -> None:
    """Merge OTHER into KEEP: one person written as two.  OTHER's id then redirects to KEEP."""
    from ..disambiguation.curation import merge

    _curate(merge, app.store, keep, other, actor)


@author.command("split")
@click.argument("author_id")
@click.option("--papers", required=True, multiple=True,
              help="Papers (PaperAtlas id or any source id) that belong to another person; repeat or comma-separate.")
@click.option("--actor", help="Who made this change (kept in the audit log).")
@pass_app
def split_cmd(app: AppContext, author_id: str, papers: tuple[str, ...], actor: str | None) -> None:
    """Split AUTHOR_ID: the given papers become a new person."""
    from ..disambiguation.curation import split

    refs = [p.strip() for group in papers for p in group.split(",") if p.strip()]
    _curate(split, app.store, author_id, refs, actor)


@author.command("move")
@click.argument("authorship")
@click.option("--to", "to", required=True, help="The author (id) the authorship belongs to.")
@click.option("--actor", help="Who made this change (kept in the audit log).")
@pass_app
def move_cmd(app: AppContext, authorship: str, to: str, actor: str | None) -> None:
    """Move one AUTHORSHIP (its id, or PAPER@POSITION counting from 1) to another person."""
    from ..disambiguation.curation import move

    _curate(move, app.store, authorship, to, actor)


@author.command("log")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@pass_app
def log_cmd(app: AppContext, limit: int) -> None:
    """The curation audit log, newest first (JSON lines)."""
    from ..disambiguation.curation import audit_log

    for row in audit_log(app.store, limit):
        click.echo(orjson.dumps(row).decode())


@click.command("disambiguation")
@click.option("--data", "data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The shared disambiguation folder [default: ../shared/data/disambiguation].")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the models [default: <data dir>/models/disambiguation, which the identities "
                   "stage then uses instead of the shipped ones].")
def train_disambiguation(data: Path | None, out: Path | None) -> None:
    """Rebuild the pair and seed models from the labelled data (seeded): the full models, and one per fold of
    names for the benchmark, each fold's threshold by nested cross-validation (about 7 minutes on 2 cores)."""
    from ..disambiguation.pairmodel import trained_dir
    from ..disambiguation.training import train
    from ..shared_data import shared_data_dir_or_default

    try:
        figures = train(data or shared_data_dir_or_default("disambiguation") / "disambiguation", out or trained_dir(),
                        log=lambda m: click.echo(m, err=True))
    except FileNotFoundError as exc:
        fail(str(exc))
        return
    click.echo(orjson.dumps(figures, option=orjson.OPT_SERIALIZE_NUMPY).decode())


@click.command("topics")
@click.option("--harvest", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The arXiv OAI-PMH harvest [default: ../shared/data/arxiv/oai-pmh-cs-2016].")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the table [default: <data dir>/models/disambiguation/, used instead of the "
                   "shipped one].")
@click.option("--dims", type=click.IntRange(8, 384), default=64, show_default=True)
def train_topics(harvest: Path | None, out: Path | None, dims: int) -> None:
    """Distil the title topic table the disambiguation compares seeds with, from the sentence-embedding model
    (needs the `embed` extra; 10 to 20 minutes on 2 CPU cores, most of it embedding 102,345 titles)."""
    import numpy as np

    from ..disambiguation import topics
    from ..disambiguation.harvest_mentions import read_oai_texts
    from ..disambiguation.pairmodel import trained_dir
    from ..embeddings import get_embedder
    from ..progress import progress
    from ..shared_data import shared_data_dir_or_default

    folder = harvest or shared_data_dir_or_default("arxiv") / "arxiv" / "oai-pmh-cs-2016"
    pages = sorted(folder.glob("page*.xml.gz"))
    if not pages:
        fail(f"no OAI-PMH pages (page*.xml.gz) in {folder}")
        return
    titles, abstracts = read_oai_texts(pages)
    titles = sorted({t for t in titles if t})
    try:
        embedder = get_embedder()
    except (ImportError, LookupError, ValueError) as exc:
        fail(f"the sentence-embedding model is not installed (pip install 'paperatlas[embed]'): {exc}")
        return

    def encode(texts: list[str]) -> np.ndarray:
        rows = []
        with progress(total=len(texts), desc="embedding", unit="text") as bar:
            for start in range(0, len(texts), 2048):
                rows.append(embedder.encode(texts[start : start + 2048], batch_size=256))
                bar.update(len(rows[-1]))
        return np.concatenate(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float32)

    vocabulary, vectors, counts = topics.distil(encode, titles, [*titles, *abstracts], dims=dims,
                                                log=lambda m: click.echo(m, err=True))
    path = out or trained_dir() / topics.VECTORS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    topics.save(path, vocabulary, vectors, counts)
    click.echo(orjson.dumps({"words": len(vocabulary), "dims": int(vectors.shape[1]), "titles": len(titles),
                             "path": str(path), "bytes": path.stat().st_size}).decode())
