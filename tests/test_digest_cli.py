"""``paperatlas digest ...`` end to end against a local SMTP server, including cron exit codes."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from paperatlas.bench.fixtures.atom_papers import latest_submitted, load_atom_papers
from paperatlas.bench.fixtures.smtp_sink import Recorder, SmtpSink
from paperatlas.store import open_store
from support.indexes import build_indexes


@pytest.fixture
def day(data_dir, shared) -> str:
    store = open_store(data_dir)
    load_atom_papers(store, shared / "arxiv" / "atom-api" / "cs-2025-12")
    build_indexes(store, vectors=False)
    found = latest_submitted(store)
    store.close()
    return found


@pytest.fixture
def mail_env(monkeypatch):
    monkeypatch.setenv("PAPERATLAS_MAIL_FROM", "PaperAtlas <digest@paperatlas.example>")
    monkeypatch.setenv("PAPERATLAS_PUBLIC_URL", "https://atlas.example")
    monkeypatch.delenv("PAPERATLAS_SECRET_KEY", raising=False)


def test_subscribe_confirm_list_send_preview(cli, day, mail_env, monkeypatch):
    with SmtpSink() as sink:
        monkeypatch.setenv("PAPERATLAS_SMTP_URL", sink.url())
        done = cli("digest", "subscribe", "Lin@Example.org", "--weekly", "--category", "cs.CV", "--query",
                   "diffusion")
        assert done.exit_code == 0, done.output
        assert len(sink.received) == 1
        body = sink.received[0].message.get_body(("plain",)).get_content()
        token = parse_qs(urlsplit(re.search(r"https://\S+/subscribe/confirm\?\S+", body).group(0)).query)["token"][0]
        # before confirming, a send delivers nothing
        assert cli("digest", "send", "--date", day).exit_code == 0 and len(sink.received) == 1
        again = cli("digest", "subscribe", "lin@example.org")
        assert again.exit_code == 0 and "recently" in again.output and len(sink.received) == 1
        assert cli("digest", "confirm", token).exit_code == 0
        dry = cli("digest", "send", "--date", day, "--dry-run")
        assert dry.exit_code == 0 and "would send" in dry.output and len(sink.received) == 1
        listed = orjson.loads(cli("digest", "list", "--json").output)
        assert [(r["email"], r["status"], r["frequency"]) for r in listed] == [("lin@example.org", "confirmed",
                                                                                "weekly")]
        assert listed[0]["follows"]["categories"] == ["cs.CV"]
        sent = cli("digest", "send", "--date", day, "--json")
        assert sent.exit_code == 0 and orjson.loads(sent.output)["sent"] == 1
        assert len(sink.received) == 2 and sink.received[1].rcpt_tos == ["lin@example.org"]
        assert cli("digest", "send", "--date", day).exit_code == 0 and len(sink.received) == 2
    html = cli("digest", "preview", "lin@example.org", "--html", "--date", day)
    assert html.exit_code == 0 and "<html" in html.output and "/paper/" in html.output
    text = cli("digest", "preview", "lin@example.org", "--date", day)
    assert text.output.startswith("Subject: PaperAtlas weekly digest")
    assert "/digest/preview?token=" in cli("digest", "preview", "lin@example.org", "--url").output


def test_exit_codes(cli, day, mail_env, monkeypatch):

    monkeypatch.delenv("PAPERATLAS_SMTP_URL", raising=False)
    missing = cli("digest", "send", "--date", day)
    assert missing.exit_code == 2 and "PAPERATLAS_SMTP_URL" in missing.output
    monkeypatch.setenv("PAPERATLAS_SMTP_URL", "ftp://nope")
    assert cli("digest", "send").exit_code == 2
    bad = cli("digest", "subscribe", "not an address")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert cli("digest", "confirm", "forged.token").exit_code == 2
    assert cli("digest", "send", "--date", "yesterday").exit_code == 2


def test_send_exit_75_on_temporary_and_1_on_permanent(cli, data_dir, day, mail_env, monkeypatch):
    from paperatlas.digest.subscriptions import Follows, confirm_directly, subscribe

    store = open_store(data_dir)
    for name in ("ok", "refused"):
        confirm_directly(store, subscribe(store, f"{name}@example.org", "daily",
                                          Follows(categories=["cs.LG"])).subscriber.id)
    store.close()
    with SmtpSink(Recorder(fail_first=100)) as sink:
        monkeypatch.setenv("PAPERATLAS_SMTP_URL", sink.url(retries="1", backoff="0"))
        assert cli("digest", "send", "--date", day).exit_code == 75
    with SmtpSink(Recorder(refuse={"refused@example.org"})) as sink:
        monkeypatch.setenv("PAPERATLAS_SMTP_URL", sink.url())
        assert cli("digest", "send", "--date", day).exit_code == 1
        assert [r.rcpt_tos for r in sink.received] == [["ok@example.org"]]
        assert cli("digest", "send", "--date", day).exit_code == 0  # permanent failures are not retried
    assert date.fromisoformat(day)
