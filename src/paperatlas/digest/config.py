"""Digest configuration: where mail goes out, who it is from, the base of every link, and the signing secret.

The values are settings (:mod:`paperatlas.settings`: the environment over ``paperatlas.toml``, whose ``[digest]``
section holds ``smtp_url``, ``mail_from``, ``public_url``, ``secret_key``); this module checks
that they can work.  When no secret is configured, one is generated once and kept in the data folder
(``digest-secret.key``, mode 0600): tokens mailed yesterday must still verify after a restart, so the secret cannot
be made up per process.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ..settings import Settings, SettingsError

SECRET_FILENAME = "digest-secret.key"

_TRUE = {"1", "true", "yes", "on"}


class ConfigError(ValueError):
    """A configuration value that cannot work; the message is one line a person can act on."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool = False  # implicit TLS from the first byte (smtps://)
    starttls: bool = False  # upgrade a plain connection (smtp://...?starttls=1)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None  # trust this CA bundle instead of the system's (self-signed relays, tests)
    verify: bool = True
    timeout: float = 30.0
    retries: int = 3  # further tries of one message on a temporary failure, within one run
    backoff: float = 0.5  # seconds before the first retry; doubled each time
    connections: int = 4  # SMTP connections used at once by 'digest send'

    @property
    def url(self) -> str:
        """The URL without the password, for logs and ``digest list``."""
        scheme = "smtps" if self.tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        query = "?starttls=1" if self.starttls else ""
        return f"{scheme}://{user}{self.host}:{self.port}{query}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://user:pass@host:587?starttls=1`` or ``smtps://host:465`` -> :class:`SmtpSettings`.

    Query options: ``starttls=1``, ``cafile=/path/ca.pem``, ``verify=0`` (do not check the certificate: only for a
    relay on localhost), ``timeout=30``, ``retries=3`` and ``backoff=0.5`` (seconds, doubled per retry),
    ``connections=4`` (sessions ``digest send`` uses in parallel).  User and password may be percent-encoded.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"PAPERATLAS_SMTP_URL must start with smtp:// or smtps:// (got {parts.scheme or url!r})")
    if not parts.hostname:
        raise ConfigError("PAPERATLAS_SMTP_URL has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"PAPERATLAS_SMTP_URL has a bad port: {exc}") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    known = {"starttls", "cafile", "verify", "timeout", "retries", "backoff", "connections"}
    unknown = set(query) - known
    if unknown:
        raise ConfigError(f"PAPERATLAS_SMTP_URL: unknown option(s) {', '.join(sorted(unknown))}")
    tls = parts.scheme == "smtps"
    starttls = query.get("starttls", "0").lower() in _TRUE
    if tls and starttls:
        raise ConfigError("PAPERATLAS_SMTP_URL: smtps:// is already TLS; starttls=1 only goes with smtp://")
    try:
        timeout = float(query.get("timeout", "30"))
        retries = int(query.get("retries", "3"))
        backoff = float(query.get("backoff", "0.5"))
        connections = int(query.get("connections", "4"))
    except ValueError:
        raise ConfigError("PAPERATLAS_SMTP_URL: timeout, retries, backoff and connections must be numbers") from None
    if retries < 0 or backoff < 0 or timeout <= 0 or not 1 <= connections <= 64:
        raise ConfigError("PAPERATLAS_SMTP_URL: timeout must be positive, retries and backoff not negative, "
                          "connections 1..64")
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if tls else (587 if starttls else 25)),
        tls=tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        cafile=query.get("cafile"),
        verify=query.get("verify", "1").lower() in _TRUE,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        connections=connections,
    )


@dataclass(frozen=True)
class DigestConfig:
    smtp: SmtpSettings | None
    mail_from: str | None
    public_url: str
    secret_key: str = field(repr=False)

    def require_mail(self) -> None:
        """Raise :class:`ConfigError` unless mail can actually go out."""
        if self.smtp is None:
            raise ConfigError("no SMTP server configured: set PAPERATLAS_SMTP_URL (smtp://host:port or smtps://...)")
        if not self.mail_from:
            raise ConfigError("no sender configured: set PAPERATLAS_MAIL_FROM (e.g. 'PaperAtlas <digest@example.org>')")

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + "/" + path.lstrip("/")


def stored_secret(data_dir: Path) -> str:
    """The secret kept in the data folder, created (0600) the first time it is needed."""
    path = Path(data_dir) / SECRET_FILENAME
    if path.is_file():
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:  # O_EXCL: two processes starting at once must not each write a different secret
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)
    return value


def load_config(data_dir: Path | None, env: Mapping[str, str] | None = None) -> DigestConfig:
    """The mail settings of ``env`` (default ``os.environ``) and the settings file in ``data_dir``, checked."""
    try:
        settings = Settings.load(env, overrides={"data_dir": data_dir})
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    return config_from(settings, data_dir)


def config_from(settings: Settings, data_dir: Path | None) -> DigestConfig:
    """Check the mail settings of ``settings``: a wrong URL or a header in the sender is refused here."""
    smtp_url = settings.secret("smtp_url")
    smtp = parse_smtp_url(smtp_url) if smtp_url else None
    mail_from = settings.mail_from or None
    if mail_from and ("\r" in mail_from or "\n" in mail_from):
        raise ConfigError("PAPERATLAS_MAIL_FROM must be one line")
    public_url = settings.public_url or "http://127.0.0.1:8000"
    scheme = urlsplit(public_url).scheme
    if scheme not in ("http", "https") or not urlsplit(public_url).netloc:
        raise ConfigError(f"PAPERATLAS_PUBLIC_URL must be an http(s) URL (got {public_url!r})")
    secret = settings.secret("secret_key")
    if not secret:
        if data_dir is None:
            raise ConfigError("no PAPERATLAS_SECRET_KEY and no data folder to keep a generated one in")
        secret = stored_secret(Path(data_dir))
    return DigestConfig(smtp=smtp, mail_from=mail_from, public_url=public_url.rstrip("/"), secret_key=secret)
