"""Running the app under uvicorn, including with several worker processes (:mod:`paperatlas.web.workers`).

Workers are separate processes, so they cannot receive an open store: each one builds its app from the same
settings, read from the environment the CLI sets (PAPERATLAS_DATA_DIR, PAPERATLAS_DATABASE_URL), through
:func:`app_from_env`.
"""

from __future__ import annotations

import socket
import sys

from fastapi import FastAPI

from ..settings import Settings
from ..store import open_store
from .app import create_app
from .caching import SharedResponses, shared_responses_path
from .workers import listening_socket

# How every server of the site runs uvicorn.  proxy_headers off: uvicorn's own handling trusts X-Forwarded-For from
# 127.0.0.1 by default, so anyone on the machine (or behind a local proxy that passes the header on) could pick the
# client address rate limits count by; web.security.ClientAddress trusts only PAPERATLAS_TRUSTED_PROXIES.
UVICORN_OPTIONS = {"proxy_headers": False}
UVICORN_FLAGS = ["--no-proxy-headers"]


def app_from_env(server_pid: int | None = None) -> FastAPI:
    """The app of one worker; ``server_pid``: the process whose workers share rendered pages (the supervisor of
    :mod:`paperatlas.web.workers`), None for a server of one process."""
    settings = Settings.load()
    store = open_store(settings.data_dir, settings.secret("database_url"), upgrade=False)
    # read it once now: a store that cannot be read (not a database, never built) stops the worker before it says
    # it is ready, instead of a server whose every answer is a 500
    store.db.scalar("SELECT 1 FROM papers LIMIT 1")  # the schema and one page, not a count of every paper
    shared = (SharedResponses(shared_responses_path(settings.data_dir, server_pid), settings.web_cache)
              if server_pid is not None and settings.web_cache else None)
    # each worker warms up (model, indexes, templates) in the app's lifespan, before it takes a request
    return create_app(store, cache_size=settings.web_cache, settings=settings, shared_cache=shared, settle_gc=True)


def server_argv(host: str, port: int, workers: int, *, log_level: str = "warning",
                access_log: bool = False) -> list[str]:
    """The command that serves the store of the environment's settings: what ``paperatlas serve --workers N``
    becomes, and what the benchmarks and tests start: one process under uvicorn, or the supervisor of
    :mod:`paperatlas.web.workers` and its workers."""
    quiet = [] if access_log else ["--no-access-log"]
    if workers == 1:
        return [sys.executable, "-m", "uvicorn", "--factory", "paperatlas.web.serve:app_from_env", "--host", host,
                "--port", str(port), "--log-level", log_level, *quiet, *UVICORN_FLAGS]
    return [sys.executable, "-m", "paperatlas.web.workers", "--host", host, "--port", str(port),
            "--workers", str(workers), "--log-level", log_level, *quiet]


def port_is_free(host: str, port: int) -> bool:
    """Whether the server could listen there: bound as the supervisor of several workers binds
    (:func:`paperatlas.web.workers.listening_socket`), then let go."""
    try:
        listening_socket(host, port).close()
    except OSError:
        return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
