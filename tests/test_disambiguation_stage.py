"""The build stage on a real store: every authorship gets a person, incremental runs keep ids, full rebuilds keep
an identity's aid when it keeps most of its papers, curation survives every rebuild."""

from __future__ import annotations

import pytest

from paperatlas.disambiguation import curation, stage
from paperatlas.disambiguation.clusters import list_name_clusters, name_cluster
from paperatlas.disambiguation.datasets import read_dblp_homonyms
from paperatlas.normalize import name_key
from paperatlas.pipeline.build import BuildOptions
from support.mention_store import insert_mentions


@pytest.fixture(scope="module")
def jun_zhang(shared):
    data = read_dblp_homonyms(shared / "disambiguation" / "dblp-jun-zhang-homonyms")
    keep = [i for i, g in enumerate(data.gold) if g in ("0001", "0009")]
    return [data.mentions[i] for i in keep], [data.gold[i] for i in keep]


def _assignments(store):
    return dict(store.db.query_tuples(
        "SELECT a.id, i.aid FROM authorships a JOIN identities i ON i.id = a.identity_id"))


def test_every_authorship_gets_an_identity(store, jun_zhang):
    mentions, _ = jun_zhang
    insert_mentions(store, mentions)
    figures = stage.run(store, BuildOptions(show_progress=False))
    assert figures["mode"] == "full"
    assert store.db.scalar("SELECT COUNT(*) FROM authorships WHERE identity_id IS NULL") == 0
    total = store.db.scalar("SELECT COUNT(*) FROM authorships")
    assert figures["mentions"] == total
    counts = store.db.scalar("SELECT SUM(paper_count) FROM identities")
    assert counts >= store.db.scalar("SELECT COUNT(DISTINCT paper_id) FROM authorships")
    cluster = name_cluster(store, "JUN ZHANG")
    expected = {m.paper for m in mentions if name_key(m.name) == "jun zhang"}
    assert cluster["paper_count"] == len(cluster["paper_ids"]) == len(expected) > 100
    assert sum(i["paper_count"] for i in cluster["identities"]) >= cluster["paper_count"]
    assert list_name_clusters(store, prefix="jun z", limit=5)[0]["key"] == "jun zhang"


def test_incremental_keeps_ids_and_full_rebuild_keeps_aids(store, jun_zhang):
    mentions, _ = jun_zhang
    first, later = mentions[:-5], mentions[-5:]
    insert_mentions(store, first)
    stage.run(store, BuildOptions())
    before = _assignments(store)
    insert_mentions(store, later, change_seq=2)
    figures = stage.run(store, BuildOptions())
    assert figures["mode"] == "incremental"
    assert figures["mentions"] < store.db.scalar("SELECT COUNT(*) FROM authorships")  # not the whole world
    after = _assignments(store)
    assert all(after[k] == v for k, v in before.items())  # nobody already assigned moved
    assert store.db.scalar("SELECT COUNT(*) FROM authorships WHERE identity_id IS NULL") == 0
    # a full rebuild from scratch reproduces the clustering and keeps every aid that keeps most of its papers
    rebuilt = stage.run(store, BuildOptions(full=True))
    assert rebuilt["mode"] == "full"
    final = _assignments(store)
    kept = sum(1 for k, v in after.items() if final[k] == v)
    assert kept / len(after) > 0.9


def test_curation_survives_rebuilds(store, jun_zhang):
    mentions, _ = jun_zhang
    insert_mentions(store, mentions)
    stage.run(store, BuildOptions())
    biggest = store.db.query("SELECT id, aid FROM identities ORDER BY paper_count DESC, id LIMIT 2")
    keep, other = biggest[0]["aid"], biggest[1]["aid"]
    curation.merge(store, keep, other, actor="test")
    merged = set(store.db.query_tuples("SELECT a.id FROM authorships a JOIN identities i ON i.id = a.identity_id "
                                       "WHERE i.aid = ?", (keep,)))
    # split two papers off, then move one authorship back
    pids = [r[0] for r in store.db.query_tuples(
        "SELECT p.pid FROM authorships a JOIN papers p ON p.id = a.paper_id JOIN identities i ON i.id = a.identity_id "
        "WHERE i.aid = ? ORDER BY p.id LIMIT 2", (keep,))]
    split = curation.split(store, keep, pids)
    new_aid = split.result["new_author"]
    moved_back = store.db.scalar("SELECT a.id FROM authorships a JOIN identities i ON i.id = a.identity_id "
                                 "WHERE i.aid = ? ORDER BY a.id LIMIT 1", (new_aid,))
    curation.move(store, str(moved_back), keep)
    expected = _assignments(store)
    for full in (False, True):
        stage.run(store, BuildOptions(full=full))
        now = _assignments(store)
        assert all(now[k] == expected[k] for k in merged if k in expected), full
        assert sum(1 for v in now.values() if v == new_aid) == 1
    actions = [row["action"] for row in curation.audit_log(store)]
    assert actions == ["move", "split", "merge"]
    assert store.db.scalar("SELECT target_aid FROM identity_redirects WHERE aid = ?", (other,)) == keep


def test_curation_rejects_bad_input(store, jun_zhang):
    mentions, _ = jun_zhang
    insert_mentions(store, mentions[:20])
    stage.run(store, BuildOptions())
    aid = store.db.scalar("SELECT aid FROM identities LIMIT 1")
    with pytest.raises(curation.CurationError):
        curation.merge(store, aid, "a-nobody")
    with pytest.raises(curation.CurationError):
        curation.merge(store, aid, aid)
    with pytest.raises(curation.CurationError):
        curation.split(store, aid, ["arxiv:9999.99999"])
    with pytest.raises(curation.CurationError):
        curation.move(store, "999999", aid)
