"""``paperatlas ingest PATH...``: read scholarly metadata files into the store, merged, idempotently."""

from __future__ import annotations

import click
import orjson

from ..context import AppContext, fail, pass_app


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "format_name", metavar="NAME",
              help="Read every file with this reader instead of detecting the format (see --list-formats).")
@click.option("--strict", is_flag=True, help="Stop at the first malformed record (exit status 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--list-formats", is_flag=True, is_eager=True, expose_value=False,
              callback=lambda ctx, _p, value: _list_formats(ctx) if value else None,
              help="List the formats PaperAtlas reads, and exit.")
@pass_app
def ingest(app: AppContext, paths: tuple[str, ...], format_name: str | None, strict: bool, as_json: bool) -> None:
    """Ingest files or folders (plain, gzip or bz2; the format is detected from the content).

    Reads arXiv (OAI-PMH, API Atom, bulk snapshot), DBLP XML, OpenAlex, Semantic Scholar / S2ORC, ACL Anthology
    Network and code-link files.  The same paper seen in several sources becomes one paper; re-ingesting a file
    changes nothing; a malformed record is reported as FILE:LINE: reason and skipped."""
    from ..ingest import IngestError, StrictStop, ingest_paths

    try:
        from ..ingest.files import plan

        plan(list(paths), format_name)  # every path checked before the store is even opened
        summary = ingest_paths(app.store, list(paths), format=format_name, strict=strict,
                               show_progress=app.show_progress)
    except IngestError as exc:
        fail(str(exc), 2)
        return
    except StrictStop as exc:
        fail(f"stopped at the first malformed record (--strict): {exc}", 1)
        return
    figures = summary.as_dict()
    if as_json:
        click.echo(orjson.dumps(figures).decode())
        return
    click.echo(
        f"read {summary.read:,} records from {summary.files:,} file(s) in {summary.seconds:.1f} s "
        f"({summary.records_per_s:,.0f} records/s)"
    )
    for key in ("new", "merged", "updated", "unchanged", "skipped", "citations", "entities"):
        click.echo(f"  {key:<10} {figures[key]:>10,}")
    for name, count in sorted(summary.per_format.items()):
        click.echo(f"  [{name}] {count:,} read")


def _list_formats(ctx: click.Context) -> None:
    from ..sources.registry import readers

    for reader in readers():
        click.echo(f"{reader.name:<28} {reader.description}")
    ctx.exit(0)
