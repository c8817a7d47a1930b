"""``paperatlas paper show``, ``paperatlas author show`` and ``paperatlas train ai-score``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from ..context import AppContext, fail, pass_app
from ..shared_data import shared_data_dir


def _print_json(data: dict[str, Any]) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def _fmt(value: Any, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value}{suffix}"


@click.group()
def paper() -> None:
    """Papers: show one with its figures."""


@paper.command("show")
@click.argument("paper_ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the page's figures as one JSON object.")
@pass_app
def paper_show(app: AppContext, paper_ref: str, as_json: bool) -> None:
    """Show a paper's citations, Novelty %, AI Score and trending rank, each with its reason.

    ID is the PaperAtlas id or any source identifier (arxiv:1706.03762, doi:10..., a bare arXiv id).
    """
    from ..metrics.pages import paper_figures
    from ..store.papers import resolve_paper

    paper_id = resolve_paper(app.store.db, paper_ref)
    if paper_id is None:
        fail(f"no paper with id {paper_ref!r}")
    figures = paper_figures(app.store, paper_id)
    if as_json:
        _print_json(figures)
        return
    click.echo(f"{figures['title']}  [{figures['id']}]")
    click.echo(f"  submitted {_fmt(figures['submitted'])}, {_fmt(figures['primary_category'])}")
    click.echo(f"  citations  {figures['citations']}  ({figures['citations_reason']})")
    near = (figures["novelty_reason"] or {}).get("nearest") or []
    click.echo(f"  novelty    {_fmt(figures['novelty'], '%')}"
               + (f"  (nearest earlier: {near[0].get('title')!r}, similarity {near[0]['similarity']})" if near else ""))
    reason = figures["ai_score_reason"] or {}
    words = ", ".join(w for w, _ in reason.get("raised_by", []))
    low = "; low confidence: title only" if reason.get("confidence") else ""
    click.echo(f"  AI Score   {_fmt(figures['ai_score'])}  (estimated impact percentile, a weak signal{low}"
               f"{'; raised by: ' + words if words else ''})")
    click.echo(f"  trending   {_fmt(figures['trending'])}")


@click.command("show")
@click.argument("author_ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the page's figures as one JSON object.")
@pass_app
def author_show(app: AppContext, author_ref: str, as_json: bool) -> None:
    """Show an author's h-index, i10-index, citations, papers, Novelty % and AI Score, from their listed papers.

    ID is the PaperAtlas author id (a...) or orcid:0000-....
    """
    from ..metrics.pages import author_figures
    from ..store.papers import resolve_author

    identity_id = resolve_author(app.store.db, author_ref)
    if identity_id is None:
        fail(f"no author with id {author_ref!r}")
    figures = author_figures(app.store, identity_id)
    if as_json:
        _print_json(figures)
        return
    click.echo(f"{figures['name']}  [{figures['id']}]")
    click.echo(f"  papers {figures['paper_count']}  citations {figures['citations']}  h-index {figures['h_index']}  "
               f"i10-index {figures['i10_index']}  primary category {_fmt(figures['primary_category'])}")
    click.echo(f"  novelty {_fmt(figures['novelty'], '%')}  AI Score {_fmt(figures['ai_score'])} (weak signal)")
    for item in figures["papers"]:
        click.echo(f"  {item['citations']:>6}  {item['year'] or '':<4}  {item['title']}  [{item['id']}]")


@click.command("ai-score")
@click.option("--shared", "shared_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The real data folder holding citations/papercopilot-gs/ and peer-review/ "
              "[env PAPERATLAS_SHARED_DATA; default: ../shared/data].")
@click.option("--out", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the model (default: <data dir>/ai-score/model.json.gz, which builds of that "
              "data folder then use).  Elsewhere, use it with PAPERATLAS_AI_SCORE_MODEL=PATH.")
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The training papers' MiniLM vectors, by text hash (default: "
              "<data dir>/ai-score/training-vectors.npz; made on the first run, ~14,000 abstracts).")
@click.option("--vectors", "use_vectors", is_flag=True,
              help="Also try the MiniLM vectors (embedding ~14,000 abstracts the first time, minutes of CPU; cached): "
              "candidates over the vector are compared, and words+vector ships only if its held-out mean is better.")
@click.option("--quick", is_flag=True, help="Validate the shipped model family and the baselines only (skip the "
              "other candidate models).")
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as one JSON object.")
@pass_app
def train_ai_score(app: AppContext, shared_dir: Path | None, output: Path | None, cache_path: Path | None,
                   use_vectors: bool, quick: bool, as_json: bool) -> None:
    """Train the AI Score (citation percentile within venue-year); print held-out figures and both baselines."""
    from ..bench.report import emit
    from ..metrics import ai_score, ai_score_train

    shared_dir = shared_dir or shared_data_dir("citations")
    if shared_dir is None or not (shared_dir / "citations" / "papercopilot-gs").is_dir():
        fail(f"no citations/papercopilot-gs under {shared_dir or '../shared/data'} (use --shared PATH)")
    cache_path = cache_path or app.data_dir / ai_score.DATA_SUBDIR / "training-vectors.npz"
    progress = None if app.quiet else _progress("embedding training papers (cached by text hash)")
    try:
        data = ai_score_train.load_dataset(shared_dir, cache_path if use_vectors else None, progress=progress)
        report = ai_score_train.evaluate(data, candidates=None if not quick else {}, time_split=not quick)
        model = ai_score_train.train_final(data, heldout=report)
    except (ValueError, OSError, ImportError) as exc:
        fail(str(exc))
    target = output or ai_score.data_dir_path(app.data_dir)
    ai_score.save(model, target)
    target.with_name("evaluation.json").write_text(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    report["written_to"] = str(target)
    emit("AI Score training (leave-one-venue-year-out)", report, as_json)


def _progress(label: str):
    def show(done: int, total: int) -> None:
        click.echo(f"{label}: {done}/{total}", err=True)

    return show
