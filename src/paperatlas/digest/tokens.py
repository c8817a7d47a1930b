"""Signed, expiring tokens: the only credential a subscriber has, since there are no accounts.

Every link in a mail carries a token signed with the server's secret (itsdangerous, HMAC-SHA1 over a compact
payload, with a purpose-specific salt so a confirmation token cannot be replayed as an unsubscribe token).  The
payload binds the subscriber's row id *and* its random nonce: ids of deleted rows can be reused, nonces cannot be
guessed.  Lifetimes: confirming 48 hours; managing and previewing 60 days; unsubscribing a year, because an
unsubscribe link in an old mail must keep working (RFC 8058 asks one-click to be reliable).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from hashlib import sha256

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer

PURPOSES: dict[str, int] = {
    "confirm": 48 * 3600,
    "manage": 60 * 86400,
    "preview": 60 * 86400,
    "unsubscribe": 365 * 86400,
}
CSRF_MAX_AGE = 2 * 3600


class _Serializer(URLSafeTimedSerializer):
    """No zlib attempt on payloads of a few bytes (it never pays, and costs more than the HMAC); reads either."""

    def dump_payload(self, obj: object) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


class TokenError(ValueError):
    """A token that is forged, damaged, expired, or made for another purpose."""


@dataclass(frozen=True)
class TokenSubject:
    subscriber_id: int
    nonce: str


class Tokens:
    def __init__(self, secret_key: str):
        self._secret = secret_key
        self._serializers = {
            purpose: _Serializer(secret_key, salt=f"paperatlas.digest.{purpose}") for purpose in PURPOSES
        }
        self._csrf = TimestampSigner(secret_key, salt="paperatlas.digest.csrf")

    def make(self, purpose: str, subscriber_id: int, nonce: str) -> str:
        return self._serializers[purpose].dumps([subscriber_id, nonce])

    def read(self, purpose: str, token: str, max_age: int | None = None) -> TokenSubject:
        """The subject of a valid token, else :class:`TokenError` (the caller still checks the nonce)."""
        try:
            payload = self._serializers[purpose].loads(token or "", max_age=max_age or PURPOSES[purpose])
        except SignatureExpired:
            raise TokenError("this link has expired") from None
        except BadSignature:
            raise TokenError("this link is not valid") from None
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)
                and isinstance(payload[1], str)):
            raise TokenError("this link is not valid")
        return TokenSubject(payload[0], payload[1])

    # Session-less CSRF: a random value in a cookie, and the same value signed (with a timestamp) in the form.
    # A cross-site form can neither read the cookie nor forge the signature, so it cannot make the pair match.
    def new_csrf(self) -> tuple[str, str]:
        """(cookie value, form value)."""
        raw = secrets.token_urlsafe(24)
        return raw, self._csrf.sign(raw).decode("ascii")

    def check_csrf(self, cookie: str | None, form_value: str | None) -> bool:
        if not cookie or not form_value:
            return False
        try:
            raw = self._csrf.unsign(form_value, max_age=CSRF_MAX_AGE).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return False
        return hmac.compare_digest(raw, cookie)

    def message_id_tag(self, subscriber_id: int, period: str) -> str:
        """A keyed, deterministic tag for the Message-ID: same (subscriber, period) -> same id, unguessable."""
        return hmac.new(self._secret.encode(), f"{subscriber_id}:{period}".encode(), sha256).hexdigest()[:20]


def new_nonce() -> str:
    return secrets.token_urlsafe(12)
