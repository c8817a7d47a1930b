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
    click.echo(f"  AI Score   {_fmt(figures['ai_score'])}  (weak signal{'; raised by: ' + words if words else ''})")
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


def _default_shared() -> Path | None:
    return shared_data_dir("peer-review")

@click.command("ai-score")
@click.option("--shared", "shared_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The real data folder holding peer-review/ and code-links/ [env PAPERATLAS_SHARED_DATA; "
              "default: ../shared/data].")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the model (default: the model shipped in paperatlas/models/ai_score/). "
              "Use it with PAPERATLAS_AI_SCORE_MODEL=PATH.")
@click.option("--quick", is_flag=True, help="Evaluate on ICLR 2022 only (skip the refits for the other held-out sets).")
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as one JSON object.")
def train_ai_score(shared_dir: Path | None, output: Path | None, quick: bool, as_json: bool) -> None:
    """Train the AI Score (ICLR 2017-2021 decisions + citation counts); report held-out AUC / Spearman."""
    from ..bench.report import emit
    from ..metrics import ai_score

    shared_dir = shared_dir or _default_shared()
    if shared_dir is None or not (shared_dir / "peer-review").is_dir():
        fail(f"no peer-review data under {shared_dir or '../shared/data'} (use --shared PATH)")
    try:
        data, report = ai_score.train(shared_dir, refits=not quick)
    except ValueError as exc:
        fail(str(exc))
    target = output or ai_score.shipped_path()
    ai_score.save(data, target)
    if output is None and not quick:
        target.with_name("evaluation.json").write_text(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    report["written_to"] = str(target)
    emit("AI Score training (held-out evaluation)", report, as_json)
