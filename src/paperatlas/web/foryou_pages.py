"""The "For you" page (``/for-you``) and its thumbs up/down buttons.

The list is the reader's precomputed one (``readers/foryou.py``), so the page costs a few indexed reads.  Thumbs
are forms like the other reader buttons: signed-in only, the session's CSRF token required (without it the
confirmation page carries one, so another site's form never records anything).  After a thumbs (and after any
vote, save or follow: see ``retrain_after``) the reader's list is retrained in a background task once the answer
is sent, so the next page is both fresh and fast; a page that finds the list stale retrains it first anyway.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response

from ..readers import foryou
from ..readers.common import NotFound, ReaderError
from . import queries
from .readers_web import csrf_ok, current, message, page, redirect, store_of

router = APIRouter(include_in_schema=False)
HIDDEN_SHOWN = 100


def schedule_retrain(request: Request, tasks: BackgroundTasks, account_id: int) -> None:
    """Retrain the reader after the answer is sent (callers have just recorded an action of theirs)."""
    tasks.add_task(foryou.retrain_if_stale, store_of(request), account_id)


def retrain_after(request: Request, tasks: BackgroundTasks) -> None:
    """:func:`schedule_retrain` for the signed-in reader of a page request (nothing for an anonymous one)."""
    session = current(request)
    if session is not None:
        schedule_retrain(request, tasks, session.account.id)


@router.get("/for-you", response_class=HTMLResponse)
def for_you(request: Request) -> Response:
    session = current(request)
    if session is None:
        return page(request, "for_you.html", signed_in=False, items=[], feedback={})
    store = store_of(request)
    try:
        items = foryou.recommendations(store, session.account.id)
    except LookupError as exc:
        return message(request, "Recommendations are not ready", f"{exc}.", 503)
    cards = {c["id"]: c for c in queries.paper_cards(store.db, [i.paper_id for i in items])}
    profile = foryou.profile_of(store.db, session.account.id)
    given = foryou.feedback_of(store.db, session.account.id)
    # Thumbs-down papers leave the list: they are listed below it, so a reader can take one back.
    hidden = queries.paper_cards(store.db, sorted(p for p, v in given.items() if v == "down")[:HIDDEN_SHOWN])
    return page(request, "for_you.html", signed_in=True, cold=profile.empty,
                items=[(i, cards[i.paper_id]) for i in items if i.paper_id in cards], feedback=given,
                hidden=hidden)


@router.post("/for-you/feedback")
def feedback(request: Request, tasks: BackgroundTasks, paper: str = Form(""), value: str = Form(""),
             csrf: str = Form("")) -> Response:
    session = current(request)
    if session is None:
        return page(request, "for_you.html", 401, signed_in=False, items=[], feedback={})
    store = store_of(request)
    found = queries.find_paper(store, paper) if paper else None
    if found is None:
        return message(request, "Not found", f"No paper with the id {paper}.", 404)
    if not csrf_ok(request, csrf):
        return page(request, "reader_confirm.html", 403, action="/for-you/feedback",
                    fields={"paper": paper, "value": value},
                    what="Tell us this paper is relevant?" if value == "up" else "Hide this paper and others like it?"
                    if value == "down" else "Take back your feedback?")
    try:
        foryou.give_feedback(store.db, session.account.id, found, value)
    except NotFound:
        return message(request, "Not found", f"No paper with the id {paper}.", 404)
    except ReaderError as exc:
        return message(request, "Could not record that", str(exc), 400)
    retrain_after(request, tasks)
    return redirect(request, "/for-you")
