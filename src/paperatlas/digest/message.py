"""Building the MIME message, with no way for a field to smuggle in a header.

Every header value is checked for CR, LF (and NUL) before it reaches :class:`email.message.EmailMessage` under
``policy.SMTP``; the policy would refuse most of them too, but an explicit check gives one clear error and covers
values (a subscriber's saved search in a subject, a configured From) that policies fold rather than refuse.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

# Long structured values (the List-Unsubscribe URL with its token) must not be folded or RFC 2047-encoded, which
# policy.SMTP's 78-column limit would do to a URL without spaces; RFC 5322 allows lines up to 998 characters.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


class HeaderInjection(ValueError):
    pass


def safe_header(name: str, value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise HeaderInjection(f"refusing a line break in the {name} header")
    return value


def compose(*, sender: str, recipient: str, subject: str, text: str, html: str | None, message_id: str,
            headers: dict[str, str] | None = None, date: datetime | None = None) -> EmailMessage:
    """A multipart/alternative message (text first, HTML preferred by clients that can show it)."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = safe_header("From", sender)
    msg["To"] = safe_header("To", recipient)
    msg["Subject"] = safe_header("Subject", subject)
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = safe_header("Message-ID", message_id)
    msg["MIME-Version"] = "1.0"
    for name, value in (headers or {}).items():
        msg[safe_header("header name", name)] = safe_header(name, value)
    msg.set_content(text, subtype="plain", charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def envelope_address(header_value: str) -> str:
    """The bare address of ``"PaperAtlas <digest@example.org>"`` for the SMTP envelope."""
    return parseaddr(header_value)[1] or header_value


def mail_domain(header_value: str) -> str:
    address = envelope_address(header_value)
    return address.rpartition("@")[2] or "paperatlas.invalid"


__all__ = ["HeaderInjection", "compose", "envelope_address", "formataddr", "mail_domain", "safe_header"]
