"""Readers end to end over HTTP: sign-in by e-mail link through the outbox, votes, library and exports, follows,
claims, the JSON API, and the security properties issue 21 lists (link reuse, expired link, tampered cookie,
CSRF, enumeration, vote stuffing, another reader's collection, a claim by a non-matching domain)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import bibtexparser
import orjson
import pytest
import rispy
from fastapi.testclient import TestClient

from paperatlas.bench.fixtures.web_store import build_fixture_store
from paperatlas.digest.config import load_config
from paperatlas.readers import accounts, claims, library, outbox, votes
from paperatlas.readers.common import utcnow
from paperatlas.store import open_store
from paperatlas.web.app import create_app

LOCAL = ("127.0.0.1", 50123)


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared):
    store = open_store(tmp_path_factory.mktemp("readers") / "data")
    ids = build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=40)
    app = create_app(store, cache_size=0, outbox=True)
    app.state.digest_config = load_config(store.data_dir, env={"PAPERATLAS_SECRET_KEY": "readers-test-0123456789"})
    yield store, ids, app
    store.close()


def client(app, host: str = "127.0.0.1") -> TestClient:
    return TestClient(app, client=(host, 50123), follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def latest_link(store, email: str) -> str:
    mail = next(m for m in outbox.messages(store.data_dir) if m.to == email)
    url = re.search(r"https?://\S+/signin/link\?token=\S+", mail.text).group(0)
    return parse_qs(urlsplit(url).query)["token"][0]


def sign_in(app, store, email: str, host: str = "127.0.0.1") -> TestClient:
    """The whole flow a person follows: form -> mail in the outbox -> link page -> button."""
    c = client(app, host)
    form = c.get("/signin")
    assert form.status_code == 200
    sent = c.post("/signin", data={"email": email, "csrf": csrf_of(form.text), "next": "/account"})
    assert sent.status_code == 200 and "Check your inbox" in sent.text
    token = latest_link(store, email)
    page = c.get("/signin/link", params={"token": token})
    assert page.status_code == 200
    done = c.post("/signin/link", data={"token": token, "csrf": csrf_of(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/account"
    cookie = done.headers.get_list("set-cookie")
    assert any("pa_session=" in h and "HttpOnly" in h and "SameSite=lax" in h for h in cookie)
    return c


def pid_of(store, paper_id: int) -> str:
    return store.db.scalar("SELECT pid FROM papers WHERE id = ?", (paper_id,))


def test_outbox_is_served_to_loopback_only(site):
    store, _, app = site
    sign_in(app, store, "loop@example.org")
    mine = client(app).get("/outbox")
    assert mine.status_code == 200 and "sign-in link" in mine.text
    name = re.search(r'href="/outbox/([^"]+)"', mine.text).group(1)
    shown = client(app).get(f"/outbox/{name}")
    assert shown.status_code == 200 and '<a href="http' in shown.text  # the link is clickable
    assert client(app, "203.0.113.9").get("/outbox").status_code == 404
    assert client(app, "203.0.113.9").get(f"/outbox/{name}").status_code == 404
    assert client(app).get("/outbox/..%2Fstore.sqlite").status_code == 404


def test_link_reuse_and_expired_link_are_refused(site):
    store, _, app = site
    c = sign_in(app, store, "reuse@example.org")
    token = latest_link(store, "reuse@example.org")
    again = c.post("/signin/link", data={"token": token, "csrf": c.cookies.get("pa_csrf")})
    assert again.status_code == 400 and "already used" in again.text
    assert c.get("/signin/link", params={"token": token}).status_code == 400
    old = accounts.request_signin(store.db, "late@example.org", client="198.51.100.7",
                                  now=utcnow() - accounts.LINK_LIFETIME - timedelta(seconds=1))
    fresh = client(app)
    csrf = csrf_of(fresh.get("/signin").text)
    expired = fresh.post("/signin/link", data={"token": old.token, "csrf": csrf})
    assert expired.status_code == 400 and "expired" in expired.text
    assert "pa_session" not in expired.headers.get("set-cookie", "")


def test_tampered_cookie_is_anonymous_and_signout_revokes(site):
    store, _, app = site
    c = sign_in(app, store, "cookie@example.org")
    assert c.get("/account").status_code == 200
    real = c.cookies.get("pa_session")
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    other = client(app)
    other.cookies.set("pa_session", forged)
    assert other.get("/account").status_code == 303
    assert other.get("/api/me").status_code == 401
    # sign out everywhere: a second session of the same account dies too
    second = sign_in(app, store, "cookie@example.org")
    assert second.get("/account").status_code == 200
    out = c.post("/signout", data={"csrf": c.cookies.get("pa_csrf"), "everywhere": "1"})
    assert out.status_code == 303
    stale = client(app)
    stale.cookies.set("pa_session", second.cookies.get("pa_session"))
    assert stale.get("/account").status_code == 303


def test_forms_without_csrf_change_nothing(site):
    store, _, app = site
    c = sign_in(app, store, "csrf@example.org")
    pid = pid_of(store, 1)
    before = votes.vote_count(store.db, store.db.scalar("SELECT id FROM papers WHERE pid = ?", (pid,)))
    forged = c.post(f"/paper/{pid}/vote", data={"next": "/"})
    assert forged.status_code == 403 and 'name="csrf"' in forged.text  # a confirmation page, nothing done
    wrong = c.post(f"/paper/{pid}/vote", data={"csrf": "not-the-token"})
    assert wrong.status_code == 403
    assert votes.vote_count(store.db, store.db.scalar("SELECT id FROM papers WHERE pid = ?", (pid,))) == before
    mails = len(outbox.messages(store.data_dir, limit=10_000))
    anon = client(app)
    assert anon.post("/signin", data={"email": "victim@example.org"}).status_code == 403
    assert len(outbox.messages(store.data_dir, limit=10_000)) == mails
    # the JSON API: a session cookie alone cannot write
    assert c.put(f"/api/me/votes/{pid}").status_code == 403


def test_signin_answer_does_not_reveal_accounts(site):
    store, _, app = site
    sign_in(app, store, "known@example.org")
    answers = []
    for email in ("known@example.org", "unknown-person@example.org"):
        c = client(app, "192.0.2.44")
        form = c.get("/signin")
        mails = len(outbox.messages(store.data_dir, limit=10_000))
        answer = c.post("/signin", data={"email": email, "csrf": csrf_of(form.text)})
        # same work for both: one link made and one mail written, so the timing class is the same too
        assert len(outbox.messages(store.data_dir, limit=10_000)) == mails + 1
        answers.append((answer.status_code, answer.text))
    assert answers[0] == answers[1]
    # the per-address limit answers the same page, only without mailing
    for _ in range(accounts.ADDRESS_LIMIT[0] + 1):
        c = client(app, "192.0.2.45")
        answer = c.post("/signin", data={"email": "limited@example.org", "csrf": csrf_of(c.get("/signin").text)})
        assert (answer.status_code, answer.text) == answers[0]
    assert sum(m.to == "limited@example.org" for m in outbox.messages(store.data_dir, limit=10_000)) \
        == accounts.ADDRESS_LIMIT[0]


def test_vote_stuffing_counts_one_per_account_and_client(site, monkeypatch):
    store, _, app = site
    paper_id = store.db.scalar("SELECT MAX(id) FROM papers")
    pid = pid_of(store, paper_id)
    base = votes.vote_count(store.db, paper_id)
    stuffer = sign_in(app, store, "stuffer@example.org", host="10.9.9.9")
    for _ in range(3):
        assert stuffer.post(f"/paper/{pid}/vote", data={"csrf": stuffer.cookies.get("pa_csrf")}).status_code == 303
    assert votes.vote_count(store.db, paper_id) == base + 1
    for n in range(3):  # more accounts from the same machine
        extra = sign_in(app, store, f"sock{n}@example.org", host="10.9.9.9")
        extra.post(f"/paper/{pid}/vote", data={"csrf": extra.cookies.get("pa_csrf")})
    assert votes.vote_count(store.db, paper_id) == base + 1
    honest = sign_in(app, store, "honest@example.org", host="10.9.9.10")
    honest.post(f"/paper/{pid}/vote", data={"csrf": honest.cookies.get("pa_csrf")})
    assert votes.vote_count(store.db, paper_id) == base + 2
    page = client(app).get(f"/paper/{pid}")
    assert f'<span class="votes">{base + 2}</span>' in page.text
    # a flood from one account is refused, not counted
    monkeypatch.setattr(votes, "ACCOUNT_LIMIT", (2, timedelta(hours=1)))
    flood = sign_in(app, store, "flood@example.org", host="10.9.9.11")
    codes = [flood.post(f"/paper/{pid_of(store, i)}/vote", data={"csrf": flood.cookies.get("pa_csrf")}).status_code
             for i in range(1, 5)]
    assert codes[:2] == [303, 303] and codes[2:] == [429, 429]


def test_trending_counts_votes_up_to_as_of(site):
    from paperatlas.metrics import trending

    store = site[0]
    paper_id, submitted = store.db.query_tuples(
        "SELECT id, submitted FROM papers WHERE submitted IS NOT NULL ORDER BY submitted DESC LIMIT 1")[0]
    from datetime import date

    day = date.fromisoformat(submitted[:10])
    account = accounts.set_role(store.db, "trend@example.org", "reader")
    before = trending.compute(store.db, day)[paper_id][1]["upvotes"]
    votes.upvote(store.db, account.id, paper_id, client="10.7.7.7",
                 now=utcnow().replace(year=day.year, month=day.month, day=day.day) + timedelta(days=2))
    assert trending.compute(store.db, day)[paper_id][1]["upvotes"] == before  # cast after as_of: not counted
    assert trending.compute(store.db, day + timedelta(days=3))[paper_id][1]["upvotes"] == before + 1


def test_library_exports_parse_and_others_cannot_read(site):
    store, _, app = site
    owner = sign_in(app, store, "owner@example.org")
    pids = [pid_of(store, i) for i in (1, 2, 3)]
    for pid in pids:
        assert owner.post(f"/paper/{pid}/save", data={"csrf": owner.cookies.get("pa_csrf")}).status_code == 303
    mine = library.collections_of(store.db, accounts.find_account(store.db, "owner@example.org").id)
    assert [c.name for c in mine] == ["Saved"] and mine[0].size == 3
    cid = mine[0].id
    bib = owner.get(f"/library/{cid}/export.bibtex")
    assert bib.status_code == 200
    parsed = bibtexparser.parse_string(bib.text)
    assert len(parsed.entries) == 3 and not parsed.failed_blocks
    titles = {" ".join(store.db.scalar("SELECT title FROM papers WHERE pid = ?", (p,)).split()) for p in pids}
    assert {e["title"].strip("{}") for e in parsed.entries} <= {t.replace("&", r"\&") for t in titles} | titles
    ris = rispy.loads(owner.get(f"/library/{cid}/export.ris").text)
    assert len(ris) == 3 and all(r["title"] and r["authors"] for r in ris)
    csl = orjson.loads(owner.get(f"/library/{cid}/export.csl-json").content)
    assert {item["id"] for item in csl} == set(pids) and all(item["type"] and item["title"] for item in csl)
    # another reader, by id: exactly like a collection that does not exist
    other = sign_in(app, store, "other@example.org")
    theirs, missing = other.get(f"/library/{cid}"), other.get("/library/987654")
    assert theirs.status_code == missing.status_code == 404
    assert other.get(f"/library/{cid}/export.bibtex").status_code == 404
    assert other.post(f"/library/{cid}/remove", data={"csrf": other.cookies.get("pa_csrf"),
                                                      "paper": pids[0]}).status_code == 404
    # sharing gives a link anyone can read, with an Atom feed; unsharing ends it
    assert owner.post(f"/library/{cid}/share", data={"csrf": owner.cookies.get("pa_csrf"), "shared": "1"}
                      ).status_code == 303
    token = library.get_collection(store.db, mine[0].account_id, cid).share_token
    assert client(app).get(f"/shared/{token}").status_code == 200
    import feedparser

    feed = feedparser.parse(client(app).get(f"/shared/{token}/feed.atom").content)
    assert len(feed.entries) == 3
    owner.post(f"/library/{cid}/share", data={"csrf": owner.cookies.get("pa_csrf"), "shared": "0"})
    assert client(app).get(f"/shared/{token}").status_code == 404


def test_follow_buttons_following_page_and_digest_share_follows(site):
    store, _, app = site
    aid, name = store.db.query_tuples("SELECT aid, name FROM identities ORDER BY paper_count DESC LIMIT 1")[0]
    # a confirmed digest subscriber signs in: the subscription's follows carry over, and later follows reach it
    store.db.execute("INSERT INTO digest_subscribers (email, frequency, status, nonce, created_at, modified_at) "
                     "VALUES ('sub@example.org', 'daily', 'confirmed', 'n', '2025-01-01', '2025-01-01')")
    sid = store.db.scalar("SELECT id FROM digest_subscribers WHERE email = 'sub@example.org'")
    store.db.execute("INSERT INTO digest_follows (subscriber_id, kind, value) VALUES (?, 'category', 'cs.CL')",
                     (sid,))
    c = sign_in(app, store, "sub@example.org")
    author_page = c.get(f"/author/{aid}")
    assert 'action="/follow"' in author_page.text
    assert c.post("/follow", data={"kind": "author", "value": aid, "csrf": c.cookies.get("pa_csrf"),
                                   "next": "/following"}).status_code == 303
    page = c.get("/following")
    assert page.status_code == 200 and name in page.text and "cs.CL" in page.text
    follows = set(store.db.query_tuples("SELECT kind, value FROM digest_follows WHERE subscriber_id = ?", (sid,)))
    assert follows == {("category", "cs.CL"), ("author", aid)}
    bad = c.post("/follow", data={"kind": "author", "value": "a-nobody", "csrf": c.cookies.get("pa_csrf")})
    assert bad.status_code == 404


def test_claims_domain_match_approves_and_other_domains_queue(site):
    store, _, app = site
    aid, identity = store.db.query_tuples(
        "SELECT i.aid, i.id FROM identities i JOIN authorships a ON a.identity_id = i.id "
        "GROUP BY i.id, i.aid HAVING COUNT(*) >= 2 ORDER BY COUNT(*) DESC, i.id LIMIT 1")[0]
    store.db.execute("UPDATE authorships SET affiliations = ? WHERE identity_id = ?",
                     (orjson.dumps(["Atlasville University"]).decode(), identity))
    stranger = sign_in(app, store, "someone@unrelated-lab.org")
    queued = stranger.post(f"/author/{aid}/claim", data={"csrf": stranger.cookies.get("pa_csrf")})
    assert queued.status_code == 200 and "operator" in queued.text
    claim = claims.claims_of(store.db, accounts.find_account(store.db, "someone@unrelated-lab.org").id)[0]
    assert claim.status == "pending"
    assert stranger.get(f"/author/{aid}/manage").status_code == 403
    webmail = sign_in(app, store, "atlasville@gmail.com")
    webmail.post(f"/author/{aid}/claim", data={"csrf": webmail.cookies.get("pa_csrf")})
    assert claims.claims_of(store.db, accounts.find_account(store.db, "atlasville@gmail.com").id)[0].status \
        == "pending"
    owner = sign_in(app, store, "me@cs.atlasville.edu")
    done = owner.post(f"/author/{aid}/claim", data={"csrf": owner.cookies.get("pa_csrf")})
    assert done.status_code == 303 and done.headers["location"] == f"/author/{aid}/manage"
    assert claims.owner(store.db, aid) == accounts.find_account(store.db, "me@cs.atlasville.edu").id
    # the operator cannot approve the stranger's queued claim while the profile is owned
    with pytest.raises(Exception, match="already owned"):
        claims.approve(store.db, claim.id)
    edit = owner.post(f"/author/{aid}/manage/profile", data={
        "csrf": owner.cookies.get("pa_csrf"), "display_name": "A. Verified", "affiliation": "Atlasville",
        "homepage": "javascript:alert(1)"})
    assert edit.status_code == 400 and "http" in edit.text
    edit = owner.post(f"/author/{aid}/manage/profile", data={
        "csrf": owner.cookies.get("pa_csrf"), "display_name": "A. Verified", "homepage": "https://example.org/me"})
    assert edit.status_code == 303
    page = client(app).get(f"/author/{aid}")
    assert "Verified by the author" in page.text and "A. Verified" in page.text
    log = store.db.query("SELECT action, actor FROM identity_curations ORDER BY id DESC LIMIT 1")[0]
    assert log["action"] == "profile" and "verified by the author" in log["actor"]


def test_api_with_token(site):
    store, _, app = site
    c = sign_in(app, store, "script@example.org")
    made = c.post("/account/tokens", data={"csrf": c.cookies.get("pa_csrf"), "name": "tests"})
    token = re.search(r'id="new-token">([^<]+)<', made.text).group(1)
    api = client(app, "10.1.2.3")
    auth = {"Authorization": f"Bearer {token}"}
    pid = pid_of(store, 5)
    assert api.put(f"/api/me/votes/{pid}", headers=auth).json()["vote"] == "up"
    assert [v["paper"] for v in api.get("/api/me/votes", headers=auth).json()["items"]] == [pid]
    col = api.post("/api/me/collections", headers=auth, json={"name": "Reading group"}).json()
    assert api.put(f"/api/me/collections/{col['id']}/papers/{pid}", headers=auth).status_code == 200
    assert api.get(f"/api/me/collections/{col['id']}", headers=auth).json()["items"] == [pid]
    assert api.put("/api/me/follows/category/cs.LG", headers=auth).status_code == 200
    assert api.get("/api/me/follows", headers=auth).json()["items"][0]["value"] == "cs.LG"
    assert api.get("/api/me", headers={"Authorization": "Bearer pat_forged"}).status_code == 401
    paths = app.openapi()["paths"]
    assert "/api/me/votes/{ref}" in paths and "/api/me/collections" in paths and "/api/me/follows" in paths
    c.post("/account/tokens", data={"csrf": c.cookies.get("pa_csrf"), "revoke": "1"})
    assert api.get("/api/me", headers=auth).status_code == 401


def test_pages_work_for_anonymous_readers(site):
    store, _, app = site
    anon = client(app)
    pid = pid_of(store, 1)
    assert anon.get(f"/paper/{pid}").status_code == 200
    assert anon.get("/daily").status_code == 200
    back = anon.post(f"/paper/{pid}/vote", data={})
    assert back.status_code == 303 and back.headers["location"].startswith("/signin?next=")
    assert anon.get("/library").status_code == 303
    assert anon.get("/signin?next=//evil.example").status_code == 200
    assert 'value="/"' in anon.get("/signin?next=//evil.example").text


def test_subscribe_without_smtp_goes_to_the_outbox_and_picks_authors_by_name(site):
    store, _, app = site
    c = client(app)
    # an author found by name (never by id): a name that means one person is taken at once
    name, aid = store.db.query_tuples(
        "SELECT name, aid FROM identities i WHERE (SELECT COUNT(*) FROM identities j WHERE j.name_key = i.name_key)"
        " = 1 ORDER BY id LIMIT 1")[0]
    form = c.get("/subscribe")
    assert form.status_code == 200 and "author ids" not in form.text
    found = c.post("/subscribe", data={"author_name": name, "find": "1", "csrf": csrf_of(form.text)})
    assert found.status_code == 200 and f'value="{aid}"' in found.text and name in found.text
    # the shared name of the fixture means two people: both are offered, nothing is subscribed yet
    shared_name = store.db.scalar("SELECT name FROM identities GROUP BY name_key, name HAVING COUNT(*) > 1 LIMIT 1")
    if shared_name:
        two = c.post("/subscribe", data={"email": "pick@example.org", "author_name": shared_name,
                                         "csrf": csrf_of(form.text)})
        assert two.status_code == 200 and two.text.count('name="author"') >= 2
        assert store.db.scalar("SELECT 1 FROM digest_subscribers WHERE email = 'pick@example.org'") is None
    form = c.get(f"/subscribe?author={aid}")
    assert name in form.text and f'value="{aid}" checked' in form.text
    done = c.post("/subscribe", data={"email": "digest-reader@example.org", "frequency": "daily", "author": aid,
                                      "category": "cs.CL", "csrf": csrf_of(form.text)})
    assert done.status_code == 200 and "outbox" in done.text
    mail = next(m for m in outbox.messages(store.data_dir) if m.to == "digest-reader@example.org")
    confirm = re.search(r"https?://\S+/subscribe/confirm\?token=\S+", mail.text).group(0)
    assert confirm.startswith("http://testserver/")  # the address the demo was reached at, not a made-up one
    answer = c.get(urlsplit(confirm).path + "?" + urlsplit(confirm).query)
    assert answer.status_code == 200 and "confirmed" in answer.text
    follows = set(store.db.query_tuples(
        "SELECT f.kind, f.value FROM digest_follows f JOIN digest_subscribers s ON s.id = f.subscriber_id "
        "WHERE s.email = 'digest-reader@example.org'"))
    assert follows == {("author", aid), ("category", "cs.CL")}


def test_category_page_has_a_follow_button(site):
    store, _, app = site
    category = store.db.scalar("SELECT primary_category FROM papers WHERE primary_category IS NOT NULL LIMIT 1")
    page = client(app).get(f"/c/{category}")
    assert page.status_code == 200
    assert 'action="/follow"' in page.text and f'name="value" value="{category}"' in page.text


def test_signed_in_readers_revalidate_shared_pages(site):
    store, _, app = site
    pid = pid_of(store, 2)
    assert client(app).get(f"/paper/{pid}").headers["cache-control"].startswith("public")
    reader = sign_in(app, store, "fresh@example.org")
    assert reader.get(f"/paper/{pid}").headers["cache-control"] == "private, no-cache"
