"""SMTP delivery: one connection reused for the whole batch, retries with exponential backoff on what is temporary.

Temporary: a 4xx reply (greylisting, "451 try again later"), a dropped or refused connection, a timeout.
Permanent: a 5xx reply for that recipient or message.  Failing to log in is neither: it is a configuration error
that would fail every message, so it stops the run (:class:`MailerConfigError`).
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable

from .config import SmtpSettings


class DeliveryError(Exception):
    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryError):
    """Try again later (the next ``digest send`` run does)."""

    def __init__(self, message: str, code: int | None = None, connection: bool = False):
        super().__init__(message, code)
        self.connection = connection  # the server could not be reached at all: later messages will fail too


class PermanentFailure(DeliveryError):
    pass


class MailerConfigError(DeliveryError):
    pass


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.cafile)
    if not settings.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Mailer:
    """Sends messages over one kept-open SMTP connection (reconnecting when the server drops it)."""

    def __init__(self, settings: SmtpSettings, *, retries: int | None = None, backoff: float | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.retries = settings.retries if retries is None else retries
        self.backoff = settings.backoff if backoff is None else backoff
        self.sleep = sleep
        self._conn: smtplib.SMTP | None = None
        self.connections = 0  # how many times a connection was opened (tests check reuse)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=tls_context(s))
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            conn.ehlo()
            if s.starttls:
                conn.starttls(context=tls_context(s))
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailerConfigError(f"the SMTP server refused the login: {exc.smtp_code} {_text(exc.smtp_error)}",
                                    exc.smtp_code) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailerConfigError(f"the SMTP server does not support what the URL asks: {exc}") from None
        except ssl.SSLCertVerificationError as exc:
            raise MailerConfigError(f"TLS certificate of {s.host} not trusted: {exc.verify_message}") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code, True) from None
            raise MailerConfigError(f"the SMTP server refused the session: {exc.smtp_code} "
                                    f"{_text(exc.smtp_error)}", exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach {s.host}:{s.port}: {exc}", connection=True) from None
        self.connections += 1
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a broken socket may fail; it is being thrown away anyway
                pass
            self._conn = None

    def _reset(self) -> None:
        """After a refused message the session is still usable once RSET succeeds; otherwise reconnect."""
        if self._conn is not None:
            try:
                self._conn.rset()
            except (OSError, smtplib.SMTPException):
                self._drop()

    def supports_8bitmime(self) -> bool:
        """Whether the server takes unencoded 8-bit bodies (asks once, on the connection it will keep using)."""
        try:
            return bool(self._connection().has_extn("8bitmime"))
        except DeliveryError:
            return False  # unreachable now: the first send reports that properly

    def send_once(self, sender: str, recipient: str, data: bytes, eight_bit: bool = False) -> None:
        """One try; raises :class:`TemporaryFailure` or :class:`PermanentFailure`."""
        conn = self._connection()
        try:
            refused = conn.sendmail(sender, [recipient], data, mail_options=["BODY=8BITMIME"] if eight_bit else ())
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._reset()
            cls = TemporaryFailure if 400 <= code < 500 else PermanentFailure
            raise cls(f"recipient refused: {code} {_text(text)}", code) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise TemporaryFailure(f"server disconnected: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            cls = TemporaryFailure if 400 <= exc.smtp_code < 500 else PermanentFailure
            raise cls(f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code) from None
        except (TimeoutError, OSError) as exc:
            self._drop()
            raise TemporaryFailure(f"connection error: {exc}") from None
        except (UnicodeError, ValueError) as exc:  # an address smtplib cannot put on the wire: never will
            self._reset()
            raise PermanentFailure(f"cannot send to {recipient!r}: {exc}") from None
        if refused:  # only one recipient, so a partial refusal cannot happen; kept for safety
            code, text = next(iter(refused.values()))
            raise PermanentFailure(f"recipient refused: {code} {_text(text)}", code)

    def send(self, sender: str, recipient: str, data: bytes, eight_bit: bool = False) -> int:
        """Deliver with retries and backoff (``backoff * 2**n`` seconds); return the number of tries it took."""
        for attempt in range(self.retries + 1):
            try:
                self.send_once(sender, recipient, data, eight_bit)
                return attempt + 1
            except TemporaryFailure:
                if attempt == self.retries:
                    raise
                self.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
