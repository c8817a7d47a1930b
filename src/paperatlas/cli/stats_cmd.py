"""``paperatlas stats`` and ``paperatlas migrate``."""

from __future__ import annotations

import click
import orjson

from ..context import AppContext, pass_app
from ..store.migrate import migrate
from ..store.stats import store_stats


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def stats(app: AppContext, as_json: bool) -> None:
    """Counts of papers, authorships, identities, name clusters, citation edges and papers per source."""
    figures = store_stats(app.store.db)
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    for key, value in figures.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for sub, n in value.items():
                click.echo(f"  {sub:<28} {n:>10,}")
        else:
            click.echo(f"{key:<30} {value:>10,}")


@click.command("migrate")
@pass_app
def migrate_cmd(app: AppContext) -> None:
    """Create or upgrade the store's schema (every command does this on open; this one only that)."""
    applied = migrate(app.store.db)
    click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")
