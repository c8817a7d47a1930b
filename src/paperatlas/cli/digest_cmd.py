"""``paperatlas digest``: subscribe, confirm, list, send and preview email digests."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click
import orjson

from ..context import AppContext, fail, pass_app


def _config(app: AppContext):
    from ..digest.config import ConfigError, config_from

    try:
        return config_from(app.settings, app.data_dir)
    except ConfigError as exc:
        fail(str(exc))


def _date(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


@click.group()
def digest() -> None:
    """Email digests: trending papers and what each subscriber follows, sent over SMTP exactly once.

    Configuration (environment, or section [digest] of paperatlas.toml in the data folder):
    PAPERATLAS_SMTP_URL (smtp://[user:pass@]host:port[?starttls=1] or smtps://...), PAPERATLAS_MAIL_FROM,
    PAPERATLAS_PUBLIC_URL (the base of every link in a mail), PAPERATLAS_SECRET_KEY (else one is generated once
    and kept in the data folder).
    """


@digest.command()
@click.argument("email")
@click.option("--daily", "frequency", flag_value="daily", default=True, help="One digest a day (default).")
@click.option("--weekly", "frequency", flag_value="weekly", help="One digest a week.")
@click.option("--author", "authors", multiple=True, help="Follow this author (PaperAtlas id or orcid:...).")
@click.option("--category", "categories", multiple=True, help="Follow this category, e.g. cs.CL.")
@click.option("--query", "queries", multiple=True, help="Follow this saved search.")
@pass_app
def subscribe(app: AppContext, email: str, frequency: str, authors: tuple[str, ...], categories: tuple[str, ...],
              queries: tuple[str, ...]) -> None:
    """Subscribe EMAIL and mail it the confirmation link, as the web form does (nothing else until confirmed)."""
    from ..digest.config import ConfigError
    from ..digest.sender import send_notice
    from ..digest.smtp import DeliveryError
    from ..digest.subscriptions import SubscriptionError, clean_follows, release_mail
    from ..digest.subscriptions import subscribe as do_subscribe

    config = _config(app)
    try:
        config.require_mail()
        follows = clean_follows(app.store, list(authors), list(categories), list(queries))
        outcome = do_subscribe(app.store, email, frequency, follows)
    except (ConfigError, SubscriptionError) as exc:
        fail(str(exc))
    if outcome.mail is None:
        click.echo(f"{outcome.subscriber.email}: a mail was sent to this address recently; not sending another yet")
        return
    try:
        send_notice(config, outcome.subscriber, outcome.mail)
    except (ConfigError, DeliveryError, OSError) as exc:
        release_mail(app.store, outcome.subscriber.email)
        fail(f"could not send the {outcome.mail} mail: {exc}", 75)
    what = "confirmation link" if outcome.mail == "confirm" else "manage link (already subscribed)"
    click.echo(f"{outcome.subscriber.email}: {what} sent")


@digest.command()
@click.argument("token")
@pass_app
def confirm(app: AppContext, token: str) -> None:
    """Confirm a subscription with the TOKEN from a confirmation link (handy for operators)."""
    from ..digest.subscriptions import confirm as do_confirm
    from ..digest.tokens import TokenError, Tokens

    try:
        subscriber = do_confirm(app.store, Tokens(_config(app).secret_key), token)
    except TokenError as exc:
        fail(str(exc))
    click.echo(f"{subscriber.email}: {subscriber.status}")


@digest.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of subscribers.")
@click.option("--status", type=click.Choice(["pending", "confirmed", "unsubscribed"]), help="Only these.")
@pass_app
def list_cmd(app: AppContext, as_json: bool, status: str | None) -> None:
    """Subscribers, their state, frequency and follows."""
    from ..digest.subscriptions import list_subscribers

    subscribers = list_subscribers(app.store, status)
    last = dict(((r[0]), r[1]) for r in app.store.db.query_tuples(
        "SELECT subscriber_id, MAX(sent_at) FROM digest_sends WHERE state = 'sent' GROUP BY subscriber_id"))
    rows = [{**s.as_dict(), "last_sent_at": last.get(s.id)} for s in subscribers]
    if as_json:
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        click.echo("no subscribers")
        return
    for r in rows:
        f = r["follows"]
        follows = len(f["authors"]) + len(f["categories"]) + len(f["queries"])
        click.echo(f"{r['email']:<40} {r['status']:<13} {r['frequency']:<7} follows={follows} "
                   f"last_sent={r['last_sent_at'] or '-'}")


@digest.command()
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Send the digests of this day (default: today, UTC); replays an old corpus.")
@click.option("--dry-run", is_flag=True, help="Build and list what would be sent; send and record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@pass_app
def send(app: AppContext, on: datetime | None, dry_run: bool, as_json: bool) -> None:
    """Build and send every due digest, each (subscriber, period) exactly once; safe to re-run any time.

    Daily subscribers get one digest per date; weekly ones one per ISO week (on the first run of that week).
    Run it from cron once a day or more often: a run finds what is due and finishes what a crashed run left.

    \b
    Exit codes (for cron):
      0   all due digests sent, or nothing was due
      1   some digests failed permanently (5xx: bad address, refused); the rest went out
      75  temporary failures (4xx, server unreachable): left for the next run, which resends them
      2   usage or configuration error (no SMTP URL, bad date, login refused); nothing more was sent
    """
    from ..digest.config import ConfigError
    from ..digest.sender import EX_TEMPFAIL, SendBusy, send_digests
    from ..search import IndexNotBuilt

    config = _config(app)
    try:
        report = send_digests(app.store, config, _date(on), dry_run=dry_run, show_progress=app.show_progress)
    except (ConfigError, IndexNotBuilt) as exc:
        fail(str(exc))
    except SendBusy as exc:
        fail(str(exc), EX_TEMPFAIL)
    if as_json:
        click.echo(orjson.dumps(report.as_dict()).decode())
    else:
        if dry_run:
            for m in report.messages:
                click.echo(f"would send {m['period']} to {m['email']}: {m['papers']} papers")
        click.echo(f"{report.date}: due {report.due}, sent {report.sent}, empty {report.empty}, "
                   f"resumed {report.resumed}, temporary failures {report.temporary}, failed {report.failed}"
                   + (" (dry run)" if dry_run else ""))
    raise SystemExit(report.exit_code)


@digest.command()
@click.argument("email")
@click.option("--html", "fmt", flag_value="html", help="Print the HTML part.")
@click.option("--text", "fmt", flag_value="text", default=True, help="Print the text part (default).")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="As of this day (default: today).")
@click.option("--url", "url_only", is_flag=True, help="Print the browser preview link instead.")
@click.option("--open", "open_browser", is_flag=True, help="Open the browser preview (needs 'paperatlas serve').")
@pass_app
def preview(app: AppContext, email: str, fmt: str, on: datetime | None, url_only: bool, open_browser: bool) -> None:
    """Render what EMAIL would get (nothing is sent or recorded); --url / --open for the browser preview."""
    from ..digest.build import DigestBuilder, period_key
    from ..digest.render import Links, render_digest
    from ..digest.subscriptions import SubscriptionError, find_subscriber
    from ..digest.tokens import Tokens

    config = _config(app)
    try:
        subscriber = find_subscriber(app.store, email)
    except SubscriptionError as exc:
        fail(str(exc))
    if subscriber is None:
        fail(f"no subscriber {email}")
    links = Links(config, Tokens(config.secret_key), subscriber)
    if url_only or open_browser:
        url = links.preview + (f"&date={on.date().isoformat()}" if on else "")
        click.echo(url)
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        return
    day = _date(on)
    built = DigestBuilder(app.store, day).build(subscriber, period_key(subscriber.frequency, day))
    subject, text, html = render_digest(built, links)
    click.echo(html if fmt == "html" else f"Subject: {subject}\n\n{text}")
