"""The local outbox: where mail goes when no SMTP server is configured (the demo, a laptop).

Each message is one RFC 5322 file (``.eml``) in ``<data folder>/outbox``, readable by any mail client and by
:mod:`email`.  The demo serves the folder at ``/outbox`` to loopback clients only, so a newcomer can click the
sign-in or confirmation link without running a mail server; on a public host the outbox is never served (it holds
sign-in links).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

FOLDER = "outbox"
_NAME = re.compile(r"^\d{8}T\d{12}-[A-Za-z0-9_-]{8,}\.eml$")


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    to: str
    subject: str
    date: str
    text: str


def outbox_dir(data_dir: Path) -> Path:
    return Path(data_dir) / FOLDER


def compose(sender: str, recipient: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="paperatlas.local")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    return msg


def write(data_dir: Path, message: EmailMessage) -> Path:
    """Store one message; the name sorts by time and cannot be guessed (it is served to loopback only anyway)."""
    folder = outbox_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_urlsafe(9)}.eml"  # sorts by time
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes(policy=email.policy.SMTP))
    return path


def _read(path: Path) -> OutboxMessage:
    with path.open("rb") as handle:
        msg = email.message_from_binary_file(handle, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return OutboxMessage(name=path.name, to=str(msg["To"] or ""), subject=str(msg["Subject"] or ""),
                         date=str(msg["Date"] or ""), text=text)


def messages(data_dir: Path, limit: int = 50) -> list[OutboxMessage]:
    """Newest first."""
    folder = outbox_dir(data_dir)
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if _NAME.match(p.name)), reverse=True)[:limit]
    return [_read(folder / name) for name in names]


def message(data_dir: Path, name: str) -> OutboxMessage | None:
    """One message by file name; any name that is not exactly an outbox file name is refused (no path tricks)."""
    if not _NAME.match(name):
        return None
    path = outbox_dir(data_dir) / name
    return _read(path) if path.is_file() else None
