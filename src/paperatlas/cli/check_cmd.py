"""``paperatlas check ...``: read the live store for faults a user would see, and exit 1 when there are any.

A group, so other stages can add their own checks beside ``check identities``.
"""

from __future__ import annotations

import click
import orjson

from ..context import AppContext, pass_app


@click.group("check")
def check() -> None:
    """Check the live store: each check reports what it found and exits 1 when it found anything."""


@check.command("identities")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
@pass_app
def check_identities(app: AppContext, as_json: bool) -> None:
    """Authorships whose written given name cannot be their identity's, identities mixing incompatible given
    names, two ORCIDs or two DBLP homonym numbers, and paper counts that disagree with the paper list."""
    from ..disambiguation.checks import check_identities as run_check

    report = run_check(app.store)
    if as_json:
        click.echo(orjson.dumps(report).decode())
    else:
        click.echo(f"{report['identities']:,} identities, {report['authorships_checked']:,} authorships checked")
        for kind, found in report.items():
            if not isinstance(found, dict):
                continue
            click.echo(f"  {kind.replace('_', ' ')}: {found['count']:,}")
            for case in found["examples"][:5]:
                click.echo(f"    {orjson.dumps(case).decode()}")
        click.echo("no problems found" if not report["problems"] else f"{report['problems']:,} problems found")
    if report["problems"]:
        raise SystemExit(1)
