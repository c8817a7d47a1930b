"""The reader's pages and buttons: upvote, save into a collection, library and its exports, follow, the
"Following" and "Daily papers" pages, and claiming / managing an author profile.

Buttons on cached pages post here; every handler checks the sign-in first (anonymous -> sign-in page that comes
back), then the CSRF token (a form without it gets a confirmation page carrying one, so a visitor without
JavaScript still gets there in one more click, and another site's form never does anything).
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..readers import claims, export, follows, library, votes
from ..readers.common import NotFound, RateLimited, ReaderError
from . import queries
from .feeds import feed_context
from .foryou_pages import retrain_after
from .readers_web import client_of, csrf_ok, current, message, page, redirect, store_of, to_signin

router = APIRouter(include_in_schema=False)


def _confirm(request: Request, action: str, fields: dict[str, str], what: str) -> HTMLResponse:
    """The no-JavaScript (or expired-token) path: one more click on a form of our own that carries the token."""
    return page(request, "reader_confirm.html", 403, action=action, fields=fields, what=what)


def _paper(request: Request, ref: str) -> tuple[int, str] | None:
    store = store_of(request)
    found = queries.find_paper(store, ref)
    if found is None:
        return None
    return found, str(store.db.scalar("SELECT pid FROM papers WHERE id = ?", (found,)))


def _back(next_path: str, default: str) -> str:
    return next_path or default


# -- upvotes ---------------------------------------------------------------------------------------------------

@router.post("/paper/{ref:path}/vote")
def vote(request: Request, ref: str, tasks: BackgroundTasks, csrf: str = Form(""), action: str = Form("up"),
         next: str = Form("")) -> Response:
    found = _paper(request, ref)
    if found is None:
        return message(request, "Not found", f"No paper with the id {ref}.", 404)
    paper_id, pid = found
    back = _back(next, f"/paper/{pid}")
    session = current(request)
    if session is None:
        return to_signin(request, back)
    if not csrf_ok(request, csrf):
        return _confirm(request, f"/paper/{pid}/vote", {"action": action, "next": back},
                        "Remove your upvote of this paper?" if action == "clear" else "Upvote this paper?")
    db = store_of(request).db
    try:
        if action == "clear":
            votes.unvote(db, session.account.id, paper_id)
        else:
            votes.upvote(db, session.account.id, paper_id, client=client_of(request))
    except RateLimited as exc:
        return message(request, "Too many votes", str(exc), 429)
    retrain_after(request, tasks)
    return redirect(request, back)


@router.get("/daily", response_class=HTMLResponse)
def daily(request: Request, date_: str | None = Query(None, alias="date"), offset: int = Query(0, ge=0, le=10_000)
          ) -> HTMLResponse:
    """Papers first submitted on one day, most upvoted first (default: the feed's as-of day)."""
    store = store_of(request)
    try:
        if date_:
            day = date.fromisoformat(date_)
        else:
            as_of = queries.trending_as_of(store)
            day = date.fromisoformat(str(as_of)[:10]) if as_of else date.today()
    except ValueError:
        return message(request, "Bad date", "Give the date as YYYY-MM-DD.", 400)
    ranked = votes.daily(store.db, day, limit=30, offset=offset)
    cards = queries.paper_cards(store.db, [pid for pid, _ in ranked])
    counts = dict(ranked)
    return page(request, "daily.html", day=day, papers=cards, counts=counts,
                prev_day=(day - timedelta(days=1)).isoformat(), next_day=(day + timedelta(days=1)).isoformat(),
                offset=offset, more=len(ranked) == 30)


# -- library ---------------------------------------------------------------------------------------------------

@router.post("/paper/{ref:path}/save")
def save(request: Request, ref: str, tasks: BackgroundTasks, csrf: str = Form(""), collection: str = Form(""),
         new_name: str = Form(""), next: str = Form("")) -> Response:
    found = _paper(request, ref)
    if found is None:
        return message(request, "Not found", f"No paper with the id {ref}.", 404)
    paper_id, pid = found
    back = _back(next, f"/paper/{pid}")
    session = current(request)
    if session is None:
        return to_signin(request, back)
    if not csrf_ok(request, csrf):
        return _confirm(request, f"/paper/{pid}/save", {"collection": collection, "next": back},
                        "Save this paper to your library?")
    db = store_of(request).db
    try:
        target = None
        if new_name.strip():
            target = library.create_collection(db, session.account.id, new_name).id
        elif collection.strip():
            target = int(collection) if collection.strip().isdigit() else -1
        library.save(db, session.account.id, paper_id, target)
    except NotFound:
        return message(request, "Not found", "No such collection.", 404)
    except ReaderError as exc:
        return message(request, "Could not save", str(exc), 400)
    retrain_after(request, tasks)
    return redirect(request, back)


@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request) -> Response:
    session = current(request)
    if session is None:
        return to_signin(request)
    return page(request, "library.html", collections=library.collections_of(store_of(request).db,
                                                                             session.account.id))


@router.post("/library")
def library_create(request: Request, name: str = Form(""), csrf: str = Form("")) -> Response:
    session = current(request)
    if session is None:
        return to_signin(request, "/library")
    if not csrf_ok(request, csrf):
        return _confirm(request, "/library", {"name": name}, f"Create the collection {name!r}?")
    try:
        made = library.create_collection(store_of(request).db, session.account.id, name)
    except ReaderError as exc:
        return message(request, "Could not create it", str(exc), 400)
    return redirect(request, f"/library/{made.id}")


def _own(request: Request, collection_id: int) -> library.Collection | Response:
    session = current(request)
    if session is None:
        return to_signin(request)
    try:
        return library.get_collection(store_of(request).db, session.account.id, collection_id)
    except NotFound:
        return message(request, "Not found", "No such collection.", 404)


@router.get("/library/{collection_id}", response_class=HTMLResponse)
def collection_page(request: Request, collection_id: int) -> Response:
    found = _own(request, collection_id)
    if isinstance(found, Response):
        return found
    db = store_of(request).db
    cards = queries.paper_cards(db, library.paper_ids(db, found.id))
    share = str(request.base_url).rstrip("/") + f"/shared/{found.share_token}" if found.share_token else None
    return page(request, "collection.html", collection=found, papers=cards, share_url=share, owner=True,
                export_base=f"/library/{found.id}/export")


@router.post("/library/{collection_id}/{verb}")
def collection_change(request: Request, collection_id: int, verb: str, tasks: BackgroundTasks,
                      csrf: str = Form(""), paper: str = Form(""), shared: str = Form("")) -> Response:
    found = _own(request, collection_id)
    if isinstance(found, Response):
        return found
    if verb not in ("share", "remove", "delete"):
        return message(request, "Not found", "There is no page at this address.", 404)
    if not csrf_ok(request, csrf):
        return _confirm(request, f"/library/{collection_id}/{verb}", {"paper": paper, "shared": shared},
                        f"{verb.capitalize()} in the collection {found.name!r}?")
    db = store_of(request).db
    session = current(request)
    assert session is not None
    retrain_after(request, tasks)
    if verb == "share":
        library.set_shared(db, session.account.id, found.id, shared == "1")
    elif verb == "remove":
        target = _paper(request, paper)
        if target is not None:
            library.remove(db, session.account.id, found.id, target[0])
    else:
        library.delete_collection(db, session.account.id, found.id)
        return redirect(request, "/library")
    return redirect(request, f"/library/{found.id}")


def _export(request: Request, collection: library.Collection, fmt: str) -> Response:
    if fmt not in export.FORMATS:
        return message(request, "Not found", f"Export as {', '.join(export.FORMATS)}.", 404)
    db = store_of(request).db
    media, ext = export.FORMATS[fmt]
    body = export.export(db, library.paper_ids(db, collection.id), fmt)
    name = "".join(c if c.isalnum() else "-" for c in collection.name).strip("-") or "collection"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{name}.{ext}\"", "Cache-Control": "no-store"})


@router.get("/library/{collection_id}/export.{fmt}")
def collection_export(request: Request, collection_id: int, fmt: str) -> Response:
    found = _own(request, collection_id)
    return found if isinstance(found, Response) else _export(request, found, fmt)


def _shared(request: Request, token: str) -> library.Collection | None:
    try:
        return library.shared_collection(store_of(request).db, token)
    except NotFound:
        return None


@router.get("/shared/{token}", response_class=HTMLResponse)
def shared_page(request: Request, token: str) -> HTMLResponse:
    found = _shared(request, token)
    if found is None:
        return message(request, "Not found", "This collection is not shared (any more).", 404)
    db = store_of(request).db
    return page(request, "collection.html", collection=found, owner=False, share_url=None,
                papers=queries.paper_cards(db, library.paper_ids(db, found.id)),
                export_base=f"/shared/{token}/export", feed=f"/shared/{token}/feed.atom")


@router.get("/shared/{token}/export.{fmt}")
def shared_export(request: Request, token: str, fmt: str) -> Response:
    found = _shared(request, token)
    if found is None:
        return message(request, "Not found", "This collection is not shared (any more).", 404)
    return _export(request, found, fmt)


@router.get("/shared/{token}/feed.atom")
def shared_feed(request: Request, token: str) -> Response:
    found = _shared(request, token)
    if found is None:
        return message(request, "Not found", "This collection is not shared (any more).", 404)
    db = store_of(request).db
    env = request.app.state.templates.env
    body = env.get_template("feed.atom").render({"request": request, **feed_context(
        request, f"PaperAtlas collection: {found.name}", f"/shared/{token}",
        queries.paper_cards(db, library.paper_ids(db, found.id)),
        f"The papers of the shared collection {found.name!r}, newest addition first.")})
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": "no-store"})


# -- follows ---------------------------------------------------------------------------------------------------

@router.post("/follow")
def follow(request: Request, tasks: BackgroundTasks, kind: str = Form(""), value: str = Form(""),
           action: str = Form("follow"), csrf: str = Form(""), next: str = Form("")) -> Response:
    back = _back(next, "/following")
    session = current(request)
    if session is None:
        return to_signin(request, back)
    if not csrf_ok(request, csrf):
        return _confirm(request, "/follow", {"kind": kind, "value": value, "action": action, "next": back},
                        f"{'Stop following' if action == 'unfollow' else 'Follow'} {value}?")
    db = store_of(request).db
    try:
        follows.require_kind(kind)
        if action == "unfollow":
            follows.unfollow(db, session.account.id, kind, value)
        else:
            follows.follow(db, session.account.id, kind, value)
    except NotFound as exc:
        return message(request, "Not found", f"{str(exc)[:1].upper()}{str(exc)[1:]}.", 404)
    except ReaderError as exc:
        return message(request, "Could not follow", str(exc), 400)
    retrain_after(request, tasks)
    return redirect(request, back)


@router.get("/following", response_class=HTMLResponse)
def following(request: Request) -> Response:
    session = current(request)
    if session is None:
        return to_signin(request)
    store = store_of(request)
    mine = follows.follows_of(store.db, session.account.id)
    ids = follows.followed_paper_ids(store.db, session.account.id, limit=40)
    for f in mine:
        if f.kind == "query":
            found = queries.search(store, f.value, limit=10, sort="date", snippets=False)
            ids += [r["id"] for r in found.get("results", []) if "id" in r and r["id"] not in ids]
    alerts = follows.citation_alerts(store.db, session.account.id)
    cards = {c["id"]: c for c in queries.paper_cards(store.db, sorted({a["citing_id"] for a in alerts}
                                                                      | {a["cited_id"] for a in alerts}))}
    names = dict(store.db.query_tuples("SELECT aid, name FROM identities WHERE aid IN (SELECT value FROM "
                                       "reader_follows WHERE account_id = ? AND kind = 'author')",
                                       (session.account.id,)))
    return page(request, "following.html", follows=mine, names=names,
                papers=queries.paper_cards(store.db, ids[:60]),
                alerts=[{"citing": cards.get(a["citing_id"]), "cited": cards.get(a["cited_id"])} for a in alerts])


# -- claims ----------------------------------------------------------------------------------------------------

def _aid(request: Request, ref: str) -> str | None:
    store = store_of(request)
    found = queries.find_author(store, ref)
    return str(store.db.scalar("SELECT aid FROM identities WHERE id = ?", (found,))) if found is not None else None


@router.post("/author/{ref}/claim")
def claim(request: Request, ref: str, csrf: str = Form("")) -> Response:
    aid = _aid(request, ref)
    if aid is None:
        return message(request, "Not found", f"No author with the id {ref}.", 404)
    session = current(request)
    if session is None:
        return to_signin(request, f"/author/{aid}")
    if not csrf_ok(request, csrf):
        return _confirm(request, f"/author/{aid}/claim", {}, "Claim this profile as yours?")
    try:
        made = claims.request_claim(store_of(request).db, session.account, aid)
    except ReaderError as exc:
        return message(request, "Could not claim this profile", str(exc), 409)
    if made.status == "approved":
        return redirect(request, f"/author/{aid}/manage")
    return message(request, "Claim received",
                   "Your e-mail address does not match an affiliation on this profile's papers, so an operator "
                   "will check the claim. You can follow its state on your account page.",
                   links=[("Your account", "/account"), ("Back to the profile", f"/author/{aid}")])


@router.get("/author/{ref}/manage", response_class=HTMLResponse)
def manage(request: Request, ref: str, error: str | None = None, done: str | None = None) -> Response:
    aid = _aid(request, ref)
    if aid is None:
        return message(request, "Not found", f"No author with the id {ref}.", 404)
    session = current(request)
    if session is None:
        return to_signin(request)
    store = store_of(request)
    if claims.owner(store.db, aid) != session.account.id:
        return message(request, "Not your profile", "You have no verified claim on this profile.", 403,
                       links=[("Back to the profile", f"/author/{aid}")])
    identity = queries.find_author(store, aid)
    mine = [int(p) for (p,) in store.db.query_tuples(
        "SELECT DISTINCT paper_id FROM authorships WHERE identity_id = ? ORDER BY paper_id DESC", (identity,))]
    name_key = store.db.scalar("SELECT name_key FROM identities WHERE aid = ?", (aid,))
    others = [int(p) for (p,) in store.db.query_tuples(
        "SELECT DISTINCT a.paper_id FROM authorships a WHERE a.name_key = ? AND (a.identity_id IS NULL OR "
        "a.identity_id <> ?) AND a.paper_id NOT IN (SELECT paper_id FROM authorships WHERE identity_id = ?) "
        "ORDER BY a.paper_id DESC LIMIT 100", (name_key, identity, identity))]
    person = store.db.query("SELECT aid, name FROM identities WHERE aid = ?", (aid,))[0]
    return page(request, "author_manage.html", 400 if error else 200, person=person,
                profile=claims.verified_profile(store.db, aid) or {},
                papers=queries.paper_cards(store.db, mine[:300]), candidates=queries.paper_cards(store.db, others),
                error=error, done=done)


@router.post("/author/{ref}/manage/{verb}")
def manage_change(request: Request, ref: str, verb: str, csrf: str = Form(""), paper: str = Form(""),
                  display_name: str = Form(""), affiliation: str = Form(""), homepage: str = Form("")
                  ) -> Response:
    aid = _aid(request, ref)
    if aid is None or verb not in ("remove", "add", "profile"):
        return message(request, "Not found", f"No author with the id {ref}.", 404)
    session = current(request)
    if session is None:
        return to_signin(request, f"/author/{aid}/manage")
    if not csrf_ok(request, csrf):
        return message(request, "Please try again", "The form did not come from this site.", 403,
                       links=[("Back", f"/author/{aid}/manage")])
    store = store_of(request)
    try:
        if verb == "remove":
            claims.remove_paper(store, session.account, aid, paper)
        elif verb == "add":
            claims.add_paper(store, session.account, aid, paper)
        else:
            claims.set_profile(store, session.account, aid, display_name=display_name, affiliation=affiliation,
                               homepage=homepage)
    except NotFound as exc:
        return message(request, "Not found", f"{str(exc)[:1].upper()}{str(exc)[1:]}.", 404)
    except ReaderError as exc:
        return manage(request, aid, error=str(exc))
    return redirect(request, f"/author/{aid}/manage?done={quote(verb)}")
