"""``paperatlas serve``: the web UI and JSON API over the store."""

from __future__ import annotations

import os
import socket
import sys

import click

from ..context import AppContext, fail, pass_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each opens the store itself; use about one per CPU core). With more than one, "
                   "a supervisor starts them, listens once all are warm and hands each new connection to the next "
                   "in turn.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@pass_app
def serve(app: AppContext, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the web pages, feeds and JSON API (docs at /docs, OpenAPI at /openapi.json)."""
    import uvicorn

    from ..web.serve import UVICORN_OPTIONS, port_is_free, server_argv

    try:
        socket.getaddrinfo(host, port)
    except socket.gaierror:
        fail(f"cannot listen on {host}: unknown host")
    if not port_is_free(host, port):
        fail(f"cannot listen on {host}:{port}: the port is in use (choose another with --port)")
    store = app.store  # opens, creates or upgrades the store once, before any worker starts
    click.echo(f"PaperAtlas on http://{host}:{port}/ (store: {store.db.url}, {workers} worker(s))", err=True)
    if workers == 1:
        from ..search.warm import warm
        from ..web.app import create_app

        ready = warm(store)  # before uvicorn listens: no request waits on the embedding model
        click.echo(f"search ready in {ready['seconds']:.1f} s ({ready['vectors']:,} vectors"
                   f"{', model ' + ready['model'] if ready['model'] else ''})", err=True)
        site = create_app(store, cache_size=app.settings.web_cache, settings=app.settings, settle_gc=True)
        site.state.warmed = ready  # the app's lifespan then only compiles the templates (web.app.warm_up)
        uvicorn.run(site, host=host, port=port, log_level=log_level, **UVICORN_OPTIONS)
        return
    os.environ["PAPERATLAS_DATA_DIR"] = str(app.data_dir)
    if app.database:
        os.environ["PAPERATLAS_DATABASE_URL"] = app.database
    app.close()
    # Become the supervisor of paperatlas.web.workers: a small process that starts the workers, listens once every
    # one is warm, and hands each new connection to the next in turn (uvicorn's own --workers leaves that to the
    # kernel, which splits keep-alive clients unevenly for as long as they stay).
    os.execv(sys.executable, server_argv(host, port, workers, log_level=log_level, access_log=True))
