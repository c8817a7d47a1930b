"""The digest's pages: subscribe (double opt-in), confirm, manage, unsubscribe (RFC 8058 one-click) and preview.

The web app includes :data:`router`; pages extend the app's ``base.html`` through ``request.app.state.templates``
(our own templates sit in front of the app's on the loader path).  There are no accounts: the signed token in a
link is the credential, and it names one subscriber only.  The subscribe form is protected by a session-less
signed double-submit CSRF token and by per-IP / per-address rate limits kept in the store.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from ..store import Store
from .build import DigestBuilder, period_key
from .config import ConfigError, DigestConfig, config_from
from .render import TEMPLATES, Links, render_digest
from .sender import send_notice
from .smtp import DeliveryError
from .subscriptions import (
    FREQUENCIES,
    RateLimited,
    Subscriber,
    SubscriptionError,
    clean_follows,
    confirm,
    release_mail,
    subscribe,
    subscriber_for_token,
    unsubscribe,
    update_subscription,
)
from .tokens import TokenError, Tokens

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
CSRF_COOKIE = "pa_digest_csrf"


def _store(request: Request) -> Store:
    return request.app.state.store


def _config(request: Request) -> DigestConfig:
    """Loaded once per app (tests may set ``app.state.digest_config`` themselves)."""
    config = getattr(request.app.state, "digest_config", None)
    if config is None:
        try:
            config = config_from(request.app.state.settings, _store(request).data_dir)
        except ConfigError as exc:  # a bad PAPERATLAS_* value: the operator's problem, a clear 503 for visitors
            log.error("digest configuration: %s", exc)
            raise HTTPException(503, "Email digests are not configured on this server.") from None
        request.app.state.digest_config = config
    return config


def _tokens(request: Request) -> Tokens:
    return Tokens(_config(request).secret_key)


def _env(request: Request) -> Environment:
    env = getattr(request.app.state, "digest_env", None)
    if env is None:
        app_env: Environment = request.app.state.templates.env
        # autoescape forced on: these pages echo what a stranger typed into the form
        env = app_env.overlay(loader=ChoiceLoader([FileSystemLoader(TEMPLATES / "web"), app_env.loader]),
                              autoescape=True)
        request.app.state.digest_env = env
    return env


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env(request).get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Referrer-Policy": "no-referrer"})


def _message(request: Request, title: str, text: str, status: int = 200, **extra: Any) -> HTMLResponse:
    return _page(request, "digest_message.html", status, title=title, text=text, **extra)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _form_page(request: Request, *, status: int = 200, error: str | None = None, values: dict | None = None
               ) -> HTMLResponse:
    cookie, signed = _tokens(request).new_csrf()
    response = _page(request, "digest_subscribe.html", status, csrf=signed, error=error, values=values or {},
                     frequencies=FREQUENCIES)
    response.set_cookie(CSRF_COOKIE, cookie, max_age=7200, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, author: list[str] = Query(default=[]), category: list[str] = Query(default=[]),
                   q: str = "") -> HTMLResponse:
    """The form; ``?author=a...&category=cs.CL&q=...`` pre-fills follows (links from author / category pages)."""
    return _form_page(request, values={"authors": "\n".join(author), "categories": "\n".join(category),
                                       "queries": q, "frequency": "daily"})


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe_submit(request: Request, email: str = Form(""), frequency: str = Form("daily"),
                     authors: str = Form(""), categories: str = Form(""), queries: str = Form(""),
                     csrf: str = Form("")) -> HTMLResponse:
    values = {"email": email, "frequency": frequency, "authors": authors, "categories": categories,
              "queries": queries}
    if not _tokens(request).check_csrf(request.cookies.get(CSRF_COOKIE), csrf):
        return _form_page(request, status=403, values=values,
                          error="The form expired or did not come from this site; please submit it again.")
    store = _store(request)
    try:
        follows = clean_follows(store, [authors], [categories], [queries])
        outcome = subscribe(store, email, frequency, follows, ip=_client_ip(request))
    except RateLimited as exc:
        return _form_page(request, status=429, values=values, error=str(exc))
    except SubscriptionError as exc:
        return _form_page(request, status=400, values=values, error=str(exc))
    if outcome.mail:
        try:
            send_notice(_config(request), outcome.subscriber, outcome.mail)
        except (ConfigError, DeliveryError, OSError):
            release_mail(store, outcome.subscriber.email)  # the person may retry at once
            return _message(request, "Mail is not available",
                            "We could not send the confirmation mail just now. Please try again later.", 503)
    # the same answer whatever happened, so the form does not tell strangers who is subscribed
    return _message(request, "Check your inbox",
                    "If this address can receive digests, a mail with a confirmation link is on its way. "
                    "Nothing else will be sent until you follow that link.")


def _subscriber(request: Request, purpose: str, token: str) -> Subscriber:
    return subscriber_for_token(_store(request), _tokens(request), purpose, token)


def _bad_link(request: Request, exc: TokenError) -> HTMLResponse:
    return _message(request, "This link does not work", f"{exc}.", 400)


@router.get("/subscribe/confirm", response_class=HTMLResponse)
def subscribe_confirm(request: Request, token: str = "") -> HTMLResponse:
    try:
        subscriber = confirm(_store(request), _tokens(request), token)
    except TokenError as exc:
        return _bad_link(request, exc)
    links = Links(_config(request), _tokens(request), subscriber)
    return _message(request, "Subscription confirmed",
                    f"{subscriber.email} will receive the {subscriber.frequency} PaperAtlas digest.",
                    manage_url=links.manage)


@router.get("/manage", response_class=HTMLResponse)
def manage_form(request: Request, token: str = "") -> HTMLResponse:
    try:
        subscriber = _subscriber(request, "manage", token)
    except TokenError as exc:
        return _bad_link(request, exc)
    return _manage_page(request, subscriber, token)


def _manage_page(request: Request, subscriber: Subscriber, token: str, *, status: int = 200,
                 error: str | None = None, saved: bool = False) -> HTMLResponse:
    links = Links(_config(request), _tokens(request), subscriber)
    f = subscriber.follows
    values = {"frequency": subscriber.frequency, "authors": "\n".join(f.authors),
              "categories": "\n".join(f.categories), "queries": "\n".join(f.queries)}
    return _page(request, "digest_manage.html", status, subscriber=subscriber, token=token, values=values,
                 error=error, saved=saved, frequencies=FREQUENCIES, unsubscribe_url=links.unsubscribe,
                 preview_url=links.preview)


@router.post("/manage", response_class=HTMLResponse)
def manage_submit(request: Request, token: str = "", frequency: str = Form("daily"), authors: str = Form(""),
                  categories: str = Form(""), queries: str = Form("")) -> HTMLResponse:
    # No CSRF cookie here: the signed token in the URL is itself a secret another site cannot know.
    store = _store(request)
    try:
        subscriber = _subscriber(request, "manage", token)
    except TokenError as exc:
        return _bad_link(request, exc)
    try:
        follows = clean_follows(store, [authors], [categories], [queries])
        update_subscription(store, subscriber.id, frequency, follows)
    except SubscriptionError as exc:
        return _manage_page(request, subscriber, token, status=400, error=str(exc))
    updated = _subscriber(request, "manage", token)
    return _manage_page(request, updated, token, saved=True)


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(request: Request, token: str = "") -> HTMLResponse:
    """A GET never unsubscribes: link scanners and prefetchers open every link in a mail."""
    try:
        subscriber = _subscriber(request, "unsubscribe", token)
    except TokenError as exc:
        return _bad_link(request, exc)
    return _page(request, "digest_unsubscribe.html", subscriber=subscriber, token=token)


@router.post("/unsubscribe")
def unsubscribe_submit(request: Request, token: str = "") -> Response:
    """RFC 8058 one-click (body ``List-Unsubscribe=One-Click``) and the confirm button both land here."""
    try:
        subscriber = _subscriber(request, "unsubscribe", token)
    except TokenError as exc:
        return _bad_link(request, exc)
    unsubscribe(_store(request), subscriber.id)
    return _message(request, "Unsubscribed", f"{subscriber.email} will receive no more PaperAtlas digests.")


@router.get("/digest/preview", response_class=HTMLResponse)
def digest_preview(request: Request, token: str = "", date_: str | None = Query(None, alias="date")
                   ) -> HTMLResponse:
    """The subscriber's next digest as the HTML mail would show it (nothing is recorded as sent)."""
    try:
        subscriber = _subscriber(request, "preview", token)
    except TokenError as exc:
        return _bad_link(request, exc)
    try:
        on = date.fromisoformat(date_) if date_ else datetime.now(UTC).date()
    except ValueError:
        return _message(request, "Bad date", "Give the date as YYYY-MM-DD.", 400)
    config = _config(request)
    digest = DigestBuilder(_store(request), on).build(subscriber, period_key(subscriber.frequency, on))
    _, _, html = render_digest(digest, Links(config, _tokens(request), subscriber))
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
