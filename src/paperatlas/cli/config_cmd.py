"""``paperatlas config show``: the settings this process really runs with (secrets masked)."""

from __future__ import annotations

import click
import orjson

from ..context import AppContext, pass_app
from ..settings import Settings


@click.group("config")
def config() -> None:
    """The effective settings: defaults < paperatlas.toml < PAPERATLAS_* variables < flags."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: setting name -> value.")
@pass_app
def show(app: AppContext, as_json: bool) -> None:
    """Print every setting with its effective value; passwords and keys are masked."""
    values = app.settings.shown()
    if as_json:
        click.echo(orjson.dumps(values, option=orjson.OPT_INDENT_2).decode())
        return
    rows = {row["name"]: row for row in Settings.table()}
    width = max(len(name) for name in values)
    for name, value in values.items():
        click.echo(f"{name:<{width}}  {'' if value is None else value}    [{rows[name]['env']}]")


@config.command("table")
def table() -> None:
    """The settings table of docs/settings.md, as Markdown (so the docs are made from the code)."""
    click.echo("| setting | variable | section | type | default | what it does |")
    click.echo("|---|---|---|---|---|---|")
    for row in Settings.table():
        default = "" if row["default"] is None else f"`{row['default']}`"
        click.echo(f"| `{row['name']}` | `{row['env']}` | {row['section']} | {row['type']} | {default} | "
                   f"{row['description']} |")
