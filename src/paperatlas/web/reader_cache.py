"""Signed-in readers revalidate every page instead of trusting the browser's copy for a minute.

Pages are shared (one rendering for everyone, ``Cache-Control: public, max-age=60``), but a reader who just
upvoted or claimed a profile must see it on the page they come back to; a browser holding a fresh copy would
show the old one for up to a minute.  For requests carrying the session cookie this middleware turns the header
into ``private, no-cache``: the browser asks every time, and the ETag still makes an unchanged page a cheap 304.
Anonymous visitors keep the public caching unchanged.
"""

from __future__ import annotations

from .readers_web import SESSION_COOKIE

_MARK = SESSION_COOKIE.encode() + b"="


class ReaderRevalidation:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not any(k == b"cookie" and _MARK in v for k, v in scope["headers"]):
            await self.app(scope, receive, send)
            return

        async def send_private(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                had = len(headers) != len(message.get("headers", []))
                if had:
                    headers.append((b"cache-control", b"private, no-cache"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_private)
