"""The app factory: one FastAPI application over one store.

Everything a request needs hangs off ``app.state`` (the store, the Jinja2 templates) so that other stages'
routers (the digest's /subscribe) can render pages with the same ``base.html`` without importing this module.
Every router is included by a plain import: a broken module fails at start-up, not as a page that 404s.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..digest import web as digest_web
from ..search import IndexNotBuilt
from ..settings import Settings, current
from ..store import Store
from . import security
from .caching import CachedResponses, DataVersion, ResponseCache, SharedResponses
from .memo import VersionMemo

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja's lookup of ``p.title``, with a fast path for the plain dicts pages are made of.

    Jinja tries ``getattr(p, "title")`` first and the item only after its AttributeError: on a dict that is an
    exception raised and caught for nearly every field a template shows (the largest single cost of rendering a
    paper list under ``bench web --mix``).  A dict has no attributes but those of its type, so looking the item up
    first for any other name gives exactly Jinja's answer."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(env=_Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates"))))
    templates.env.autoescape = True  # every title, abstract and name is user data: escape it all
    # the templates ship with the package and never change under a running server; with auto_reload on, Jinja
    # stats the template file and every file it extends or imports on each render (1.3% of the server's CPU
    # under `bench web --mix`)
    templates.env.auto_reload = False
    return templates


# Threads that render pages at once, per worker (setting web_threads, default 8).  anyio's default is 40; every
# render thread keeps its own SQLite connection with its own page cache (64 MB at most) and memory map, and on two
# cores 40 threads only take turns at the GIL: more threads cost memory and tail latency, not throughput.


def warm_up(app: FastAPI) -> None:
    """Load what the first request would otherwise load while a visitor waits: the query encoder (torch and the
    MiniLM weights: seconds quiet, a minute on a busy 2-core machine, during which every render thread that takes a
    search blocks on it), both indexes (:func:`paperatlas.search.warm.warm`) and the compiled templates.  Every way
    of serving (``serve``, its workers, ``demo``, tests) goes through here; a caller that already warmed the search
    (``serve``, to print how long it took) leaves its figures in ``app.state.warmed``."""
    from ..search.warm import warm
    from .warm import compile_templates

    if getattr(app.state, "warmed", None) is None:
        app.state.warmed = warm(app.state.store)
    compile_templates(app)


GC_YOUNG = 10_000  # net container allocations between two collections of the youngest generation (Python: 700)


def settle_heap() -> None:
    """Move every object alive after the warm-up out of the cyclic garbage collector's sight (``gc.freeze``).

    Why: what start-up made (modules, routes, compiled templates, the query encoder, the indexes: ~100,000
    containers) lives as long as the process, yet every full collection walked all of it.  Under
    ``paperatlas bench web --mix`` one worker ran ten full collections in 20 s, 46 ms each on average (69 at
    most) with the GIL held, so the event loop and every render thread stood still meanwhile.  Frozen
    objects are still freed by reference counting; only one that later ends up in an unreachable cycle would
    stay (the collection just before the freeze leaves no garbage behind).  Objects made later (caches, requests)
    are collected as before, but the youngest generation only every ``GC_YOUNG`` net allocations instead of 700: a
    page render makes thousands of short-lived dicts and tuples that reference counting frees anyway, and at 700
    the collector ran ~70 times a second and took 0.6 s in a 20-s run even after the freeze (0.84 s before it),
    0.15 s at 10,000 (cyclic garbage waits a little longer: a few MB at most).  For a process that serves (its app
    made with ``settle_gc``), not for tests that make many apps."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def _lifespan(threads: int, settle_gc: bool):
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        # before uvicorn accepts the first connection (it binds its socket after startup)
        await anyio.to_thread.run_sync(warm_up, app)
        if settle_gc:
            settle_heap()
        yield

    return lifespan


def create_app(store: Store, *, cache_size: int = 4096, settings: Settings | None = None,
               public_url: str | None = None, trusted_hosts: list[str] | None = None,
               trusted_proxies: list[str] | None = None, outbox: bool = False,
               shared_cache: SharedResponses | None = None, settle_gc: bool = False) -> FastAPI:
    """The whole site over ``store``; ``cache_size=0`` turns the rendered-response cache off (benchmarks).

    ``settings``: those the command line built (default: this process's, :func:`paperatlas.settings.current`);
    ``public_url``, ``trusted_hosts`` and ``trusted_proxies`` override theirs (tests).  ``outbox=True`` (the demo on
    a loopback address) serves the local mail outbox at /outbox to loopback clients, so sign-in and confirmation
    links can be clicked without a mail server.  ``shared_cache``: rendered pages this server's other worker
    processes may read (:func:`paperatlas.web.serve.app_from_env` gives one to each worker).  ``settle_gc``: the
    process serves this app and nothing else: freeze the warmed-up heap (:func:`settle_heap`)."""
    settings = settings or current()
    public_url = public_url if public_url is not None else settings.public_url
    trusted_hosts = trusted_hosts if trusted_hosts is not None else settings.trusted_hosts
    trusted_proxies = trusted_proxies if trusted_proxies is not None else settings.trusted_proxies
    security.parse_public_url(public_url)  # a malformed one stops the server at start, not at the first request
    app = FastAPI(
        title="PaperAtlas",
        version="1",
        description="Papers, the people who write them, and their figures. Ids: PaperAtlas ids (p..., a...) or any "
        "source id (arxiv:..., doi:...). Lists are paginated with limit/offset and a `next` link; every response "
        "carries ETag and Last-Modified and answers 304 to If-None-Match.",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(settings.web_threads, settle_gc),
    )
    app.state.store = store
    app.state.settings = settings
    app.state.outbox = outbox
    app.state.templates = make_templates()
    app.state.data_version = DataVersion(store)
    app.state.response_cache = ResponseCache(cache_size, shared_cache)
    app.state.memo = VersionMemo()  # answers shared by several URLs, per data version (web/memo.py)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(CachedResponses, state=app.state)
    from .reader_cache import ReaderRevalidation

    app.add_middleware(ReaderRevalidation)  # outside the cache: also covers the answers CachedResponses gives itself
    # outermost last: HEAD -> GET, then the trusted origin and client address, then readers' revalidation, the cache
    app.add_middleware(security.ClientAddress, trusted_proxies=trusted_proxies)
    app.add_middleware(security.PublicOrigin, public_url=public_url, trusted_hosts=trusted_hosts)
    app.add_middleware(security.HeadAsGet)
    build_stack = app.build_middleware_stack

    def build_with_headers():  # outside Starlette's ServerErrorMiddleware too, so that a 500 page has them
        return security.SecurityHeaders(build_stack())

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]

    from . import accounts, api, foryou_pages, reader_api, reader_pages, routes

    routes.install(app)
    app.include_router(api.router)
    app.include_router(digest_web.router)
    app.include_router(accounts.router)
    app.include_router(reader_pages.router)
    app.include_router(reader_api.router)
    app.include_router(foryou_pages.router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return error_response(request, 400, f"Bad parameter {where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(IndexNotBuilt)
    async def index_missing(request: Request, exc: IndexNotBuilt):
        return error_response(request, 503, str(exc).capitalize() + ".")

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("error serving %s", request.url.path)
        return error_response(request, 500, "Something went wrong on our side.")

    return app


# Starlette's own details are HTTP reason phrases; pages say what happened in a sentence, as every other error does
_PHRASES = {"Not Found": "No page at this address.", "Method Not Allowed": "This address does not take that method.",
            "Internal Server Error": "Something went wrong on our side."}


def error_sentence(detail: str) -> str:
    """One wording for every error: a capitalised sentence that ends with a full stop."""
    text = _PHRASES.get(detail.strip(), detail.strip()) or "Something went wrong."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def error_response(request: Request, status: int, detail: str):
    """A friendly page for people, a JSON body for the API; never a traceback."""
    detail = error_sentence(detail)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail, "status": status}, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "detail": detail}, status_code=status
    )


__all__ = ["create_app"]
