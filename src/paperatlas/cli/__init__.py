"""The ``paperatlas`` command line.

Each stage ships its own commands in its own module under ``paperatlas/cli/``; this file only lists where they
live, so that adding a command never means editing another stage's code.  Heavy libraries (torch, pyspark,
lightgbm) are imported inside commands, never at module level, so ``paperatlas --help`` stays instant.
"""

from __future__ import annotations

import importlib
import sys

import click

from .context import AppContext

# command path -> "module:attribute".  Groups along a path are made as needed.
COMMANDS: dict[tuple[str, ...], str] = {
    ("stats",): "paperatlas.cli.stats_cmd:stats",
    ("migrate",): "paperatlas.cli.stats_cmd:migrate_cmd",
    ("demo",): "paperatlas.cli.demo_cmd:demo",
    ("build",): "paperatlas.cli.build_cmd:build",
    ("ingest",): "paperatlas.cli.ingest_cmd:ingest",
    ("harvest",): "paperatlas.cli.harvest_cmd:harvest",
    ("author",): "paperatlas.cli.author_cmd:author",
    ("author", "show"): "paperatlas.cli.scores_cmd:author_show",
    ("paper",): "paperatlas.cli.scores_cmd:paper",
    ("search",): "paperatlas.cli.search_cmd:search",
    ("serve",): "paperatlas.cli.serve_cmd:serve",
    ("digest",): "paperatlas.cli.digest_cmd:digest",
    ("claims",): "paperatlas.cli.claims_cmd:claims",
    ("accounts",): "paperatlas.cli.claims_cmd:accounts",
    ("train", "disambiguation"): "paperatlas.cli.author_cmd:train_disambiguation",
    ("train", "ai-score"): "paperatlas.cli.scores_cmd:train_ai_score",
    ("train", "topics"): "paperatlas.cli.author_cmd:train_topics",
    ("bench", "ingest"): "paperatlas.bench.ingest:bench_ingest",
    ("bench", "merge"): "paperatlas.bench.merge:bench_merge",
    ("bench", "disambiguation"): "paperatlas.bench.disambiguation:bench_disambiguation",
    ("bench", "embed"): "paperatlas.bench.embed:bench_embed",
    ("bench", "search"): "paperatlas.bench.search:bench_search",
    ("bench", "relevance"): "paperatlas.bench.relevance:bench_relevance",
    ("bench", "web"): "paperatlas.bench.web:bench_web",
    ("bench", "digest"): "paperatlas.bench.digest:bench_digest",
    ("bench", "build"): "paperatlas.bench.build:bench_build",
}

GROUP_HELP = {
    ("bench",): "Benchmarks on real data: each prints a table, or one JSON object with --json.",
    ("train",): "Train the learned models on the real data in ../shared/data.",
    ("author",): "Author identities: search, show, and curate.",
}


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


def _load(target: str) -> click.Command | None:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:  # that stage is not installed in this build; anything else is a real error
            return None
        raise
    return getattr(module, attr)


def _group_for(path: tuple[str, ...]) -> click.Group:
    group: click.Group = main
    for depth, name in enumerate(path):
        sub = group.commands.get(name)
        if sub is None:
            sub = click.Group(name, help=GROUP_HELP.get(path[: depth + 1]))
            group.add_command(sub)
        group = sub  # type: ignore[assignment]
    return group


def register_all() -> None:
    for path, target in COMMANDS.items():
        command = _load(target)
        if command is not None:
            _group_for(path[:-1]).add_command(command, name=path[-1])


register_all()


def run() -> None:  # console-script entry point
    try:
        main(prog_name="paperatlas")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
