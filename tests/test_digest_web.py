"""The digest pages against a running app: double opt-in, links from real mails, one-click unsubscribe, tokens."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from paperatlas.bench.fixtures.atom_papers import latest_submitted
from paperatlas.bench.fixtures.smtp_sink import SmtpSink
from paperatlas.digest.config import load_config
from paperatlas.digest.sender import send_digests
from paperatlas.digest.subscriptions import find_subscriber
from paperatlas.digest.web import router

FROM = "PaperAtlas <digest@paperatlas.example>"
BASE = "<html><head><title>{% block title %}{% endblock %}</title></head><body>[base]{% block content %}" \
       "{% endblock %}</body></html>"


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def store(atom_papers_store):
    return atom_papers_store


@pytest.fixture
def env(store, sink, tmp_path):
    config = load_config(store.data_dir, env={"PAPERATLAS_SMTP_URL": sink.url(), "PAPERATLAS_MAIL_FROM": FROM,
                                              "PAPERATLAS_PUBLIC_URL": "https://atlas.example"})
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "base.html").write_text(BASE)
    app = FastAPI()
    app.state.store = store
    app.state.templates = Jinja2Templates(directory=str(folder))
    app.state.digest_config = config
    app.include_router(router)
    return {"store": store, "config": config, "client": TestClient(app), "sink": sink,
            "day": date.fromisoformat(latest_submitted(store))}


def csrf_of(client: TestClient) -> str:
    page = client.get("/subscribe")
    assert page.status_code == 200 and "[base]" in page.text  # rendered through the app's base.html
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def link_in(text: str, path: str) -> str:
    found = re.search(r"https://atlas\.example" + re.escape(path) + r"\?token=[\w.\-%]+", text)
    assert found, f"no {path} link"
    return found.group(0)


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def test_double_opt_in_and_every_mailed_link_works(env):
    client, sink, store = env["client"], env["sink"], env["store"]
    form = {"email": "grace@example.org", "frequency": "daily", "categories": "cs.CL", "queries": "", "authors": ""}
    # no CSRF token: refused, nothing mailed
    assert client.post("/subscribe", data=form).status_code == 403
    assert sink.received == []
    answer = client.post("/subscribe", data={**form, "csrf": csrf_of(client)})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert len(sink.received) == 1
    confirmation = sink.received[0].message
    assert confirmation["To"] == "grace@example.org"
    confirm_url = link_in(confirmation.get_body(("plain",)).get_content(), "/subscribe/confirm")
    assert confirm_url.replace("&", "&amp;") in confirmation.get_body(("html",)).get_content() or \
        confirm_url in confirmation.get_body(("html",)).get_content()

    # unconfirmed: a digest run sends nothing; a re-subscribe within the window mails nothing more
    assert send_digests(store, env["config"], env["day"]).sent == 0
    assert client.post("/subscribe", data={**form, "csrf": csrf_of(client)}).status_code == 200
    assert len(sink.received) == 1

    page = client.get(local(confirm_url))
    assert page.status_code == 200 and "confirmed" in page.text.lower()
    assert find_subscriber(store, "grace@example.org").status == "confirmed"

    report = send_digests(store, env["config"], env["day"])
    assert report.sent == 1 and len(sink.received) == 2
    digest = sink.received[1].message
    text = digest.get_body(("plain",)).get_content()
    one_click = digest["List-Unsubscribe"][1:-1]

    manage = link_in(text, "/manage")
    page = client.get(local(manage))
    assert page.status_code == 200 and "grace@example.org" in page.text and "cs.CL" in page.text
    saved = client.post(local(manage), data={"frequency": "weekly", "categories": "cs.CV\ncs.LG",
                                              "authors": "", "queries": "graph neural networks"})
    assert saved.status_code == 200 and "Saved" in saved.text
    sub = find_subscriber(store, "grace@example.org")
    assert sub.frequency == "weekly" and sub.follows.categories == ["cs.CV", "cs.LG"]
    assert sub.follows.queries == ["graph neural networks"]

    preview = client.get(local(link_in(text, "/digest/preview")) + f"&date={env['day'].isoformat()}")
    assert preview.status_code == 200 and "/paper/" in preview.text and "Trending" in preview.text

    # GET never unsubscribes (link scanners); it shows a button
    page = client.get(local(link_in(text, "/unsubscribe")))
    assert page.status_code == 200 and "<form" in page.text
    assert find_subscriber(store, "grace@example.org").status == "confirmed"
    # RFC 8058 one-click: a POST to the header's URL with that body, no cookie, no CSRF token
    fresh = TestClient(client.app)
    done = fresh.post(local(one_click), content=b"List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "Unsubscribed" in done.text
    assert find_subscriber(store, "grace@example.org").status == "unsubscribed"
    assert fresh.post(local(one_click), content=b"List-Unsubscribe=One-Click").status_code == 200  # idempotent
    assert send_digests(store, env["config"], date.fromordinal(env["day"].toordinal() + 8)).sent == 0
    assert len(sink.received) == 2


def test_forged_expired_and_misused_tokens_are_refused(env):
    client, store, config = env["client"], env["store"], env["config"]
    client.post("/subscribe", data={"email": "eve@example.org", "csrf": csrf_of(client)})
    confirm_url = link_in(env["sink"].received[0].message.get_body(("plain",)).get_content(), "/subscribe/confirm")
    token = parse_qs(urlsplit(confirm_url).query)["token"][0]
    sub = find_subscriber(store, "eve@example.org")

    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/subscribe/confirm?token={tampered}").status_code == 400
    other_secret = URLSafeTimedSerializer("not-the-secret", salt="paperatlas.digest.confirm").dumps([sub.id, sub.nonce])
    assert client.get(f"/subscribe/confirm?token={other_secret}").status_code == 400
    # a confirm token is not an unsubscribe token, nor a manage token
    assert client.post(f"/unsubscribe?token={token}").status_code == 400
    assert client.get(f"/manage?token={token}").status_code == 400
    assert client.get("/manage").status_code == 400

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 3 * 86400  # older than the 48 h a confirmation lives

    expired = URLSafeTimedSerializer(config.secret_key, salt="paperatlas.digest.confirm", signer=Old)
    page = client.get(f"/subscribe/confirm?token={expired.dumps([sub.id, sub.nonce])}")
    assert page.status_code == 400 and "expired" in page.text
    # a validly signed token for a row whose nonce differs (a guessed id) is refused too
    guessed = URLSafeTimedSerializer(config.secret_key, salt="paperatlas.digest.confirm").dumps([sub.id, "guess"])
    assert client.get(f"/subscribe/confirm?token={guessed}").status_code == 400
    assert find_subscriber(store, "eve@example.org").status == "pending"
    assert client.get(f"/subscribe/confirm?token={token}").status_code == 200


def test_rate_limits_and_validation(env):
    client, sink = env["client"], env["sink"]
    state = {"csrf": csrf_of(client)}

    def post(**form: str):
        answer = client.post("/subscribe", data={**form, "csrf": state["csrf"]})
        found = re.search(r'name="csrf" value="([^"]+)"', answer.text)
        if found:  # a re-rendered form carries a fresh pair (cookie + field), as a person would resubmit it
            state["csrf"] = found.group(1)
        return answer

    assert post(email="üser@example.org").status_code == 400  # SMTPUTF8 local parts are refused up front
    bad = post(email="not-an-address")
    assert bad.status_code == 400 and "valid email" in bad.text
    assert post(email="x@example.org", categories="cs.CL; DROP").status_code == 400
    assert post(email="x@example.org", authors="a-no-such-author").status_code == 400
    echoed = post(email="x@example.org", categories="<script>alert(1)</script>")
    assert echoed.status_code == 400 and "<script>alert" not in echoed.text and "&lt;script&gt;" in echoed.text
    assert sink.received == []
    statuses = [post(email=f"user{i}@example.org").status_code for i in range(12)]
    assert statuses == [200] * 10 + [429] * 2  # 10 subscribe requests per IP per hour
    assert len(sink.received) == 10


def test_confirmed_address_resubscribe_changes_nothing(env, store):
    from paperatlas.digest.subscriptions import Follows, confirm_directly, subscribe

    outcome = subscribe(store, "kim@example.org", "daily", Follows(categories=["cs.CL"]))
    confirm_directly(store, outcome.subscriber.id)
    store.db.execute("DELETE FROM digest_rate_events")
    again = subscribe(store, "Kim@Example.org", "weekly", Follows(categories=["cs.CR"]), ip="10.0.0.9")
    assert again.mail == "manage" and not again.created
    sub = find_subscriber(store, "kim@example.org")
    assert sub.frequency == "daily" and sub.follows.categories == ["cs.CL"]
    assert subscribe(store, "kim@example.org", "weekly", ip="10.0.0.9").mail is None  # within the hour


def test_the_web_app_includes_the_router(store):
    app_module = pytest.importorskip("paperatlas.web.app")
    client = TestClient(app_module.create_app(store))
    page = client.get("/subscribe")
    assert page.status_code == 200 and 'name="csrf"' in page.text and "PaperAtlas" in page.text


def test_mail_server_down_answers_503_and_the_retry_is_not_rate_limited(env):
    client, store = env["client"], env["store"]
    down = SmtpSink()  # not started yet: connection refused
    client.app.state.digest_config = load_config(store.data_dir, env={
        "PAPERATLAS_SMTP_URL": down.url(retries="0"), "PAPERATLAS_MAIL_FROM": FROM,
        "PAPERATLAS_PUBLIC_URL": "https://atlas.example"})
    form = {"email": "ops@example.org", "frequency": "weekly"}
    assert client.post("/subscribe", data={**form, "csrf": csrf_of(client)}).status_code == 503
    with down:
        answer = client.post("/subscribe", data={**form, "csrf": csrf_of(client)})
        assert answer.status_code == 200
        assert [r.rcpt_tos for r in down.received] == [["ops@example.org"]]


def test_bad_configuration_is_a_503_not_a_traceback(store, monkeypatch):
    app_module = pytest.importorskip("paperatlas.web.app")
    monkeypatch.setenv("PAPERATLAS_SMTP_URL", "http://not-smtp")
    client = TestClient(app_module.create_app(store))
    page = client.get("/subscribe")
    assert page.status_code == 503 and "not configured" in page.text
