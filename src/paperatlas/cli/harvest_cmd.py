"""``paperatlas harvest``: fetch records from live services and ingest them as they arrive."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from ..context import AppContext, fail, pass_app
from ..progress import progress

ARXIV_OAI = "https://oaipmh.arxiv.org/oai"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _DATE.match(value):
        raise click.BadParameter("expected YYYY-MM-DD")
    return value


@click.group()
def harvest() -> None:
    """Harvest records from live services (resumable; each page is ingested as it arrives)."""


@harvest.command("arxiv")
@click.option("--set", "set_spec", default="cs", show_default=True, help="OAI-PMH set, e.g. cs, math, physics:hep-th.")
@click.option("--from", "from_date", callback=_date, required=True, help="First datestamp to harvest (YYYY-MM-DD).")
@click.option("--until", callback=_date, help="Last datestamp to harvest (YYYY-MM-DD).")
@click.option("--endpoint", default=ARXIV_OAI, show_default=True, help="OAI-PMH base URL.")
@click.option("--delay", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Seconds between requests (arXiv asks for politeness).")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after this many pages (resume later).")
@click.option("--restart", is_flag=True, help="Forget the saved resumption token and start from the first page.")
@pass_app
def harvest_arxiv(app: AppContext, set_spec: str, from_date: str, until: str | None, endpoint: str, delay: float,
                  max_pages: int | None, restart: bool) -> None:
    """Harvest arXiv metadata (metadataPrefix=arXiv) over OAI-PMH into the store.

    Follows resumption tokens, waits --delay seconds between requests, honours 503 + Retry-After, and saves its
    place after every ingested page: run the same command again after a crash and it goes on from there.
    """
    from ..harvest import HarvestError, HarvestState, OaiHarvester

    if until and until < from_date:
        fail(f"--until {until} is before --from {from_date}")
    if not endpoint.startswith(("http://", "https://")):
        fail(f"--endpoint must be an http(s) URL, not {endpoint!r}")
    try:
        from ..ingest import ingest_paths
    except ImportError:
        fail("the ingest pipeline (paperatlas.ingest) is not installed in this build")
    store = app.store
    safe = re.sub(r"[^A-Za-z0-9.\-]+", "_", f"{set_spec}-{from_date}-{until or 'now'}")
    state_path: Path = store.path("harvest", "arxiv", f"{safe}.state.json")
    pages_dir = store.data_dir / "harvest" / "arxiv" / safe
    if restart:
        state_path.unlink(missing_ok=True)
    try:
        saved = HarvestState.load(state_path)
    except HarvestError as exc:
        fail(f"{exc} (use --restart to start over)")
    harvester_state = {"records": saved.records if saved and not saved.done else 0}
    totals = {"read": 0, "new": 0, "merged": 0, "updated": 0, "skipped": 0}
    bar = progress(desc=f"harvest {set_spec}", unit="rec", enabled=app.show_progress)

    def on_page(path: Path, page) -> object:
        summary = ingest_paths(store, [path], show_progress=False)
        for key in totals:
            totals[key] += int(getattr(summary, key, 0) or 0)
        if page.complete_list_size and bar.total != page.complete_list_size:
            bar.total = page.complete_list_size
        if bar.n == 0 and harvester_state.get("records"):  # a resumed harvest starts where it stopped
            bar.n = harvester_state["records"]
        bar.update(page.records)
        return summary

    def log(message: str) -> None:
        if app.show_progress:
            bar.write(message, file=sys.stderr)

    harvester = OaiHarvester(endpoint, state_path=state_path, pages_dir=pages_dir, on_page=on_page,
                             set_spec=set_spec, from_date=from_date, until=until, delay=delay, log=log)
    try:
        with bar:
            result = harvester.run(max_pages=max_pages)
    except HarvestError as exc:
        fail(f"harvest stopped: {exc} (run the same command again to resume)", code=1)
    except OSError as exc:
        fail(f"harvest stopped: {exc} (run the same command again to resume)", code=1)
    status = "complete" if result.done else "paused (run again to resume)"
    click.echo(f"harvest {status}: {result.pages} pages, {result.records:,} records this run"
               f" ({result.state.records if result.state else 0:,} in all); "
               + ", ".join(f"{k} {v:,}" for k, v in totals.items()))
