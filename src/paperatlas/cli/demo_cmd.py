"""``paperatlas demo``: the main job on the embedded default, in one command.

Ingests the real records in ``demo/corpus`` (a few thousand, chosen by ``scripts/make_demo_corpus.py``), runs
every build stage, and serves the web UI.  Re-running it is cheap: ingest and build are incremental.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..context import AppContext, fail, pass_app


def default_corpus() -> Path:
    """demo/corpus in the source checkout (the package is installed editable from it)."""
    return Path(__file__).resolve().parents[3] / "demo" / "corpus"


@click.command()
@click.option("--corpus", type=click.Path(path_type=Path), default=None,
              help="Folder of records to ingest [default: demo/corpus of the checkout].")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the demo store and stop.")
@click.option("--no-embed", is_flag=True, help="Skip the embedding model (no novelty or semantic search).")
@pass_app
def demo(app: AppContext, corpus: Path | None, host: str, port: int, no_serve: bool, no_embed: bool) -> None:
    """Build a demo store from real records and serve it on http://HOST:PORT."""
    from ..ingest import ingest_paths
    from ..pipeline.build import BuildOptions, run_build

    corpus = corpus or default_corpus()
    if not corpus.is_dir():
        fail(f"demo corpus not found at {corpus}")
    vectors = corpus.parent / "vectors" / "minilm.npz"
    if vectors.is_file() and not app.settings.vector_cache:
        # the corpus' vectors, made by scripts/make_demo_vectors.py: no hour of CPU embedding
        app.update_settings(vector_cache=str(vectors))
    store = app.store
    click.echo(f"[1/3] ingesting {corpus} into {app.data_dir}", err=True)
    summary = ingest_paths(store, [corpus], show_progress=app.show_progress)
    click.echo(f"      {summary}", err=True)
    click.echo("[2/3] building identities, metrics, scores and indexes", err=True)
    report = run_build(store, BuildOptions(show_progress=app.show_progress, embed=not no_embed))
    from ..readers.foryou import retrain_all

    report["recommendations"] = retrain_all(store)  # a rebuilt demo store keeps its readers: new candidates
    for stage, figures in report.items():
        click.echo(f"      {stage}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), err=True)
    if no_serve:
        return
    import uvicorn

    from ..web.app import create_app
    from ..web.serve import UVICORN_OPTIONS

    click.echo(f"[3/3] serving on http://{host}:{port}  (Ctrl-C stops)", err=True)
    # on a loopback address the demo serves its mail outbox (no SMTP needed to click a sign-in link); the app
    # loads the model, the indexes and the templates before uvicorn listens (web.app.warm_up)
    site = create_app(store, cache_size=app.settings.web_cache, settings=app.settings,
                      outbox=host in ("127.0.0.1", "::1", "localhost"), settle_gc=True)
    uvicorn.run(site, host=host, port=port, log_level="warning", **UVICORN_OPTIONS)
