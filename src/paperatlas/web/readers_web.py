"""What every reader page shares: who is signed in, CSRF checks, rendering, and sending a mail (or the outbox).

Sessions are a random cookie (``pa_session``: HttpOnly, SameSite=Lax, Secure on https) whose hash names a row
of ``reader_sessions``; anything else in the cookie is simply anonymous.  CSRF: every form carries ``csrf``; for
a signed-in reader it must equal the session's own token, for an anonymous one the ``pa_csrf`` cookie.  The
``pa_csrf`` cookie is readable by scripts on purpose: pages served from the shared page cache cannot carry a
per-reader token, so ``/static/readers.js`` copies it into their forms (another site can neither read the cookie
nor set the form field, which is the double-submit pattern).  Without JavaScript such a form answers with a
confirmation page that carries the token.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..readers import accounts, outbox
from ..readers.accounts import Session

log = logging.getLogger(__name__)
SESSION_COOKIE = "pa_session"
CSRF_COOKIE = "pa_csrf"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
_UNSET = object()


def store_of(request: Request):
    return request.app.state.store


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current(request: Request) -> Session | None:
    """The signed-in reader's session (looked up once per request), or None."""
    found = getattr(request.state, "reader_session", _UNSET)
    if found is _UNSET:
        found = accounts.session_for_cookie(store_of(request).db, request.cookies.get(SESSION_COOKIE))
        request.state.reader_session = found
    return found


def anon_csrf(request: Request) -> str:
    """The anonymous visitor's form token (made on first use; set as a cookie by :func:`page`)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def csrf_token(request: Request) -> str:
    session = current(request)
    return session.csrf if session else anon_csrf(request)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = csrf_token(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not submitted or not cookie:
        return False
    return hmac.compare_digest(submitted, expected) and hmac.compare_digest(cookie, expected)


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_csrf_cookie(request: Request, response: Any, value: str | None = None) -> None:
    value = value or csrf_token(request)
    if request.cookies.get(CSRF_COOKIE) != value:
        response.set_cookie(CSRF_COOKIE, value, max_age=30 * 86400, httponly=False, samesite="lax", path="/",
                            secure=secure(request))


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A per-reader page: never cached, never referred (sign-in links must not leak in a Referer)."""
    session = current(request)
    env = request.app.state.templates.env
    html = env.get_template(template).render(request=request, me=session.account if session else None,
                                             csrf=csrf_token(request), outbox_url=outbox_url(request), **context)
    response = HTMLResponse(html, status_code=status,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    set_csrf_cookie(request, response)
    return response


def message(request: Request, title: str, text: str, status: int = 200, **extra: Any) -> HTMLResponse:
    return page(request, "reader_message.html", status, title=title, text=text, **extra)


def redirect(request: Request, to: str) -> RedirectResponse:
    """After a change (every caller is a POST that did one): the cached pages' version is re-read at once."""
    request.app.state.data_version.invalidate()
    return RedirectResponse(accounts.safe_next(to), status_code=303, headers={"Cache-Control": "no-store"})


def to_signin(request: Request, back: str | None = None) -> RedirectResponse:
    """A 303 to the sign-in page that returns to ``back`` (default: this page) afterwards."""
    target = back or request.url.path + ("?" + request.url.query if request.url.query else "")
    return RedirectResponse("/signin?next=" + _quote(accounts.safe_next(target)), status_code=303,
                            headers={"Cache-Control": "no-store"})


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


# -- mail ------------------------------------------------------------------------------------------------------

def outbox_enabled(request: Request) -> bool:
    """The outbox is served only by an app made with ``outbox=True`` (the demo) and only to loopback clients."""
    return bool(getattr(request.app.state, "outbox", False)) and client_of(request) in LOOPBACK


def outbox_url(request: Request) -> str | None:
    return "/outbox" if outbox_enabled(request) else None


def mail_config(request: Request):
    """The digest's mail configuration (one per app), shared so both send through the same relay and secret."""
    from ..digest.config import config_from

    config = getattr(request.app.state, "digest_config", None)
    if config is None:
        config = config_from(request.app.state.settings, store_of(request).data_dir)
        request.app.state.digest_config = config
    return config


def public_link(request: Request, path: str) -> str:
    """Links in mails: the configured public URL, else (demo) the address this request came to."""
    config = mail_config(request)
    configured = getattr(config, "public_url", None)
    base = configured if configured and configured != "http://127.0.0.1:8000" else str(request.base_url)
    return base.rstrip("/") + "/" + path.lstrip("/")


def send_mail(request: Request, recipient: str, subject: str, text: str) -> None:
    """Through SMTP when configured, else into the local outbox of the data folder (never silently dropped)."""
    config = mail_config(request)
    if config.smtp is None:
        sender = config.mail_from or "PaperAtlas <no-reply@paperatlas.local>"
        outbox.write(store_of(request).data_dir, outbox.compose(sender, recipient, subject, text))
        return
    from ..digest.message import build_message, envelope_address, mail_domain
    from ..digest.smtp import Mailer

    config.require_mail()
    data = build_message(sender=config.mail_from, recipient=recipient, subject=subject, text=text, html=None,
                         message_id=f"<signin.{secrets.token_hex(8)}@{mail_domain(config.mail_from)}>",
                         headers={"Auto-Submitted": "auto-generated"})
    with Mailer(config.smtp) as mailer:
        mailer.send(envelope_address(config.mail_from), recipient, data)
