"""PAPERATLAS_SMTP_URL parsing, config precedence, the stored secret, and real TLS (SMTPS, STARTTLS + AUTH)."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from paperatlas.bench.fixtures.smtp_sink import SmtpSink
from paperatlas.digest.config import ConfigError, load_config, parse_smtp_url
from paperatlas.digest.message import compose
from paperatlas.digest.smtp import Mailer, MailerConfigError


def test_parse_smtp_urls():
    plain = parse_smtp_url("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.tls, plain.starttls, plain.username) == ("mail.example.org", 25, False,
                                                                                   False, None)
    sub = parse_smtp_url("smtp://digest%40example.org:p%40ss%3Aword@relay.example.org:2525?starttls=1")
    assert (sub.port, sub.starttls, sub.username, sub.password) == (2525, True, "digest@example.org", "p@ss:word")
    assert "p@ss" not in sub.url and "p@ss" not in repr(sub)
    assert parse_smtp_url("smtp://relay?starttls=true").port == 587
    tls = parse_smtp_url("smtps://user:secret@smtp.example.org?cafile=/etc/ca.pem&timeout=5")
    assert (tls.port, tls.tls, tls.cafile, tls.timeout, tls.password) == (465, True, "/etc/ca.pem", 5.0, "secret")
    for bad in ("http://x", "smtp://", "smtps://h?starttls=1", "smtp://h?bogus=1", "smtp://h:notaport",
                "smtp://h?timeout=soon"):
        with pytest.raises(ConfigError):
            parse_smtp_url(bad)


def test_environment_over_file_and_a_secret_kept_0600(tmp_path: Path):
    (tmp_path / "paperatlas.toml").write_text(
        '[digest]\nsmtp_url = "smtp://file-host:25"\nmail_from = "File <f@example.org>"\n'
        'public_url = "https://file.example/"\n')
    from_file = load_config(tmp_path, env={})
    assert from_file.smtp.host == "file-host" and from_file.mail_from == "File <f@example.org>"
    assert from_file.link("/manage") == "https://file.example/manage"
    secret = tmp_path / "digest-secret.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert load_config(tmp_path, env={}).secret_key == from_file.secret_key  # generated once, then reused
    env = {"PAPERATLAS_SMTP_URL": "smtps://env-host", "PAPERATLAS_SECRET_KEY": "s3cret"}
    over = load_config(tmp_path, env=env)
    assert over.smtp.host == "env-host" and over.smtp.tls and over.secret_key == "s3cret"
    with pytest.raises(ConfigError):
        load_config(tmp_path, env={"PAPERATLAS_PUBLIC_URL": "javascript:alert(1)"})
    with pytest.raises(ConfigError):
        load_config(tmp_path, env={}).__class__(smtp=None, mail_from=None, public_url="x",
                                                secret_key="k").require_mail()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 / localhost made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed: cannot make a certificate for the TLS tests")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def _message(to: str) -> bytes:
    return compose(sender="PaperAtlas <d@example.org>", recipient=to, subject="tls", text="over TLS",
                   html="<p>over TLS</p>", message_id="<tls@example.org>").as_bytes()


def test_smtps_implicit_tls(certificate):
    with SmtpSink(tls_cert=certificate, implicit_tls=True) as sink:
        settings = parse_smtp_url(sink.url(cafile=certificate[0]))
        assert settings.tls
        with Mailer(settings) as mailer:
            mailer.send("d@example.org", "a@example.org", _message("a@example.org"))
            mailer.send("d@example.org", "b@example.org", _message("b@example.org"))
            assert mailer.connections == 1
        # without trusting the self-signed certificate the client refuses: verification is on
        with pytest.raises(MailerConfigError, match="not trusted"):
            Mailer(parse_smtp_url(sink.url()), retries=0).send("d@example.org", "c@example.org",
                                                               _message("c@example.org"))
    assert [r.rcpt_tos for r in sink.received] == [["a@example.org"], ["b@example.org"]]


def test_starttls_with_auth(certificate):
    with SmtpSink(tls_cert=certificate, credentials=("digest", "pa ss")) as sink:
        url = f"smtp://digest:pa%20ss@127.0.0.1:{sink.port}?starttls=1&cafile={certificate[0]}"
        with Mailer(parse_smtp_url(url)) as mailer:
            mailer.send("d@example.org", "a@example.org", _message("a@example.org"))
        assert sink.logins == ["digest"]
        wrong = f"smtp://digest:nope@127.0.0.1:{sink.port}?starttls=1&cafile={certificate[0]}"
        with pytest.raises(MailerConfigError, match="login"):
            Mailer(parse_smtp_url(wrong), retries=0).send("d@example.org", "b@example.org",
                                                          _message("b@example.org"))
    assert len(sink.received) == 1
    assert sink.received[0].message.get_body(("plain",)).get_content().strip() == "over TLS"
