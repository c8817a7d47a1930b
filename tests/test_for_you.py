"""The "For you" page and API over HTTP, on a small store with known vectors: the reader's own list only,
thumbs refused without CSRF, feedback changing the next answer, retraining after actions and after a build."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from paperatlas.embeddings import model_name
from paperatlas.embeddings.store import content_hash, to_blob
from paperatlas.readers import accounts, follows, foryou, library, votes
from paperatlas.search.corpus import load_papers
from paperatlas.search.stage import update
from paperatlas.store import open_store
from paperatlas.web.app import create_app

E = np.eye(8, dtype=np.float32)
# key: (title, category, authors, vector)
PAPERS = {
    "parse1": ("Neural dependency parsing", "cs.CL", ["Alice Adams"], E[0]),
    "parse2": ("Transition-based parsing", "cs.CL", ["Bob Brown"], E[0] + 0.2 * E[1]),
    "parse3": ("Graph-based neural parsing", "cs.CL", ["Carol Clark"], E[0] + 0.1 * E[2]),
    "parse4": ("Parsing for spam filters", "cs.CL", ["Gil Gray"], E[0] + 0.3 * E[3]),
    "parse5": ("Parsing low-resource languages", "cs.CL", ["Hal Hill"], E[0] + 0.3 * E[4] + 0.3 * E[3]),
    "robot1": ("Robot motion planning", "cs.RO", ["Dave Dunn"], E[5]),
    "robot2": ("Legged robot control", "cs.RO", ["Eve Evans"], E[5] + 0.2 * E[6]),
    "robot3": ("Robot grasping", "cs.RO", ["Fay Fox"], E[5] + 0.2 * E[7]),
}


@pytest.fixture
def site(tmp_path: Path):
    store = open_store(tmp_path / "data")
    db = store.db
    load_papers(store, [{"ids": {"arxiv": f"2301.{i:05d}"}, "title": title, "abstract": None, "year": 2023,
                         "submitted": f"2023-01-{i + 1:02d}", "primary_category": cat, "categories": [cat],
                         "authors": authors} for i, (title, cat, authors, _) in enumerate(PAPERS.values())])
    ids = {key: int(db.scalar("SELECT paper_id FROM paper_ids WHERE value = ?", (f"2301.{i:05d}",)))
           for i, key in enumerate(PAPERS)}
    for n, (key, (_, _, authors, vector)) in enumerate(PAPERS.items(), start=1):
        db.execute("INSERT INTO identities (id, aid, name, name_key, created_at, modified_at) "
                   "VALUES (?, ?, ?, ?, 'now', 'now')", (n, f"a{n}", authors[0], authors[0].lower()))
        db.execute("UPDATE authorships SET identity_id = ? WHERE paper_id = ?", (n, ids[key]))
        unit = vector / np.linalg.norm(vector)
        db.execute("INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, ?, ?, ?, ?)",
                   (ids[key], model_name(), content_hash(key), len(unit), to_blob(unit)))
    update(store)
    app = create_app(store, cache_size=0)
    yield store, ids, app
    store.close()


def signed_in(store, app, email: str) -> tuple[TestClient, accounts.Session]:
    link = accounts.request_signin(store.db, email, client="198.51.100.1")
    session, _ = accounts.complete_signin(store.db, link.token)
    c = TestClient(app, client=("127.0.0.1", 50123), follow_redirects=False)
    c.cookies.set("pa_session", session.token)
    c.cookies.set("pa_csrf", session.csrf)
    return c, session


def pid(store, paper_id: int) -> str:
    return store.db.scalar("SELECT pid FROM papers WHERE id = ?", (paper_id,))


def listed(html: str) -> list[str]:
    """The recommended papers' ids, twice each (thumbs up and down forms); not the hidden papers' Undo forms."""
    return re.findall(r'name="paper" value="([^"]+)"', html.split('class="hidden-papers"')[0])


def test_anonymous_gets_a_sign_in_prompt_and_no_api(site):
    _, _, app = site
    anon = TestClient(app, follow_redirects=False)
    page = anon.get("/for-you")
    assert page.status_code == 200 and "/signin?next=/for-you" in page.text and 'name="paper"' not in page.text
    assert anon.get("/api/me/for-you").status_code == 401
    assert anon.post("/for-you/feedback", data={"paper": "x", "value": "up"}).status_code == 401


def test_saved_papers_bring_their_neighbours_with_reasons(site):
    store, ids, app = site
    c, session = signed_in(store, app, "reader@example.org")
    library.save(store.db, session.account.id, ids["parse1"])
    page = c.get("/for-you")
    assert page.status_code == 200 and "private" in page.headers["cache-control"]
    shown = listed(page.text)[::2]  # two forms (up, down) per paper
    assert shown[0] == pid(store, ids["parse3"]) and pid(store, ids["parse1"]) not in shown
    assert "close to Neural dependency parsing" in page.text
    assert 'href="/for-you" aria-current="page"' in page.text  # the header link
    api = c.get("/api/me/for-you").json()["items"]
    assert [i["paper"] for i in api] == shown
    assert api[0]["reasons"] and api[0]["feedback"] is None


def test_another_readers_recommendations_are_never_visible(site):
    store, ids, app = site
    alice, a = signed_in(store, app, "alice@example.org")
    bob, b = signed_in(store, app, "bob@example.org")
    library.save(store.db, a.account.id, ids["parse1"])
    library.save(store.db, b.account.id, ids["robot1"])
    alice_ids = {i["paper"] for i in alice.get("/api/me/for-you").json()["items"][:2]}
    bob_ids = {i["paper"] for i in bob.get("/api/me/for-you").json()["items"][:2]}
    assert alice_ids == {pid(store, ids["parse2"]), pid(store, ids["parse3"])}
    assert bob_ids == {pid(store, ids["robot2"]), pid(store, ids["robot3"])}
    # an API token answers for its own account only, whatever the session cookie says
    token = accounts.create_api_token(store.db, b.account.id, "script")
    by_token = alice.get("/api/me/for-you", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    assert {i["paper"] for i in by_token[:2]} == bob_ids
    # nothing in the request picks the account: a query parameter naming another account is ignored
    assert {i["paper"] for i in alice.get(f"/api/me/for-you?account_id={b.account.id}").json()["items"][:2]} \
        == alice_ids
    # Bob's thumbs-down on a paper leaves Alice's list as it was
    bob.post("/for-you/feedback", data={"paper": pid(store, ids["parse3"]), "value": "down", "csrf": b.csrf})
    assert {i["paper"] for i in alice.get("/api/me/for-you").json()["items"][:2]} == alice_ids


def test_thumbs_without_csrf_are_refused(site):
    store, ids, app = site
    c, session = signed_in(store, app, "csrf@example.org")
    library.save(store.db, session.account.id, ids["parse1"])
    target = pid(store, ids["parse3"])
    for token in ("", "forged-token"):
        answer = c.post("/for-you/feedback", data={"paper": target, "value": "down", "csrf": token})
        assert answer.status_code == 403 and "Please confirm" in answer.text
    assert foryou.feedback_of(store.db, session.account.id) == {}
    # the API with the session cookie needs the X-CSRF-Token header; with it, it works
    assert c.put(f"/api/me/for-you/feedback/{target}", json={"feedback": "down"}).status_code == 403
    assert foryou.feedback_of(store.db, session.account.id) == {}
    ok = c.put(f"/api/me/for-you/feedback/{target}", json={"feedback": "down"},
               headers={"X-CSRF-Token": session.csrf})
    assert ok.status_code == 200 and foryou.feedback_of(store.db, session.account.id) == {ids["parse3"]: "down"}
    assert c.put(f"/api/me/for-you/feedback/{target}", json={"feedback": "sideways"},
                 headers={"X-CSRF-Token": session.csrf}).status_code == 400


def test_feedback_changes_the_next_answer(site):
    store, ids, app = site
    c, session = signed_in(store, app, "thumbs@example.org")
    library.save(store.db, session.account.id, ids["parse1"])
    before = listed(c.get("/for-you").text)[::2]
    assert before[0] == pid(store, ids["parse3"])
    score = {i["paper"]: i["score"] for i in c.get("/api/me/for-you").json()["items"]}
    # thumbs-down on a parsing paper: it leaves the list, and papers close to it (spam-filter parsing) fall
    assert before.index(pid(store, ids["parse5"])) < before.index(pid(store, ids["robot1"]))
    down = c.post("/for-you/feedback", data={"paper": pid(store, ids["parse4"]), "value": "down",
                                             "csrf": session.csrf})
    assert down.status_code == 303 and down.headers["location"] == "/for-you"
    after = listed(c.get("/for-you").text)[::2]
    assert pid(store, ids["parse4"]) not in after
    assert "Papers you marked not relevant (1)" in c.get("/for-you").text  # listed below, with an Undo button
    rescored = {i["paper"]: i["score"] for i in c.get("/api/me/for-you").json()["items"]}
    p5, p3 = pid(store, ids["parse5"]), pid(store, ids["parse3"])
    assert rescored[p5] < score[p5] and score[p3] - rescored[p3] < score[p5] - rescored[p5]
    # thumbs-up on a robot paper: robot papers join the top of the list
    c.post("/for-you/feedback", data={"paper": pid(store, ids["robot1"]), "value": "up", "csrf": session.csrf})
    top = {i["paper"] for i in c.get("/api/me/for-you").json()["items"][:3]}
    assert pid(store, ids["robot2"]) in top and pid(store, ids["robot3"]) in top
    got = c.get("/api/me/for-you/feedback").json()["items"]
    assert {g["paper"]: g["feedback"] for g in got} == {pid(store, ids["parse4"]): "down",
                                                          pid(store, ids["robot1"]): "up"}


def test_actions_mark_the_list_stale_and_a_retraining_clears_it(site):
    store, ids, app = site
    c, session = signed_in(store, app, "stale@example.org")
    me = session.account.id
    assert foryou.needs_training(store.db, me)
    c.get("/for-you")
    assert not foryou.needs_training(store.db, me)
    for act in (lambda: votes.upvote(store.db, me, ids["robot1"], client="x"),
                lambda: library.save(store.db, me, ids["parse1"]),
                lambda: follows.follow(store.db, me, "category", "cs.RO"),
                lambda: foryou.give_feedback(store.db, me, ids["parse2"], "down")):
        act()
        assert foryou.needs_training(store.db, me)
        foryou.retrain(store, me)
        assert not foryou.needs_training(store.db, me)
    # a page action (upvote) retrains in the background task after the answer
    answer = c.post(f"/paper/{pid(store, ids['robot2'])}/vote", data={"csrf": session.csrf})
    assert answer.status_code == 303 and not foryou.needs_training(store.db, me)
    profile = foryou.profile_of(store.db, me)
    assert ids["robot2"] in profile.positives and profile.negatives == (ids["parse2"],)
    assert profile.categories == ("cs.RO",)


def test_retrain_all_serves_every_reader(site):
    store, ids, app = site
    _, a = signed_in(store, app, "one@example.org")
    _, b = signed_in(store, app, "two@example.org")
    library.save(store.db, a.account.id, ids["parse1"])
    follows.follow(store.db, b.account.id, "category", "cs.RO")
    report = foryou.retrain_all(store)
    assert report["readers"] == 2 and report["skipped_no_vectors"] == 0
    rows = dict(store.db.query_tuples("SELECT account_id, COUNT(*) FROM reader_recommendations GROUP BY account_id"))
    assert rows[a.account.id] >= 2 and rows[b.account.id] == 3
    assert orjson.dumps(report)


def test_digest_has_a_for_you_section_for_readers_with_a_library(site):
    from datetime import date

    from paperatlas.digest.build import DigestBuilder
    from paperatlas.digest.render import email_env
    from paperatlas.digest.subscriptions import Follows, subscribe

    store, ids, app = site
    _, reader = signed_in(store, app, "digest-reader@example.org")
    library.save(store.db, reader.account.id, ids["parse1"])
    _, idle = signed_in(store, app, "digest-idle@example.org")  # an account with neither library nor votes
    builder = DigestBuilder(store, date(2023, 1, 9))
    with_library = builder.build(subscribe(store, "digest-reader@example.org", "daily").subscriber)
    first = with_library.sections[0]
    assert first.kind == "for_you" and first.papers[0].id == ids["parse3"]
    assert first.papers[0].reason == "close to Neural dependency parsing"
    assert ids["parse1"] not in with_library.paper_ids
    text = email_env().get_template("paper.txt").render(p=first.papers[0], url="https://x/paper/1")
    assert "Why: close to Neural dependency parsing" in text
    for email in ("digest-idle@example.org", "nobody@example.org"):
        sub = subscribe(store, email, "daily", Follows(categories=["cs.CL"])).subscriber
        assert all(s.kind != "for_you" for s in builder.build(sub).sections)
    assert idle.account.id != reader.account.id


def test_api_is_in_the_openapi_document(site):
    _, _, app = site
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    assert "get" in paths["/api/me/for-you"]
    assert {"put", "delete"} <= set(paths["/api/me/for-you/feedback/{ref}"])


def test_without_a_vector_index_the_page_says_what_to_run(site):
    store, ids, app = site
    c, session = signed_in(store, app, "novectors@example.org")
    library.save(store.db, session.account.id, ids["parse1"])
    from paperatlas.search.vectors import vector_dir

    (vector_dir(store) / "meta.json").unlink()
    page = c.get("/for-you")
    assert page.status_code == 503 and "paperatlas build" in page.text
    assert c.get("/api/me/for-you").status_code == 503
    report = foryou.retrain_all(store)
    assert report["skipped_no_vectors"] == 1 and foryou.needs_training(store.db, session.account.id)


def test_build_retrains_every_reader_after_the_stages(site, cli):
    store, ids, app = site
    _, session = signed_in(store, app, "build@example.org")
    library.save(store.db, session.account.id, ids["robot1"])
    result = cli("build", "--no-embed", "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output.strip().splitlines()[-1])
    assert report["recommendations"]["readers"] == 1
    assert not foryou.needs_training(store.db, session.account.id)
    top = store.db.scalar("SELECT paper_id FROM reader_recommendations WHERE account_id = ? AND rank = 1",
                          (session.account.id,))
    assert top in {ids["robot2"], ids["robot3"]}


def test_undo_brings_a_hidden_paper_back(site):
    store, ids, app = site
    c, session = signed_in(store, app, "undo@example.org")
    library.save(store.db, session.account.id, ids["parse1"])
    target = pid(store, ids["parse3"])
    c.post("/for-you/feedback", data={"paper": target, "value": "down", "csrf": session.csrf})
    assert target not in listed(c.get("/for-you").text)[::2][:3]
    undo = c.post("/for-you/feedback", data={"paper": target, "value": "clear", "csrf": session.csrf})
    assert undo.status_code == 303
    assert listed(c.get("/for-you").text)[0] == target and foryou.feedback_of(store.db, session.account.id) == {}
