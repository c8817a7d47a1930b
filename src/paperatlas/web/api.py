"""The JSON API: the same dicts the pages render, paginated (limit/offset with a ``next`` link) and cacheable
(ETag / Last-Modified, 304 on If-None-Match).  FastAPI publishes the OpenAPI description at /openapi.json."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, HTTPException, Query, Request

from . import lists, queries
from .caching import cached_response

router = APIRouter(prefix="/api", tags=["api"])
JSON = "application/json"


def _json(data: Any) -> tuple[bytes, str]:
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS), JSON


def _page(request: Request, items: list, total: int | None, limit: int, offset: int) -> dict[str, Any]:
    more = (offset + limit < total) if total is not None else len(items) >= limit
    params = dict(request.query_params)
    params.update(limit=str(limit), offset=str(offset + limit))
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "next": f"{request.url.path}?{urlencode(params)}" if more else None,
        "items": items,
    }


def _public_card(card: dict[str, Any]) -> dict[str, Any]:
    """Internal row ids stay inside: the API speaks public ids (pid, aid) only."""
    out = {k: v for k, v in card.items() if k != "id"}
    out["authors"] = [{k: v for k, v in a.items() if k != "identity_id"} for a in card.get("authors", [])]
    out["url"] = f"/paper/{card['pid']}"
    return out


Limit = Query(20, ge=1, le=100)
Offset = Query(0, ge=0, le=100_000)


@router.get("/papers/{ref:path}", summary="A paper by PaperAtlas id or any source id (arxiv:..., doi:...)")
async def api_paper(request: Request, ref: str, limit: int = Limit, offset: int = Offset):
    store = request.app.state.store

    def build():
        paper_id = queries.find_paper(store, ref)
        page = queries.paper_page(store, paper_id, list_limit=limit + offset) if paper_id is not None else None
        if page is None:
            raise HTTPException(404, f"No paper with the id {ref}.")
        data = _public_card(page["paper"])
        data["cited_by"] = _page(request, [_public_card(c) for c in page["cited_by"][offset:]],
                                 page["cited_by_total"], limit, offset)
        data["references"] = [{"ref": r["ref"], "pid": r["paper"]["pid"] if r["paper"] else None}
                              for r in page["references"]]
        data["similar"] = [{"pid": c["pid"], "title": c["title"], "similarity": c.get("similarity")}
                           for c in page["similar"]]
        return _json(data)

    return await cached_response(request, build)


@router.get("/authors/{ref}", summary="An author identity: figures computed from its papers, and the papers")
async def api_author(request: Request, ref: str, sort: str = Query("date", pattern="^(date|citations|score)$"),
               limit: int = Limit, offset: int = Offset):
    store = request.app.state.store

    def build():
        identity = queries.find_author(store, ref)
        page = queries.author_page(store, identity, sort=sort, limit=limit, offset=offset) \
            if identity is not None else None
        if page is None:
            raise HTTPException(404, f"No author with the id {ref}.")
        person = page["person"]
        return _json({
            "aid": person["aid"], "name": person["name"], "orcid": person["orcid"], **page["figures"],
            "per_year": page["per_year"], "coauthors": page["coauthors"], "affiliations": page["affiliations"],
            "same_name": [dict(n, url=f"/author/{n['aid']}") for n in page["namesakes"]],
            "papers": _page(request, [_public_card(c) for c in page["papers"]], page["total"], limit, offset),
        })

    return await cached_response(request, build)


@router.get("/authors", summary="Author identities whose name matches")
async def api_authors(request: Request, name: str = Query(..., min_length=1), limit: int = Limit):
    store = request.app.state.store

    def build():
        found = queries.search_authors(store, name, limit=limit)
        items = []
        for person in found:
            item = {k: v for k, v in person.items() if k != "paper_ids"}
            item["url"] = f"/author/{person['id']}"
            items.append(item)
        return _json({"total": len(items), "limit": limit, "offset": 0, "next": None, "items": items})

    return await cached_response(request, build)


@router.get("/name-clusters/{name}", summary="Papers with an author of exactly this name (not an identity)")
async def api_name_cluster(request: Request, name: str, limit: int = Limit, offset: int = Offset):
    store = request.app.state.store

    def build():
        page = queries.name_cluster_page(store, name, limit=limit, offset=offset)
        if page is None:
            raise HTTPException(404, f"No author is named {name}.")
        return _json({
            "name": page["name"], "key": page["key"], "paper_count": page["paper_count"],
            "author_rows": page["author_rows"], "identities": page["identities"],
            "unassigned_authorships": page["unassigned"],
            "papers": _page(request, [_public_card(c) for c in page["papers"]], page["paper_count"], limit, offset),
        })

    return await cached_response(request, build)


@router.get("/search", summary="Paper search with filters and facets")
async def api_search(request: Request, q: str = Query(..., min_length=1), category: str | None = None,
               year_from: int | None = None, year_to: int | None = None, has_code: bool = False,
               sort: str = Query("relevance", pattern="^(relevance|date|citations|trending)$"),
               limit: int = Limit, offset: int = Offset,
               facets: bool = Query(False, description="Also count every match per category and year (costs more "
                                    "than the search itself on a large corpus)")):
    store = request.app.state.store

    def build():
        filters = {"category": category, "year_from": year_from, "year_to": year_to, "has_code": has_code}
        found = queries.search(store, q, limit=limit, offset=offset, filters=filters, sort=sort, facets=facets)
        data = _page(request, [_public_card(c) for c in found["results"]], found["total"], limit, offset)
        data.update(facets=found.get("facets"), message=found.get("message"), engine=found.get("engine"),
                    suggestions=found.get("suggestions", []))
        return _json(data)

    return await cached_response(request, build)


@router.get("/trending", summary="Trending papers, most trending first")
async def api_trending(request: Request, category: str | None = None, limit: int = Limit, offset: int = Offset):
    store = request.app.state.store

    def build():
        # the pages' order: the trending score each item carries (see web.lists.trending_ranked)
        ranked = lists.trending_ranked(store, category=category, limit=limit, offset=offset)
        cards = lists.trending_cards(store, ranked, queries.paper_cards(store.db, [r[0] for r in ranked]))
        return _json(_page(request, [_public_card(c) for c in cards], lists.trending_total(store, category),
                           limit, offset))

    return await cached_response(request, build)
