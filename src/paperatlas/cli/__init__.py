"""The ``paperatlas`` command line: the global flags, then every command by a plain import of its module.

Each stage's commands live in their own module under ``paperatlas/cli/``; the benchmarks are one group in
``paperatlas.bench``.  Heavy libraries (torch, pyspark, lightgbm) are imported inside commands, never at module
level, so ``paperatlas --help`` stays quick.
"""

from __future__ import annotations

import sys

import click

from .. import bench
from ..context import AppContext
from . import (
    author_cmd,
    build_cmd,
    config_cmd,
    demo_cmd,
    digest_cmd,
    harvest_cmd,
    ingest_cmd,
    scores_cmd,
    search_cmd,
    serve_cmd,
    stats_cmd,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="PAPERATLAS_DATA_DIR",
    help="Folder of the embedded store and indexes [env PAPERATLAS_DATA_DIR; default: the user data folder].",
)
@click.option(
    "--database",
    envvar="PAPERATLAS_DATABASE_URL",
    help="postgresql://... to use a PostgreSQL server instead of the embedded SQLite file "
    "[env PAPERATLAS_DATABASE_URL].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.version_option(package_name="paperatlas")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, database: str | None, quiet: bool) -> None:
    """PaperAtlas: a self-hostable map of research papers and the people who write them."""
    ctx.obj = AppContext.create(data_dir=data_dir, database=database, quiet=quiet)
    ctx.call_on_close(ctx.obj.close)


train = click.Group("train", help="Train the learned models on the real data in ../shared/data.")
train.add_command(author_cmd.train_disambiguation, name="disambiguation")
train.add_command(scores_cmd.train_ai_score, name="ai-score")
train.add_command(author_cmd.train_topics, name="topics")

author_cmd.author.add_command(scores_cmd.author_show, name="show")

for _name, _command in (
    ("stats", stats_cmd.stats), ("migrate", stats_cmd.migrate_cmd), ("demo", demo_cmd.demo),
    ("build", build_cmd.build), ("ingest", ingest_cmd.ingest), ("harvest", harvest_cmd.harvest),
    ("author", author_cmd.author), ("paper", scores_cmd.paper), ("search", search_cmd.search),
    ("serve", serve_cmd.serve), ("digest", digest_cmd.digest), ("config", config_cmd.config),
    ("train", train), ("bench", bench.group),
):
    main.add_command(_command, name=_name)


def run() -> None:  # console-script entry point
    try:
        main(prog_name="paperatlas")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
