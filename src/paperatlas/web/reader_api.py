"""The JSON API for a reader's own votes, library and follows (``/api/me/...``), in the OpenAPI document.

Scripts authenticate with an API token (``Authorization: Bearer pat_...``, made on the account page).  A signed-in
browser may read with its session cookie, but writes need the token or, with the cookie, the session's CSRF token
in an ``X-CSRF-Token`` header: a cookie alone never changes anything, so another site cannot make a reader's
browser vote.  Answers are never cached (they are one reader's).
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Body, HTTPException, Request
from fastapi.responses import Response

from ..readers import accounts, export, follows, foryou, library, votes
from ..readers.accounts import Account
from ..readers.common import NotFound, RateLimited, ReaderError
from . import queries
from .foryou_pages import schedule_retrain
from .readers_web import client_of, current, store_of

router = APIRouter(prefix="/api/me", tags=["reader"])


def _reader(request: Request, write: bool) -> Account:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        account = accounts.account_for_api_token(store_of(request).db, header[7:].strip())
        if account is None:
            raise HTTPException(401, "invalid or revoked API token")
        return account
    session = current(request)
    if session is None:
        raise HTTPException(401, "sign in, or send an API token as 'Authorization: Bearer <token>'")
    if write and not hmac.compare_digest(request.headers.get("x-csrf-token", ""), session.csrf):
        raise HTTPException(403, "a write with the session cookie needs the X-CSRF-Token header")
    return session.account


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _paper_id(request: Request, ref: str) -> tuple[int, str]:
    store = store_of(request)
    found = queries.find_paper(store, ref)
    if found is None:
        raise HTTPException(404, f"no paper with the id {ref}")
    return found, str(store.db.scalar("SELECT pid FROM papers WHERE id = ?", (found,)))


def _pids(request: Request, ids: list[int]) -> list[str]:
    db = store_of(request).db
    return [str(db.scalar("SELECT pid FROM papers WHERE id = ?", (i,))) for i in ids]


def _errors(exc: ReaderError) -> HTTPException:
    if isinstance(exc, NotFound):
        return HTTPException(404, str(exc))
    if isinstance(exc, RateLimited):
        return HTTPException(429, str(exc))
    return HTTPException(400, str(exc))


@router.get("", summary="The signed-in reader (token or session)")
def me(request: Request) -> Response:
    return _json(_reader(request, write=False).as_dict())


@router.get("/votes", summary="Papers this reader upvoted (public ids, newest first)")
def my_votes(request: Request) -> Response:
    account = _reader(request, write=False)
    got = votes.votes_of(store_of(request).db, account.id)
    return _json({"items": [{"paper": pid, "vote": "up"} for pid in _pids(request, list(got))]})


@router.put("/votes/{ref:path}", summary="Upvote a paper (idempotent: one vote per reader and paper)")
def put_vote(request: Request, ref: str, tasks: BackgroundTasks) -> Response:
    account = _reader(request, write=True)
    schedule_retrain(request, tasks, account.id)
    paper_id, pid = _paper_id(request, ref)
    db = store_of(request).db
    try:
        votes.upvote(db, account.id, paper_id, client=client_of(request))
    except ReaderError as exc:
        raise _errors(exc) from None
    return _json({"paper": pid, "vote": "up", "votes": votes.vote_count(db, paper_id)})


@router.delete("/votes/{ref:path}", summary="Take back an upvote")
def delete_vote(request: Request, ref: str, tasks: BackgroundTasks) -> Response:
    account = _reader(request, write=True)
    schedule_retrain(request, tasks, account.id)
    paper_id, pid = _paper_id(request, ref)
    db = store_of(request).db
    votes.unvote(db, account.id, paper_id)
    return _json({"paper": pid, "vote": None, "votes": votes.vote_count(db, paper_id)})


@router.get("/collections", summary="This reader's collections")
def my_collections(request: Request) -> Response:
    account = _reader(request, write=False)
    return _json({"items": [c.as_dict() for c in library.collections_of(store_of(request).db, account.id)]})


@router.post("/collections", summary="Create a collection: body {\"name\": \"...\"}")
def new_collection(request: Request, body: dict[str, Any] = Body(...)) -> Response:
    account = _reader(request, write=True)
    try:
        made = library.create_collection(store_of(request).db, account.id, str(body.get("name", "")))
    except ReaderError as exc:
        raise _errors(exc) from None
    return _json(made.as_dict(), 201)


def _collection(request: Request, account: Account, collection_id: int) -> library.Collection:
    try:
        return library.get_collection(store_of(request).db, account.id, collection_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/collections/{collection_id}", summary="A collection and its papers (public ids)")
def one_collection(request: Request, collection_id: int) -> Response:
    account = _reader(request, write=False)
    found = _collection(request, account, collection_id)
    return _json({**found.as_dict(),
                  "items": _pids(request, library.paper_ids(store_of(request).db, found.id))})


@router.get("/collections/{collection_id}/export/{fmt}", summary="Export as bibtex, ris or csl-json")
def export_collection(request: Request, collection_id: int, fmt: str) -> Response:
    account = _reader(request, write=False)
    found = _collection(request, account, collection_id)
    if fmt not in export.FORMATS:
        raise HTTPException(404, f"export formats: {', '.join(export.FORMATS)}")
    db = store_of(request).db
    return Response(export.export(db, library.paper_ids(db, found.id), fmt), media_type=export.FORMATS[fmt][0],
                    headers={"Cache-Control": "no-store"})


@router.put("/collections/{collection_id}/papers/{ref:path}", summary="Add a paper to a collection")
def add_paper(request: Request, collection_id: int, ref: str, tasks: BackgroundTasks) -> Response:
    account = _reader(request, write=True)
    schedule_retrain(request, tasks, account.id)
    found = _collection(request, account, collection_id)
    paper_id, pid = _paper_id(request, ref)
    try:
        updated = library.save(store_of(request).db, account.id, paper_id, found.id)
    except ReaderError as exc:
        raise _errors(exc) from None
    return _json({**updated.as_dict(), "added": pid})


@router.delete("/collections/{collection_id}/papers/{ref:path}", summary="Remove a paper from a collection")
def remove_paper(request: Request, collection_id: int, ref: str, tasks: BackgroundTasks) -> Response:
    account = _reader(request, write=True)
    schedule_retrain(request, tasks, account.id)
    found = _collection(request, account, collection_id)
    paper_id, pid = _paper_id(request, ref)
    library.remove(store_of(request).db, account.id, found.id, paper_id)
    return _json({"removed": pid})


@router.get("/follows", summary="What this reader follows")
def my_follows(request: Request) -> Response:
    account = _reader(request, write=False)
    return _json({"items": [f.as_dict() for f in follows.follows_of(store_of(request).db, account.id)]})


@router.put("/follows/{kind}/{value:path}", summary="Follow an author (aid), a category or a search")
def put_follow(request: Request, kind: str, value: str, tasks: BackgroundTasks) -> Response:
    account = _reader(request, write=True)
    schedule_retrain(request, tasks, account.id)
    try:
        made = follows.follow(store_of(request).db, account.id, follows.require_kind(kind), value)
    except ReaderError as exc:
        raise _errors(exc) from None
    return _json(made.as_dict())


@router.delete("/follows/{kind}/{value:path}", summary="Stop following")
def delete_follow(request: Request, kind: str, value: str, tasks: BackgroundTasks) -> Response:
    account = _reader(request, write=True)
    schedule_retrain(request, tasks, account.id)
    try:
        gone = follows.unfollow(store_of(request).db, account.id, follows.require_kind(kind), value)
    except ReaderError as exc:
        raise _errors(exc) from None
    return _json({"kind": kind, "value": value, "removed": gone})


# -- recommendations ("For you") --------------------------------------------------------------------------------

@router.get("/for-you", summary="This reader's recommendations, best first, each with the reasons it was picked")
def my_recommendations(request: Request, limit: int = 30, offset: int = 0) -> Response:
    account = _reader(request, write=False)
    if not 1 <= limit <= foryou.KEEP or not 0 <= offset < foryou.KEEP:
        raise HTTPException(400, f"limit is 1-{foryou.KEEP} and offset 0-{foryou.KEEP - 1}")
    db = store_of(request).db
    try:
        items = foryou.recommendations(store_of(request), account.id, limit, offset)
    except LookupError as exc:
        raise HTTPException(503, str(exc)) from None
    given = foryou.feedback_of(db, account.id)
    return _json({"items": [{**i.as_dict(), "feedback": given.get(i.paper_id)} for i in items]})


@router.get("/for-you/feedback", summary="This reader's thumbs up/down on recommendations")
def my_feedback(request: Request) -> Response:
    account = _reader(request, write=False)
    given = foryou.feedback_of(store_of(request).db, account.id)
    ids = list(given)
    return _json({"items": [{"paper": pid, "feedback": given[i]}
                            for i, pid in zip(ids, _pids(request, ids), strict=True)]})


@router.put("/for-you/feedback/{ref:path}",
            summary='Thumbs up or down on a paper: body {"feedback": "up"} or {"feedback": "down"}')
def put_feedback(request: Request, ref: str, tasks: BackgroundTasks, body: dict[str, Any] = Body(...)) -> Response:
    account = _reader(request, write=True)
    paper_id, pid = _paper_id(request, ref)
    value = body.get("feedback")
    if value not in foryou.FEEDBACK:
        raise HTTPException(400, "feedback is 'up' or 'down'")
    try:
        foryou.give_feedback(store_of(request).db, account.id, paper_id, str(value))
    except ReaderError as exc:
        raise _errors(exc) from None
    schedule_retrain(request, tasks, account.id)
    return _json({"paper": pid, "feedback": value})


@router.delete("/for-you/feedback/{ref:path}", summary="Take back a thumbs up or down")
def delete_feedback(request: Request, ref: str, tasks: BackgroundTasks) -> Response:
    account = _reader(request, write=True)
    paper_id, pid = _paper_id(request, ref)
    gone = foryou.give_feedback(store_of(request).db, account.id, paper_id, "clear")
    schedule_retrain(request, tasks, account.id)
    return _json({"paper": pid, "feedback": None, "removed": gone})
