"""A real local SMTP server (aiosmtpd) that keeps what it receives: for tests and the delivery benchmark.

Not a mock: it speaks SMTP on a TCP port, optionally over implicit TLS or STARTTLS with a certificate, optionally
with AUTH, and it can answer ``451`` to the first N messages or ``550`` to chosen recipients so that retries and
failure handling are exercised against a server, not against a stub.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Recorder:
    """The aiosmtpd handler."""

    fail_first: int = 0  # answer fail_reply to the first N DATA commands
    fail_reply: str = "451 4.3.0 Try again later"
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    keep: bool = True  # False: count only (benchmarks)
    received: list[Received] = field(default_factory=list)
    count: int = 0
    data_commands: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_commands += 1
            if self.fail_first > 0:
                self.fail_first -= 1
                return self.fail_reply
            self.count += 1
            if self.keep:
                self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 Message accepted for delivery"


class SmtpSink:
    """``with SmtpSink() as sink: ...`` runs aiosmtpd on 127.0.0.1:<free port> in a thread."""

    def __init__(self, recorder: Recorder | None = None, *, tls_cert: tuple[str, str] | None = None,
                 implicit_tls: bool = False, credentials: tuple[str, str] | None = None):
        self.recorder = recorder or Recorder()
        self.port = free_port()
        self.tls_cert = tls_cert
        self.implicit_tls = implicit_tls
        self.credentials = credentials
        self.logins: list[str] = []
        self._controller: Any = None

    def _server_context(self) -> ssl.SSLContext:
        assert self.tls_cert is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*self.tls_cert)
        return context

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword) and self.credentials is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials)
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.tls_cert and self.implicit_tls:
            kwargs["ssl_context"] = self._server_context()
        elif self.tls_cert:
            kwargs["tls_context"] = self._server_context()
            kwargs["require_starttls"] = True
        if self.credentials:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = bool(self.tls_cert)
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                      server_hostname="localhost", **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def url(self, **query: str) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{scheme}://{user}127.0.0.1:{self.port}" + (f"?{qs}" if qs else "")
