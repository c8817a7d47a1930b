"""``paperatlas claims ...``: the operator's queue of profile claims, and ``paperatlas accounts role`` to make an
operator.  Claims approved automatically (e-mail domain matches an affiliation) are listed too, so an operator can
revoke one that should not have been."""

from __future__ import annotations

import click
import orjson

from ..context import AppContext, fail, pass_app


@click.group("claims")
def claims() -> None:
    """Profile claims: list the queue, approve, reject, revoke."""


def _print(items: list, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps([c.as_dict() for c in items]).decode())
        return
    if not items:
        click.echo("no claims")
        return
    for c in items:
        click.echo(f"#{c.id}  {c.status:<8}  {c.aid}  {c.email}  {c.created_at}  {c.evidence or ''}")


@claims.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected", "revoked", "all"]), default="pending",
              show_default=True, help="Which claims to list.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@pass_app
def list_cmd(app: AppContext, status: str, as_json: bool) -> None:
    """Claims waiting for a decision (or in another state)."""
    from ..readers.claims import list_claims

    _print(list_claims(app.store.db, None if status == "all" else status), as_json)


def _decide(app: AppContext, verb: str, claim_id: int, operator: str, as_json: bool) -> None:
    from ..readers import claims as domain
    from ..readers.common import ReaderError

    try:
        done = getattr(domain, verb)(app.store.db, claim_id, operator)
    except ReaderError as exc:
        fail(str(exc))
        return
    _print([done], as_json)


def _decision(verb: str, help_text: str):
    @claims.command(verb, help=help_text)
    @click.argument("claim_id", type=int)
    @click.option("--operator", default="operator", show_default=True, help="Who decided (kept with the claim).")
    @click.option("--json", "as_json", is_flag=True, help="Print the claim as JSON.")
    @pass_app
    def command(app: AppContext, claim_id: int, operator: str, as_json: bool) -> None:
        _decide(app, verb, claim_id, operator, as_json)

    return command


approve_cmd = _decision("approve", "Approve a pending claim: its account becomes the profile's verified owner.")
reject_cmd = _decision("reject", "Reject a pending claim.")
revoke_cmd = _decision("revoke", "Revoke an approved claim (the owner's audited edits stay).")


@click.group("accounts")
def accounts() -> None:
    """Reader accounts."""


@accounts.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(["reader", "operator"]))
@pass_app
def role_cmd(app: AppContext, email: str, role: str) -> None:
    """Give the account of EMAIL a role (made if it does not exist yet)."""
    from ..readers.accounts import set_role
    from ..readers.common import ReaderError

    try:
        account = set_role(app.store.db, email, role)
    except ReaderError as exc:
        fail(str(exc))
        return
    click.echo(orjson.dumps(account.as_dict()).decode())
