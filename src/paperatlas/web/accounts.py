"""Sign in by e-mail link, sign out (here or everywhere), the account page, API tokens and the demo's outbox.

The sign-in form answers the same page whatever the address (registered or not, limited or not); only a client
that asks too often gets "too many requests".  The link in the mail opens a page with a button: a GET never
spends the single-use link, because mail scanners and link previews open every link they see.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ..readers import accounts, claims, follows, library, outbox
from ..readers.common import RateLimited, ReaderError
from .readers_web import (
    SESSION_COOKIE,
    client_of,
    csrf_ok,
    current,
    message,
    outbox_enabled,
    page,
    public_link,
    redirect,
    secure,
    send_mail,
    set_csrf_cookie,
    store_of,
    to_signin,
)

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

SENT = ("If that address can receive mail, a sign-in link is on its way. It works once, for 15 minutes. "
        "No account yet? The link creates one.")


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "/") -> HTMLResponse:
    if current(request) is not None:
        return message(request, "You are signed in", "You are already signed in.", links=[("Your account",
                                                                                            "/account")])
    return page(request, "signin.html", next=accounts.safe_next(next), error=None, email="")


@router.post("/signin", response_class=HTMLResponse)
def signin_submit(request: Request, email: str = Form(""), next: str = Form("/"), csrf: str = Form("")
                  ) -> HTMLResponse:
    if not csrf_ok(request, csrf):
        return page(request, "signin.html", 403, next=accounts.safe_next(next), email=email,
                    error="The form expired or did not come from this site; please send it again.")
    store = store_of(request)
    try:
        asked = accounts.request_signin(store.db, email, client=client_of(request), next_path=next)
    except RateLimited as exc:
        return page(request, "signin.html", 429, next=accounts.safe_next(next), email=email, error=str(exc))
    except ReaderError as exc:
        return page(request, "signin.html", 400, next=accounts.safe_next(next), email=email, error=str(exc))
    if asked.token:
        link = public_link(request, "/signin/link?token=" + asked.token)
        send_mail(request, asked.email, "Your PaperAtlas sign-in link",
                  f"Hello,\n\nsomeone (we hope you) asked to sign in to PaperAtlas with this address.\n"
                  f"Open this link within 15 minutes to sign in (it works once):\n\n{link}\n\n"
                  "If you did not ask, ignore this mail: nothing happens without the link.\n")
    return message(request, "Check your inbox", SENT,
                   links=[("Open the outbox (this demo has no mail server)", "/outbox")]
                   if outbox_enabled(request) else [])


@router.get("/signin/link", response_class=HTMLResponse)
def signin_link(request: Request, token: str = "") -> HTMLResponse:
    if not accounts.link_is_usable(store_of(request).db, token):
        return message(request, "This link does not work",
                       "This sign-in link is not valid, was already used, or has expired. Ask for a new one.", 400,
                       links=[("Sign in", "/signin")])
    return page(request, "signin_link.html", token=token)


@router.post("/signin/link")
def signin_complete(request: Request, token: str = Form(""), csrf: str = Form("")) -> Response:
    if not csrf_ok(request, csrf):
        return message(request, "Please try again", "The form did not come from this site.", 403)
    try:
        session, next_path = accounts.complete_signin(store_of(request).db, token)
    except accounts.LinkError as exc:
        return message(request, "This link does not work", f"{str(exc)[:1].upper()}{str(exc)[1:]}.", 400,
                       links=[("Sign in", "/signin")])
    response = redirect(request, next_path)
    response.set_cookie(SESSION_COOKIE, session.token, max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
                        httponly=True, samesite="lax", secure=secure(request), path="/")
    set_csrf_cookie(request, response, session.csrf)
    return response


@router.post("/signout")
def signout(request: Request, csrf: str = Form(""), everywhere: str = Form("")) -> Response:
    session = current(request)
    if session is None:
        return redirect(request, "/")
    if not csrf_ok(request, csrf):
        return message(request, "Please try again", "The form did not come from this site.", 403)
    if everywhere:
        accounts.revoke_all_sessions(store_of(request).db, session.account.id)
    else:
        accounts.revoke_session(store_of(request).db, session.token)
    response = redirect(request, "/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    session = current(request)
    if session is None:
        return to_signin(request)
    db = store_of(request).db
    return page(request, "account.html", collections=library.collections_of(db, session.account.id),
                follows=follows.follows_of(db, session.account.id),
                claims=claims.claims_of(db, session.account.id), new_token=None)


@router.post("/account/tokens", response_class=HTMLResponse)
def account_token(request: Request, name: str = Form(""), csrf: str = Form(""), revoke: str = Form("")
                  ) -> Response:
    session = current(request)
    if session is None:
        return to_signin(request, "/account")
    if not csrf_ok(request, csrf):
        return message(request, "Please try again", "The form did not come from this site.", 403)
    db = store_of(request).db
    token = None
    if revoke:
        accounts.revoke_api_tokens(db, session.account.id)
    else:
        token = accounts.create_api_token(db, session.account.id, name)
    return page(request, "account.html", collections=library.collections_of(db, session.account.id),
                follows=follows.follows_of(db, session.account.id),
                claims=claims.claims_of(db, session.account.id), new_token=token)


@router.get("/outbox", response_class=HTMLResponse)
def outbox_list(request: Request) -> HTMLResponse:
    if not outbox_enabled(request):
        return message(request, "Not found", "There is no page at this address.", 404)
    return page(request, "outbox.html", messages=outbox.messages(store_of(request).data_dir))


@router.get("/outbox/{name}", response_class=HTMLResponse)
def outbox_message(request: Request, name: str) -> HTMLResponse:
    found = outbox.message(store_of(request).data_dir, name) if outbox_enabled(request) else None
    if found is None:
        return message(request, "Not found", "There is no page at this address.", 404)
    return page(request, "outbox_message.html", mail=found)
