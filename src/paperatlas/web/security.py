"""What the site does to every request and response before any page sees it: security headers, which host and
client address a request is believed to come from, and HEAD.

All of it is plain ASGI middleware, so it covers the cached answers of :class:`~.caching.CachedResponses`, the
static files and the digest's forms alike.  Settings (environment, read once when the app is made; see
docs/hardening.md):

``PAPERATLAS_PUBLIC_URL``
    ``https://atlas.example.org``: every absolute URL (feed links, ids) is built from it, whatever Host a request
    carries.  Why: feeds are cached and shared by every visitor, so a Host taken from one request (``Host:
    evil.example``) would be served to all of them.
``PAPERATLAS_TRUSTED_HOSTS``
    ``atlas.example.org,*.atlas.example.org``: without a public URL, requests for any other host are answered 400
    (Starlette's TrustedHostMiddleware) and the Host of those that pass is used.  With neither setting, the Host
    header is ignored: URLs are built from the address the server listens on.
``PAPERATLAS_TRUSTED_PROXIES``
    ``10.0.0.1,192.168.0.0/16``: only a request whose peer is one of these may name its client in
    ``X-Forwarded-For`` (rate limits count per client address; anyone else could rotate the header to dodge them).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.middleware.trustedhost import TrustedHostMiddleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Every page's scripts, styles and images are files under /static (or data: URIs for icons); nothing is inline,
# nothing comes from elsewhere, and no other site may frame ours (the subscribe / manage forms: clickjacking).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate CSP 2
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response, keeping any a handler set itself (the digest's
    pages set a stricter ``Referrer-Policy: no-referrer``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in SECURITY_HEADERS if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """Answers ``HEAD`` exactly as ``GET`` (status, headers, Content-Length) without the body.

    FastAPI's GET routes do not answer HEAD (405), which link checkers, feed readers and monitors send."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                if finished:
                    return
                if message.get("more_body", False):
                    return  # a streamed body: wait for its last part
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


def parse_public_url(public_url: str | None) -> tuple[str, str] | None:
    """(scheme, host[:port]) of ``PAPERATLAS_PUBLIC_URL``; ValueError for anything but ``http(s)://host[:port]``."""
    if not public_url:
        return None
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"PAPERATLAS_PUBLIC_URL must be http(s)://host[:port] with no path: {public_url!r}")
    return parts.scheme, parts.netloc


def _set_host(scope: Scope, host: str, scheme: str | None = None) -> Scope:
    headers = [(name, value) for name, value in scope.get("headers", []) if name != b"host"]
    headers.append((b"host", host.encode("latin-1")))
    out = {**scope, "headers": headers}
    if scheme is not None:
        out["scheme"] = scheme
    return out


class PublicOrigin:
    """Makes the scheme and Host that URLs are built from trustworthy (see the module docstring): the public URL's
    when one is set, else the listening address's unless a trusted-hosts list vouches for the request's Host."""

    def __init__(self, app: ASGIApp, public_url: str | None = None, trusted_hosts: list[str] | None = None) -> None:
        self.app = app
        self.public = parse_public_url(public_url)
        self.trusted = trusted_hosts or None
        self.inner: ASGIApp = app
        if self.public is None and self.trusted:
            self.inner = TrustedHostMiddleware(app, allowed_hosts=self.trusted, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.public is not None:
            scheme, host = self.public
            await self.app(_set_host(scope, host, scheme), receive, send)
            return
        if self.trusted:
            await self.inner(scope, receive, send)
            return
        server = scope.get("server")
        if server and server[0]:
            address, port = server[0], server[1]
            address = f"[{address}]" if ":" in str(address) else str(address)
            default = 443 if scope.get("scheme") == "https" else 80
            host = address if port in (None, default) else f"{address}:{port}"
        else:
            host = "localhost"
        await self.app(_set_host(scope, host), receive, send)


def _networks(values: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in values]


class ClientAddress:
    """Sets the client address of a request that came through a trusted proxy to the one the proxy saw.

    ``X-Forwarded-For`` is read right to left, skipping the trusted proxies' own addresses; the first other address
    is the client.  From any peer that is not a trusted proxy the header is ignored, so rotating it gets a stranger
    nothing (the server is run with uvicorn's own proxy handling off, which trusts 127.0.0.1 by default)."""

    def __init__(self, app: ASGIApp, trusted_proxies: list[str] | None = None) -> None:
        self.app = app
        self.trusted = _networks(trusted_proxies or [])

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not self.trusted or not client or not self._is_trusted(str(client[0])):
            await self.app(scope, receive, send)
            return
        forwarded = b",".join(value for name, value in scope.get("headers", []) if name == b"x-forwarded-for")
        chain = [part.strip() for part in forwarded.decode("latin-1").split(",") if part.strip()]
        for address in reversed(chain):
            if not self._is_trusted(address):
                try:
                    ipaddress.ip_address(address)
                except ValueError:
                    break  # a garbled entry: the proxy's peer is the last address we can vouch for
                scope = {**scope, "client": (address, 0)}
                break
        await self.app(scope, receive, send)


def origin_of(scope: Scope) -> str:
    """``scheme://host`` of a request as the app sees it (after :class:`PublicOrigin`): part of every cache key,
    since feeds and pages with absolute links differ by it."""
    host = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"host"), "")
    return f"{scope.get('scheme', 'http')}://{host}"
