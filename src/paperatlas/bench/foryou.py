"""``paperatlas bench for-you``: how fast the "For you" page answers and how long one reader's retraining takes.

Run on a built store (``--data-dir``, e.g. the demo store).  The bench makes ``--readers`` synthetic readers in
that store (``bench-foryou-N@bench.example.org``), each with a library of 10 papers of one category (a random paper
and 9 others of its primary category), 3 upvotes in that category, and follows of the first paper's first author
and of the category; then it measures, in this process, through the whole web app (routing, session look-up,
queries, template; response cache off, as reader pages are never cached):

* ``retrain_ms``: :func:`readers.foryou.retrain` per reader (profile read, candidates, scoring, rows written);
* ``page_ms``: ``GET /for-you`` with the reader's session, ``--requests`` times per reader (the stored list);
* ``api_ms``: ``GET /api/me/for-you`` likewise;
* ``page_after_action_ms``: ``GET /for-you`` right after a thumbs-down recorded without the web layer's background
  retraining, so the page retrains first (the worst case a reader can meet).

The readers and everything they made are deleted at the end (``finally``), so the store is left as it was apart
from the ``readers.activity`` counter the votes bump.  The load average is printed: the figures are only
comparable at a similar load.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from typing import Any

import click

from ..context import AppContext, fail, pass_app
from ..readers import accounts, follows, foryou, library, votes
from ..search.vectors import open_vectors
from ..store import Store
from .report import emit, json_option, machine, peak_rss_mb

TARGETS = {"page_p50_ms": 50.0, "retrain_ms_p50": 200.0}
EMAIL = "bench-foryou-{}@bench.example.org"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


def _make_reader(store: Store, rng: random.Random, n: int) -> accounts.Session:
    db = store.db
    link = accounts.request_signin(db, EMAIL.format(n), client=f"bench-foryou-{n}")
    assert link.token is not None
    session, _ = accounts.complete_signin(db, link.token)
    me = session.account.id
    total = int(db.scalar("SELECT MAX(id) FROM papers") or 0)
    first = None
    while first is None:
        row = db.query_tuples("SELECT id, primary_category FROM papers WHERE id >= ? AND primary_category IS NOT "
                              "NULL ORDER BY id LIMIT 1", (rng.randint(1, total),))
        first = row[0] if row else None
    paper, category = int(first[0]), str(first[1])
    same = [int(i) for (i,) in db.query_tuples("SELECT id FROM papers WHERE primary_category = ? AND id <> ?",
                                               (category, paper))]
    picked = rng.sample(same, min(12, len(same)))
    for pid in [paper, *picked[:9]]:
        library.save(db, me, pid)
    for pid in picked[9:]:
        votes.upvote(db, me, pid, client=f"bench-foryou-{n}")
    aid = db.scalar("SELECT i.aid FROM authorships a JOIN identities i ON i.id = a.identity_id "
                    "WHERE a.paper_id = ? ORDER BY a.position LIMIT 1", (paper,))
    if aid:
        follows.follow(db, me, "author", str(aid))
    follows.follow(db, me, "category", category)
    return session


def _cleanup(store: Store, readers: int) -> None:
    db = store.db
    clients = [votes.client_key(db, f"bench-foryou-{n}") for n in range(readers)]
    ids = [int(i) for (i,) in db.query_tuples("SELECT id FROM reader_accounts WHERE email LIKE ?",
                                              (EMAIL.format("%"),))]
    with db.transaction():
        for me in ids:
            for table in ("reader_recommendations", "reader_recommendation_state", "reader_feedback",
                          "reader_votes", "reader_follows", "reader_sessions", "reader_api_tokens"):
                db.execute(f"DELETE FROM {table} WHERE account_id = ?", (me,))
            db.execute("DELETE FROM reader_collection_items WHERE collection_id IN "
                       "(SELECT id FROM reader_collections WHERE account_id = ?)", (me,))
            db.execute("DELETE FROM reader_collections WHERE account_id = ?", (me,))
            db.execute("DELETE FROM paper_signals WHERE user_key = ?", (f"account:{me}",))
            db.execute("DELETE FROM reader_rate_events WHERE scope = 'account' AND key = ?", (str(me),))
            db.execute("DELETE FROM reader_accounts WHERE id = ?", (me,))
        db.execute("DELETE FROM reader_signin_links WHERE email LIKE ?", (EMAIL.format("%"),))
        db.execute("DELETE FROM reader_rate_events WHERE key LIKE 'bench-foryou-%' OR key LIKE ?",
                   (EMAIL.format("%"),))
        for key in clients:
            db.execute("DELETE FROM reader_rate_events WHERE scope = 'client' AND key = ?", (key,))


@click.command("for-you")
@click.option("--readers", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--requests", default=10, show_default=True, type=click.IntRange(1, 200),
              help="Page and API requests per reader.")
@click.option("--seed", default=22, show_default=True, type=int)
@json_option
@pass_app
def bench_foryou(app: AppContext, readers: int, requests: int, seed: int, as_json: bool) -> None:
    """Time the "For you" page and one reader's retraining on a built store (run `paperatlas demo` first)."""
    from fastapi.testclient import TestClient

    from ..web.app import create_app

    store = app.store
    if not store.db.scalar("SELECT COUNT(*) FROM papers"):
        fail("the store has no papers: build one first (`paperatlas demo --no-serve`)")
    if open_vectors(store) is None:
        fail("the store has no vector index: run `paperatlas build` first")
    load_before = os.getloadavg()
    _cleanup(store, 500)  # a crashed earlier run's readers
    rng = random.Random(seed)
    site = create_app(store, cache_size=0, settings=app.settings)
    retrain_ms: list[float] = []
    page_ms: list[float] = []
    api_ms: list[float] = []
    after_ms: list[float] = []
    shown: list[int] = []
    try:
        sessions = [_make_reader(store, rng, n) for n in range(readers)]
        for session in sessions:
            retrain_ms.append(foryou.retrain(store, session.account.id)["ms"])
        for session in sessions:
            client = TestClient(site, client=("127.0.0.1", 50022))
            client.cookies.set("pa_session", session.token)
            client.cookies.set("pa_csrf", session.csrf)
            client.get("/for-you")  # first request of a client: not timed
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get("/for-you")
                page_ms.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    fail(f"/for-you answered {answer.status_code}")
                started = time.perf_counter()
                data = client.get("/api/me/for-you")
                api_ms.append((time.perf_counter() - started) * 1000)
            shown.append(len(data.json()["items"]))
            first = data.json()["items"]
            if first:
                paper = store.db.scalar("SELECT paper_id FROM paper_ids WHERE value = ?", (first[0]["paper"],)) \
                    or store.db.scalar("SELECT id FROM papers WHERE pid = ?", (first[0]["paper"],))
                foryou.give_feedback(store.db, session.account.id, int(paper), "down")
                started = time.perf_counter()
                client.get("/for-you")
                after_ms.append((time.perf_counter() - started) * 1000)
    finally:
        _cleanup(store, readers)
    figures: dict[str, Any] = {
        "papers": int(store.db.scalar("SELECT COUNT(*) FROM papers")),
        "vector_index": open_vectors(store).kind,  # type: ignore[union-attr]
        "readers": readers, "requests_per_reader": requests,
        "recommendations_shown_p50": int(statistics.median(shown)) if shown else 0,
        "page_p50_ms": _pct(page_ms, 0.5), "page_p95_ms": _pct(page_ms, 0.95),
        "api_p50_ms": _pct(api_ms, 0.5),
        "retrain_ms_p50": _pct(retrain_ms, 0.5), "retrain_ms_max": round(max(retrain_ms), 2),
        "page_after_action_p50_ms": _pct(after_ms, 0.5),
        "targets": TARGETS,
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": machine(),
    }
    figures["meets_targets"] = (figures["page_p50_ms"] <= TARGETS["page_p50_ms"]
                                and figures["retrain_ms_p50"] <= TARGETS["retrain_ms_p50"])
    emit("For you: page and retraining", figures, as_json)
