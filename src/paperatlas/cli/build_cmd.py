"""``paperatlas build``."""

from __future__ import annotations

from datetime import date

import click
import orjson

from ..context import AppContext, pass_app
from ..pipeline.build import STAGES, BuildOptions, run_build
from ..readers.foryou import retrain_all


@click.command()
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="Run the batch stages in this process or on Apache Spark.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Compute trending as if today were this date.")
@click.option("--full", is_flag=True, help="Recompute everything, not only what changed since the last build.")
@click.option("--only", multiple=True, type=click.Choice([name for name, _ in STAGES]),
              help="Run only this stage.")
@click.option("--no-embed", is_flag=True, help="Skip embeddings (and so novelty and semantic search).")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@pass_app
def build(app: AppContext, engine: str, as_of, full: bool, only: tuple[str, ...], no_embed: bool,
          as_json: bool) -> None:
    """Recompute every derived figure (identities, metrics, scores, indexes) incrementally after an ingest."""
    options = BuildOptions(
        engine=engine,
        as_of=as_of.date() if as_of else None,
        full=full,
        show_progress=app.show_progress,
        only=list(only),
        embed=not no_embed,
    )
    report = run_build(app.store, options)
    if not only:
        # After the stages, not one of them: readers sit above the pipeline (new papers are new candidates).
        report["recommendations"] = retrain_all(app.store)
    if as_json:
        click.echo(orjson.dumps(report, default=str).decode())
        return
    for stage, figures in report.items():
        details = ", ".join(f"{k}={v}" for k, v in figures.items())
        click.echo(f"{stage:<12} {details}")


def today() -> date:
    return date.today()
