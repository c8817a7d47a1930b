"""The app factory: one FastAPI application over one store.

Everything a request needs hangs off ``app.state`` (the store, the Jinja2 templates) so that other stages'
routers (the digest's /subscribe) can render pages with the same ``base.html`` without importing this module.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..store import Store
from . import security
from .caching import CachedResponses, DataVersion, ResponseCache

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True  # every title, abstract and name is user data: escape it all
    return templates


def _include_optional_router(app: FastAPI, target: str) -> bool:
    """Include another stage's router when it is installed; a page that needs it then 404s gracefully."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        router = getattr(module, attr)
    except Exception as exc:  # a half-written router must not take the whole site down
        log.info("optional router %s not included: %s", target, exc)
        return False
    app.include_router(router)
    return True


# Threads that render pages at once, per worker (PAPERATLAS_WEB_THREADS).  anyio's default is 40; every render thread
# keeps its own SQLite connection with its own page cache (64 MB at most) and memory map, and on two cores 40
# threads only take turns at the GIL: more threads cost memory and tail latency, not throughput.
DEFAULT_RENDER_THREADS = 8


def render_threads() -> int:
    value = os.environ.get("PAPERATLAS_WEB_THREADS", "")
    if not value:
        return DEFAULT_RENDER_THREADS
    if not value.isdigit() or not 1 <= int(value) <= 256:
        raise ValueError(f"PAPERATLAS_WEB_THREADS must be a whole number from 1 to 256, not {value!r}")
    return int(value)


def warm_up(store: Store) -> None:
    """Load what the first search would otherwise load while a visitor waits: the query encoder (torch and the
    MiniLM weights: seconds quiet, a minute on a busy 2-core machine, during which every render thread that takes a
    search blocks on it) and the vector index.  Nothing happens for a store without embeddings."""
    from ..search.engine import semantic_candidates

    semantic_candidates(store, "warm up", 1)


def _lifespan(store: Store, threads: int):
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        # before uvicorn accepts the first connection (it binds its socket after startup)
        await anyio.to_thread.run_sync(warm_up, store)
        yield

    return lifespan


def create_app(store: Store, *, cache_size: int = 4096, public_url: str | None = None,
               trusted_hosts: list[str] | None = None, trusted_proxies: list[str] | None = None) -> FastAPI:
    """The whole site over ``store``; ``cache_size=0`` turns the rendered-response cache off (benchmarks).

    ``public_url``, ``trusted_hosts`` and ``trusted_proxies`` default to the environment (``web.security``)."""
    settings = security.settings_from_env()
    public_url = public_url if public_url is not None else settings["public_url"]
    trusted_hosts = trusted_hosts if trusted_hosts is not None else settings["trusted_hosts"]
    trusted_proxies = trusted_proxies if trusted_proxies is not None else settings["trusted_proxies"]
    security.parse_public_url(public_url)  # a malformed one stops the server at start, not at the first request
    app = FastAPI(
        title="PaperAtlas",
        version="1",
        description="Papers, the people who write them, and their figures. Ids: PaperAtlas ids (p..., a...) or any "
        "source id (arxiv:..., doi:...). Lists are paginated with limit/offset and a `next` link; every response "
        "carries ETag and Last-Modified and answers 304 to If-None-Match.",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(store, render_threads()),
    )
    app.state.store = store
    app.state.templates = make_templates()
    app.state.data_version = DataVersion(store)
    app.state.response_cache = ResponseCache(cache_size)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(CachedResponses, state=app.state)
    # outermost last: HEAD -> GET, then the trusted origin and client address, then the cache
    app.add_middleware(security.ClientAddress, trusted_proxies=trusted_proxies)
    app.add_middleware(security.PublicOrigin, public_url=public_url, trusted_hosts=trusted_hosts)
    app.add_middleware(security.HeadAsGet)
    build_stack = app.build_middleware_stack

    def build_with_headers():  # outside Starlette's ServerErrorMiddleware too, so that a 500 page has them
        return security.SecurityHeaders(build_stack())

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]

    from . import api, routes

    routes.install(app)
    app.include_router(api.router)
    app.state.digest_router = _include_optional_router(app, "paperatlas.digest.web:router")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return error_response(request, 400, f"Bad parameter {where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("error serving %s", request.url.path)
        return error_response(request, 500, "Something went wrong on our side.")

    return app


def error_response(request: Request, status: int, detail: str):
    """A friendly page for people, a JSON body for the API; never a traceback."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail, "status": status}, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "detail": detail}, status_code=status
    )


__all__ = ["create_app"]
