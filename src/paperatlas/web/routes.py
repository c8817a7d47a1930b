"""The HTML pages and Atom feeds.  Handlers are plain (sync) functions: FastAPI runs them in its thread pool, and
the store hands each thread its own SQLite connection.

Each handler resolves its id (404 page when unknown), asks :mod:`.queries` for a plain dict and renders a template;
:func:`.caching.cached_response` adds ETag / Last-Modified and keeps the rendered body for the next visitor.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from . import queries
from .caching import cached_response
from .chart import per_year_svg
from .format import bibtex, category_code, count, short_date
from .people import matching_people

PAGE_SIZE = 20
ATOM = "application/atom+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"


def render(request: Request, template: str, context: dict, media_type: str = HTML) -> tuple[bytes, str]:
    env = request.app.state.templates.env
    body = env.get_template(template).render({"request": request, **context})
    return body.encode("utf-8"), media_type


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=what)


def page_links(request: Request, offset: int, limit: int, total: int) -> dict[str, str | None]:
    def link(new_offset: int) -> str:
        params = dict(request.query_params)
        params["offset"] = str(new_offset)
        return request.url.path + "?" + urlencode(params)

    return {
        "prev": link(max(0, offset - limit)) if offset > 0 else None,
        "next": link(offset + limit) if offset + limit < total else None,
    }


FILTER_LABELS = {"category": "category", "year_from": "from year", "year_to": "to year", "has_code": "has code"}


def drop_filter_links(request: Request) -> list[tuple[str, str]]:
    """("category cs.CL", URL of the same search without it) for each filter set: the empty state's way out."""
    params = {k: v for k, v in request.query_params.items() if k != "offset"}
    out = []
    for key, label in FILTER_LABELS.items():
        value = params.get(key)
        if value in (None, "", "false"):
            continue
        rest = {k: v for k, v in params.items() if k != key}
        out.append((f"{label} {value}" if key != "has_code" else label, "/search?" + urlencode(rest)))
    return out


def install(app: FastAPI) -> None:
    env = app.state.templates.env
    env.filters["short_date"] = short_date
    env.filters["category_code"] = category_code
    env.filters["plural"] = count  # not "count": that is Jinja's own alias of length
    env.filters["urlpart"] = lambda s: quote(str(s), safe="")
    env.globals["today"] = date.today
    env.filters["per_year_svg"] = per_year_svg

    @app.get("/", include_in_schema=False)
    async def home(request: Request, offset: int = Query(0, ge=0, le=10_000)):
        store = request.app.state.store

        def build():
            ids = queries.trending_ids(store, limit=PAGE_SIZE + 1, offset=offset)
            cards = queries.paper_cards(store.db, ids[:PAGE_SIZE])
            more = len(ids) > PAGE_SIZE
            return render(request, "home.html", {
                "papers": cards, "as_of": queries.trending_as_of(store), "offset": offset,
                "next": f"/?offset={offset + PAGE_SIZE}" if more else None,
                "prev": f"/?offset={max(0, offset - PAGE_SIZE)}" if offset else None,
                "digest": request.app.state.digest_router,
            })

        return await cached_response(request, build)

    @app.get("/c/{category}", include_in_schema=False)
    async def category_page(request: Request, category: str):
        store = request.app.state.store

        def build():
            newest = queries.newest_ids(store, category=category, limit=PAGE_SIZE)
            if not newest:
                raise not_found(f"No papers in the category {category}.")
            trending = queries.trending_ids(store, category=category, limit=10)
            return render(request, "category.html", {
                "category": category, "code": category_code(category),
                "trending": queries.paper_cards(store.db, trending),
                "newest": queries.paper_cards(store.db, newest),
            })

        return await cached_response(request, build)

    @app.get("/search", include_in_schema=False)
    async def search_page(request: Request, q: str = "", category: str | None = None, year_from: int | None = None,
                    year_to: int | None = None, has_code: bool = False, sort: str = "relevance",
                    offset: int = Query(0, ge=0, le=10_000)):
        store = request.app.state.store
        if q.strip() and " " not in q.strip():  # an id typed into the search box goes straight to its paper
            found_id = await run_in_threadpool(queries.find_paper, store, q)
            if found_id is not None:
                pid = await run_in_threadpool(store.db.scalar, "SELECT pid FROM papers WHERE id = ?", (found_id,))
                return RedirectResponse(f"/paper/{pid}", status_code=303)

        def build():
            filters = {"category": category, "year_from": year_from, "year_to": year_to, "has_code": has_code}
            found = queries.search(store, q, limit=PAGE_SIZE, offset=offset, filters=filters, sort=sort,
                                   facets=True) if q.strip() else None
            links = page_links(request, offset, PAGE_SIZE, found["total"]) if found else {}
            facet_links = {}
            if found:
                for facet, values in (found.get("facets") or {}).items():
                    if facet not in ("category", "year"):
                        continue
                    facet_links[facet] = []
                    for value, count in list(values.items())[:15]:
                        params = {k: v for k, v in request.query_params.items() if k != "offset"}
                        if facet == "category":
                            params["category"] = value
                        else:
                            params["year_from"] = params["year_to"] = value
                        facet_links[facet].append((value, count, "/search?" + urlencode(params)))
            people = matching_people(store, q) if q.strip() and offset == 0 else []
            return render(request, "search.html", {
                "q": q, "found": found, "links": links, "facets": facet_links, "offset": offset, "sort": sort,
                "filters": filters, "feed": "/search/feed.atom?" + urlencode({"q": q}) if q else None,
                "people": people, "people_more": "/authors?" + urlencode({"q": q}),
                "drop_filters": drop_filter_links(request), "suggestions": [
                    (s, "/search?" + urlencode({**{k: v for k, v in request.query_params.items()
                                                    if k not in ("q", "offset")}, "q": s}))
                    for s in (found or {}).get("suggestions", [])],
            })

        return await cached_response(request, build)

    @app.get("/paper/{ref:path}/bibtex", include_in_schema=False)
    async def paper_bibtex(request: Request, ref: str):
        store = request.app.state.store

        def build():
            paper_id = queries.find_paper(store, ref)
            page = queries.paper_page(store, paper_id, list_limit=0) if paper_id is not None else None
            if page is None:
                raise not_found(f"No paper with the id {ref}.")
            return bibtex(page["paper"]).encode(), "text/plain; charset=utf-8"

        return await cached_response(request, build)

    @app.get("/paper/{ref:path}", include_in_schema=False)
    async def paper(request: Request, ref: str):
        store = request.app.state.store
        if ref.endswith("/bibtex"):
            return await paper_bibtex(request, ref.removesuffix("/bibtex"))

        def build():
            paper_id = queries.find_paper(store, ref)
            page = queries.paper_page(store, paper_id) if paper_id is not None else None
            if page is None:
                raise not_found(f"No paper with the id {ref}.")
            page["bibtex"] = bibtex(page["paper"])
            return render(request, "paper.html", page)

        return await cached_response(request, build)

    @app.get("/author/{ref}/feed.atom", include_in_schema=False)
    async def author_feed(request: Request, ref: str):
        store = request.app.state.store

        def build():
            identity = queries.find_author(store, ref)
            page = queries.author_page(store, identity, sort="date", limit=50) if identity is not None else None
            if page is None:
                raise not_found(f"No author with the id {ref}.")
            return render(request, "feed.atom", {
                "title": f"{page['person']['name']}: papers", "self": str(request.url),
                "alternate": f"/author/{page['person']['aid']}", "papers": page["papers"],
            }, ATOM)

        return await cached_response(request, build)

    @app.get("/author/{ref}", include_in_schema=False)
    async def author(request: Request, ref: str, sort: str = "date", offset: int = Query(0, ge=0, le=100_000)):
        store = request.app.state.store

        def build():
            identity = queries.find_author(store, ref)
            page = queries.author_page(store, identity, sort=sort, limit=100, offset=offset) \
                if identity is not None else None
            if page is None:
                raise not_found(f"No author with the id {ref}.")
            page["links"] = page_links(request, offset, 100, page["total"])
            return render(request, "author.html", page)

        return await cached_response(request, build)

    @app.get("/authors", include_in_schema=False)
    async def authors_page(request: Request, q: str = ""):
        store = request.app.state.store

        def build():
            people = matching_people(store, q, limit=50, strong_only=False) if q.strip() else []
            return render(request, "authors.html", {"q": q, "people": people})

        return await cached_response(request, build)

    @app.get("/name/{name}", include_in_schema=False)
    async def name_cluster(request: Request, name: str, offset: int = Query(0, ge=0, le=100_000)):
        store = request.app.state.store

        def build():
            page = queries.name_cluster_page(store, name, offset=offset)
            if page is None:
                raise not_found(f"No author is named {name}.")
            page["links"] = page_links(request, offset, page["limit"], page["paper_count"])
            return render(request, "name.html", page)

        return await cached_response(request, build)

    @app.get("/feed/trending.atom", include_in_schema=False)
    async def trending_feed(request: Request, category: str | None = None):
        store = request.app.state.store

        def build():
            ids = queries.trending_ids(store, category=category, limit=30)
            return render(request, "feed.atom", {
                "title": "PaperAtlas: trending papers" + (f" in {category}" if category else ""),
                "self": str(request.url), "alternate": f"/c/{category}" if category else "/",
                "papers": queries.paper_cards(store.db, ids),
            }, ATOM)

        return await cached_response(request, build)

    @app.get("/feed/trending.rss", include_in_schema=False)
    async def trending_rss(request: Request):
        return RedirectResponse("/feed/trending.atom", status_code=301)

    @app.get("/search/feed.atom", include_in_schema=False)
    async def search_feed(request: Request, q: str = ""):
        store = request.app.state.store

        def build():
            found = queries.search(store, q, limit=30, sort="date") if q.strip() else {"results": []}
            return render(request, "feed.atom", {
                "title": f"PaperAtlas: {q}", "self": str(request.url),
                "alternate": "/search?" + urlencode({"q": q}), "papers": found["results"],
            }, ATOM)

        return await cached_response(request, build)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request):
        paths = request.app.openapi().get("paths", {})
        routes = [{"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                   "params": [p["name"] for p in op.get("parameters", [])]}
                  for path, ops in paths.items() for method, op in ops.items()]
        return await cached_response(request, lambda: render(request, "docs.html", {"routes": routes}))

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"ok": True}
