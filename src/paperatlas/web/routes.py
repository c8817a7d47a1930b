"""The HTML pages and Atom feeds.  Handlers are plain (sync) functions: FastAPI runs them in its thread pool, and
the store hands each thread its own SQLite connection.

Each handler resolves its id (404 page when unknown), asks :mod:`.queries` for a plain dict and renders a template;
:func:`.caching.cached_response` adds ETag / Last-Modified and keeps the rendered body for the next visitor.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..metrics import trending
from ..readers.claims import verified_profile
from ..readers.votes import vote_count, vote_counts
from . import lists, queries
from .caching import cached_response
from .chart import per_year_svg
from .feeds import feed_context
from .format import bibtex, category_code, count, long_date, short_date
from .links import paper_links
from .mathml import tex_html
from .people import matching_people
from .taxonomy import category_name, category_title

PAGE_SIZE = 20
AUTHOR_PAGE = 25  # papers per author page: a prolific author's list is paged, not one 17,000-px page
FAVICON = Path(__file__).parent / "static" / "favicon.svg"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
FEED_TYPES = {"atom": ATOM, "rss": RSS}
HTML = "text/html; charset=utf-8"


def render(request: Request, template: str, context: dict, media_type: str = HTML) -> tuple[bytes, str]:
    env = request.app.state.templates.env
    body = env.get_template(template).render({"request": request, **context})
    return body.encode("utf-8"), media_type


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=what)


def feed_template(kind: str) -> str:
    """``feed.atom`` or ``feed.rss``; any other suffix is a page that does not exist."""
    if kind not in FEED_TYPES:
        raise not_found(f"No feed of the kind {kind}: feeds end in .atom or .rss.")
    return f"feed.{kind}"


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


def docs_samples(store) -> dict[str, str]:
    """Real values from this store for the /docs examples, so that every example answers (none when empty)."""
    db = store.db
    pid = db.scalar("SELECT pid FROM papers ORDER BY submitted DESC LIMIT 1") or "p0000000000"
    arxiv = db.scalar("SELECT value FROM paper_ids WHERE scheme = 'arxiv' LIMIT 1")
    row = db.query_tuples("SELECT i.aid, i.name FROM identities i JOIN authorships a ON a.identity_id = i.id "
                          "LIMIT 1")
    aid, name = row[0] if row else ("a0000000000", "Ada Lovelace")
    word = (db.scalar("SELECT title FROM papers ORDER BY submitted DESC LIMIT 1") or "learning").split()[0]
    category = db.scalar("SELECT primary_category FROM papers WHERE primary_category IS NOT NULL LIMIT 1") or "cs.CL"
    return {"pid": f"arxiv:{arxiv}" if arxiv else pid, "aid": aid, "name": name, "q": word, "category": category}


def docs_example(path: str, method: str, sample: dict[str, str]) -> str | None:
    """An example request for one API route: its path parameters and required query filled with real values."""
    if method.lower() != "get" or path.startswith("/api/me"):  # a reader's own data needs a token: see below
        return None
    example = path.replace("{ref}", sample["aid"] if path.startswith("/api/authors/") else sample["pid"])
    example = example.replace("{name}", quote(sample["name"], safe=""))
    if path == "/api/authors":
        example += "?" + urlencode({"name": sample["name"]})
    elif path == "/api/search":
        example += "?" + urlencode({"q": sample["q"], "limit": 5})
    elif path == "/api/trending":
        example += "?" + urlencode({"category": sample["category"], "limit": 5})
    return example


def install(app: FastAPI) -> None:
    env = app.state.templates.env
    env.filters["short_date"] = short_date
    env.filters["long_date"] = long_date
    env.filters["category_code"] = category_code
    env.filters["plural"] = count  # not "count": that is Jinja's own alias of length
    env.filters["urlpart"] = lambda s: quote(str(s), safe="")
    env.globals["today"] = date.today
    env.filters["per_year_svg"] = per_year_svg
    env.filters["tex"] = tex_html
    env.filters["category_name"] = category_name
    env.filters["category_title"] = category_title

    @app.get("/", include_in_schema=False)
    async def home(request: Request, offset: int = Query(0, ge=0, le=10_000)):
        store = request.app.state.store

        def build():
            total = lists.trending_total(store)
            if total:
                ranked = lists.trending_ranked(store, limit=PAGE_SIZE + 1, offset=offset)
                shown = [r[0] for r in ranked[:PAGE_SIZE]]
                cards = lists.trending_cards(store, ranked, queries.paper_cards(store.db, shown))
                more = len(ranked) > PAGE_SIZE
            else:  # nothing submitted in the window (an old corpus, a DBLP-only store): the newest, said so
                ids = lists.newest(store, limit=PAGE_SIZE + 1, offset=offset)
                cards = queries.paper_cards(store.db, ids[:PAGE_SIZE])
                more = len(ids) > PAGE_SIZE
            counted = vote_counts(store.db, [c["id"] for c in cards])
            for c in cards:
                c["votes"] = counted.get(c["id"], 0)
            return render(request, "home.html", {
                "papers": cards, "as_of": lists.as_of(store), "offset": offset, "rank_from": offset + 1,
                "newest_instead": not total,
                "total": total, "window_days": trending.WINDOW_DAYS, "half_life": trending.HALF_LIFE_DAYS,
                "empty_store": not cards and store.db.scalar("SELECT 1 FROM papers LIMIT 1") is None,
                "next": f"/?offset={offset + PAGE_SIZE}" if more else None,
                "prev": f"/?offset={max(0, min(offset, max(total, PAGE_SIZE)) - PAGE_SIZE)}" if offset else None,
                "digest": True,
            })

        return await cached_response(request, build)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return FileResponse(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/authors", include_in_schema=False)
    async def authors(request: Request, q: str = Query("", max_length=200), name: str = Query("", max_length=200)):
        """People named like ``q`` (``name`` is its older spelling), each with what tells them apart; without a
        query, the most prolific authors here."""
        store = request.app.state.store
        typed = (q or name).strip()

        def build():
            if typed:
                people = matching_people(store, typed, limit=50, strong_only=False)
                return render(request, "authors.html", {"name": typed, "people": people, "found": []})
            return render(request, "authors.html", {"name": "", "people": [], "found": lists.top_authors(store)})

        return await cached_response(request, build)

    @app.get("/c", include_in_schema=False)
    async def categories(request: Request):
        store = request.app.state.store
        return await cached_response(request, lambda: render(request, "categories.html", {
            "categories": lists.category_index(store)}))

    @app.get("/c/{category}", include_in_schema=False)
    async def category_page(request: Request, category: str):
        store = request.app.state.store

        def build():
            version, _ = request.app.state.data_version.get()
            newest = request.app.state.memo.get(  # the same for every URL of this category (?offset=...)
                version, ("newest_in_category", category, PAGE_SIZE),
                lambda: tuple(lists.newest_in_category(store, category, limit=PAGE_SIZE)))
            if not newest:
                raise not_found(f"No papers in the category {category_title(category)}.")
            crossed = {pid for pid, is_cross in newest if is_cross}
            ranked = lists.trending_ranked(store, category=category, limit=10)
            trending_cards = lists.trending_cards(store, ranked, queries.paper_cards(store.db, [r[0] for r in ranked]))
            newest_cards = queries.paper_cards(store.db, [pid for pid, _ in newest])
            for card in (*trending_cards, *newest_cards):
                card["cross_listed"] = card["primary_category"] != category
            return render(request, "category.html", {
                "category": category, "code": category_code(category), "name": category_name(category),
                "trending": trending_cards, "newest": newest_cards, "cross_listed": len(crossed),
                "as_of": lists.as_of(store), "trending_total": lists.trending_total(store, category),
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
            page["links"] = paper_links(page["paper"]["ids"], page["paper"]["code_links"])
            page["votes"] = vote_count(store.db, paper_id)
            return render(request, "paper.html", page)

        return await cached_response(request, build)

    @app.get("/author/{ref}/feed.{kind}", include_in_schema=False)
    async def author_feed(request: Request, ref: str, kind: str):
        store = request.app.state.store
        template = feed_template(kind)

        def build():
            identity = queries.find_author(store, ref)
            page = queries.author_page(store, identity, sort="date", limit=50) if identity is not None else None
            if page is None:
                raise not_found(f"No author with the id {ref}.")
            name = page["person"]["name"]
            return render(request, template, feed_context(
                request, f"{name}: papers", f"/author/{page['person']['aid']}", page["papers"],
                f"The newest papers of {name} on PaperAtlas."), FEED_TYPES[kind])

        return await cached_response(request, build)

    @app.get("/author/{ref}", include_in_schema=False)
    async def author(request: Request, ref: str, sort: str = "date", offset: int = Query(0, ge=0, le=100_000)):
        store = request.app.state.store

        def build():
            identity = queries.find_author(store, ref)
            page = queries.author_page(store, identity, sort=sort, limit=AUTHOR_PAGE, offset=offset) \
                if identity is not None else None
            if page is None:
                raise not_found(f"No author with the id {ref}.")
            page["links"] = page_links(request, offset, AUTHOR_PAGE, page["total"])
            page["verified"] = verified_profile(store.db, page["person"]["aid"])
            return render(request, "author.html", page)

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

    @app.get("/feed/trending.{kind}", include_in_schema=False)
    async def trending_feed(request: Request, kind: str, category: str | None = None):
        store = request.app.state.store
        template = feed_template(kind)

        def build():
            ids = [r[0] for r in lists.trending_ranked(store, category=category, limit=30)]
            where = f" in {category_title(category)}" if category else ""
            return render(request, template, feed_context(
                request, f"PaperAtlas: trending papers{where}", f"/c/{category}" if category else "/",
                queries.paper_cards(store.db, ids), f"The 30 most trending papers{where}, most trending first."),
                FEED_TYPES[kind])

        return await cached_response(request, build)

    @app.get("/search/feed.{kind}", include_in_schema=False)
    async def search_feed(request: Request, kind: str, q: str = ""):
        store = request.app.state.store
        template = feed_template(kind)

        def build():
            found = (queries.search(store, q, limit=30, sort="date", snippets=False) if q.strip()
                     else {"results": []})
            return render(request, template, feed_context(
                request, f"PaperAtlas: {q}", "/search?" + urlencode({"q": q}), found["results"],
                f"The newest papers matching {q!r}."), FEED_TYPES[kind])

        return await cached_response(request, build)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request):
        paths = request.app.openapi().get("paths", {})
        store = request.app.state.store

        def build():
            sample = docs_samples(store)
            routes = [{"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                       "params": [p["name"] for p in op.get("parameters", [])],
                       "example": docs_example(path, method, sample)}
                      for path, ops in paths.items() for method, op in ops.items()]
            return render(request, "docs.html", {"routes": routes, "base": str(request.base_url).rstrip("/")})

        return await cached_response(request, build)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"ok": True}
