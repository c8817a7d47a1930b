"""Hostile requests against the whole app: framing and sniffing headers, Host-header cache poisoning, HEAD,
rotated X-Forwarded-For, and absurd ids.  Each test feeds the hostile input itself."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from paperatlas.bench.fixtures.web_store import build_fixture_store
from paperatlas.store import open_store
from paperatlas.store.papers import MAX_REF_CHARS, parse_ref
from paperatlas.web.app import create_app


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory, shared):
    store = open_store(tmp_path_factory.mktemp("hardening") / "data")
    ids = build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12")
    yield store, ids
    store.close()


def _client(store, **settings) -> TestClient:
    return TestClient(create_app(store, public_url=settings.get("public_url", ""),
                                 trusted_hosts=settings.get("trusted_hosts", []),
                                 trusted_proxies=settings.get("trusted_proxies", [])),
                      raise_server_exceptions=False)


def _hosts_in(feed: str) -> set[str]:
    """The hosts of a feed's own absolute URLs: its id, its self and alternate links, its entries' ids and links."""
    urls = re.findall(r"<id>([^<]*)</id>", feed) + re.findall(r'<link [^>]*href="([^"]*)"', feed)
    assert urls and all(url.startswith(("http://", "https://")) for url in urls), urls
    return {urlsplit(url).netloc for url in urls}


def test_every_response_carries_the_security_headers(fixture_store):
    store, ids = fixture_store
    client = _client(store)
    for path in ("/", f"/paper/{ids['paper']}", "/no/such/page", "/api/papers/nonsense", "/subscribe",
                 "/feed/trending.atom", "/static/site.css"):
        for attempt in range(2):  # the second answer of a cacheable page comes from the response cache
            answer = client.get(path)
            headers = answer.headers
            assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), (path, attempt)
            assert "script-src 'self'" in headers["content-security-policy"]
            assert headers.get("x-content-type-options") == "nosniff"
            assert headers.get("x-frame-options") == "DENY"
            assert headers.get("referrer-policy")


def test_a_500_page_carries_them_too(fixture_store, monkeypatch):
    store, ids = fixture_store
    from paperatlas.web import routes

    app = create_app(store, public_url="", trusted_hosts=[], trusted_proxies=[], cache_size=0)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(routes, "render", broken)
    answer = TestClient(app, raise_server_exceptions=False).get(f"/paper/{ids['paper']}")
    assert answer.status_code == 500
    assert answer.headers.get("x-content-type-options") == "nosniff"


def test_a_forged_host_never_reaches_a_feed_or_the_cache(fixture_store):
    store, _ids = fixture_store
    client = _client(store)
    poisoned = client.get("/feed/trending.atom", headers={"Host": "evil.example"})
    assert poisoned.status_code == 200
    assert "evil.example" not in poisoned.text
    honest = client.get("/feed/trending.atom")
    assert "evil.example" not in honest.text and _hosts_in(honest.text) == {"testserver"}


def test_the_public_url_makes_every_absolute_link(fixture_store):
    store, _ids = fixture_store
    client = _client(store, public_url="https://atlas.example.org")
    for host in ("evil.example", "atlas.example.org"):
        feed = client.get("/feed/trending.atom", headers={"Host": host})
        assert feed.status_code == 200
        assert _hosts_in(feed.text) == {"atlas.example.org"}
        assert "https://atlas.example.org/paper/" in feed.text
    with pytest.raises(ValueError):
        create_app(store, public_url="javascript:alert(1)")


def test_trusted_hosts_refuse_others_and_cache_apart(fixture_store):
    store, _ids = fixture_store
    client = _client(store, trusted_hosts=["a.example", "b.example"])
    assert client.get("/feed/trending.atom", headers={"Host": "evil.example"}).status_code == 400
    first = client.get("/feed/trending.atom", headers={"Host": "a.example"})
    second = client.get("/feed/trending.atom", headers={"Host": "b.example"})
    assert _hosts_in(first.text) == {"a.example"} and _hosts_in(second.text) == {"b.example"}
    assert first.headers["etag"] != second.headers["etag"]


def test_head_answers_like_get_without_a_body(fixture_store):
    store, ids = fixture_store
    client = _client(store)
    for path in ("/", f"/paper/{ids['paper']}", "/api/papers/" + ids["paper"], "/feed/trending.atom",
                 "/no/such/page"):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b""
        assert head.headers.get("content-type") == get.headers.get("content-type")
        if "content-length" in get.headers:
            assert head.headers["content-length"] == get.headers["content-length"]


@pytest.mark.parametrize("ref", ["1" * 10_000, "a" * 10_000, "1234.1234v" + "1" * 10_000,
                                 "https://arxiv.org/abs/" + "a/" * 5_000])
def test_absurd_ids_are_no_ids(fixture_store, ref):
    """Linear work at most: a reference over the cap is not scanned at all (a 10,000-character one took 2.6 s
    before, a long version number raised)."""
    assert len(ref) > MAX_REF_CHARS and parse_ref(ref) is None
    store, _ids = fixture_store
    answer = _client(store).get(f"/api/papers/{ref}")
    assert answer.status_code in (400, 404, 414)


def _serve(app) -> tuple[str, object, threading.Thread]:
    import uvicorn

    from paperatlas.web.serve import UVICORN_OPTIONS, free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **UVICORN_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def test_rotated_x_forwarded_for_does_not_dodge_the_subscribe_limit(atom_papers_store, tmp_path):
    """Through a real uvicorn server, as run by `paperatlas serve`: 12 subscriptions, each claiming another
    client in X-Forwarded-For, from one peer that is no trusted proxy; the limit is 10 an hour per client."""
    from paperatlas.bench.fixtures.smtp_sink import SmtpSink
    from paperatlas.digest.config import load_config

    with SmtpSink() as sink:
        app = create_app(atom_papers_store, public_url="", trusted_hosts=[], trusted_proxies=[])
        app.state.digest_config = load_config(atom_papers_store.data_dir, env={
            "PAPERATLAS_SMTP_URL": sink.url(), "PAPERATLAS_MAIL_FROM": "PaperAtlas <d@paperatlas.example>",
            "PAPERATLAS_PUBLIC_URL": "https://atlas.example"})
        base, server, thread = _serve(app)
        try:
            with httpx.Client(base_url=base) as client:
                statuses = []
                for i in range(12):
                    form = client.get("/subscribe")
                    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
                    answer = client.post("/subscribe", data={"email": f"user{i}@example.org", "csrf": csrf},
                                         headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
                    statuses.append(answer.status_code)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    assert statuses == [200] * 10 + [429] * 2


def test_a_trusted_proxy_names_the_client(fixture_store):
    from paperatlas.web.security import ClientAddress

    seen = []

    async def app(scope, receive, send):
        seen.append(scope["client"][0])

    import asyncio

    middleware = ClientAddress(app, trusted_proxies=["10.0.0.0/8"])
    for peer, forwarded in (("10.0.0.5", "198.51.100.7, 10.0.0.9"), ("192.0.2.1", "198.51.100.7"),
                            ("10.0.0.5", "not-an-address")):
        scope = {"type": "http", "client": (peer, 1234), "headers": [(b"x-forwarded-for", forwarded.encode())]}
        asyncio.run(middleware(scope, None, None))
    assert seen == ["198.51.100.7", "192.0.2.1", "10.0.0.5"]


def test_render_threads_setting(tmp_path):
    from paperatlas.settings import Settings, SettingsError

    env = {"PAPERATLAS_DATA_DIR": str(tmp_path)}
    assert Settings.load(env).web_threads == 8
    assert Settings.load({**env, "PAPERATLAS_WEB_THREADS": "3"}).web_threads == 3
    for bad in ("0", "-1", "many", "1e3", "999"):
        with pytest.raises(SettingsError, match="PAPERATLAS_WEB_THREADS"):
            Settings.load({**env, "PAPERATLAS_WEB_THREADS": bad})


def test_the_lifespan_limits_render_threads(fixture_store, monkeypatch):
    import anyio.to_thread

    store, _ids = fixture_store
    monkeypatch.setenv("PAPERATLAS_WEB_THREADS", "3")
    app = create_app(store, public_url="", trusted_hosts=[], trusted_proxies=[])
    seen = []

    @app.get("/_threads")
    async def threads():
        seen.append(anyio.to_thread.current_default_thread_limiter().total_tokens)
        return {}

    with TestClient(app) as client:
        assert client.get("/_threads").status_code == 200
    assert seen == [3]
