"""Profile claims with the real disambiguation stage: a verified owner's removal of a wrong paper survives a full
rebuild, adding a paper of the same name works, and the operator's commands (list / approve / reject / revoke)."""

from __future__ import annotations

import orjson
import pytest

from paperatlas.disambiguation import stage
from paperatlas.disambiguation.datasets import read_dblp_homonyms
from paperatlas.pipeline.build import BuildOptions
from paperatlas.readers import accounts, claims
from paperatlas.readers.common import NotFound, ReaderError
from support.mention_store import insert_mentions


def _person(store):
    """The Jun Zhang with the most papers after disambiguation, and those papers' public ids."""
    aid, identity = store.db.query_tuples(
        "SELECT i.aid, i.id FROM identities i JOIN authorships a ON a.identity_id = i.id "
        "WHERE i.name_key = 'jun zhang' GROUP BY i.id, i.aid ORDER BY COUNT(*) DESC, i.id LIMIT 1")[0]
    pids = [p for (p,) in store.db.query_tuples(
        "SELECT p.pid FROM papers p JOIN authorships a ON a.paper_id = p.id WHERE a.identity_id = ? ORDER BY p.id",
        (identity,))]
    return aid, identity, pids


def _papers_of(store, aid):
    return {p for (p,) in store.db.query_tuples(
        "SELECT p.pid FROM papers p JOIN authorships a ON a.paper_id = p.id JOIN identities i "
        "ON i.id = a.identity_id WHERE i.aid = ?", (aid,))}


@pytest.fixture
def clustered(store, shared):
    jz = read_dblp_homonyms(shared / "disambiguation" / "dblp-jun-zhang-homonyms")
    insert_mentions(store, jz.mentions[:400])
    stage.run(store, BuildOptions(show_progress=False))
    return store


@pytest.mark.slow
def test_removed_paper_stays_off_after_a_full_rebuild(clustered, cli):
    store = clustered
    aid, identity, pids = _person(store)
    assert len(pids) >= 2
    store.db.execute("UPDATE authorships SET affiliations = ? WHERE identity_id = ?",
                     (orjson.dumps(["Atlasville Institute of Technology"]).decode(), identity))
    owner = accounts.set_role(store.db, "jz@atlasville.ac.uk", "reader")
    claim = claims.request_claim(store.db, owner, aid)
    assert claim.status == "approved" and claim.method == "domain" and "Atlasville" in claim.evidence
    wrong = pids[-1]
    outcome = claims.remove_paper(store, owner, aid, wrong)
    assert outcome.action == "split" and wrong not in _papers_of(store, aid)
    stage.run(store, BuildOptions(show_progress=False, full=True))
    assert wrong not in _papers_of(store, aid)
    assert _papers_of(store, aid) == set(pids) - {wrong}
    # and back: the owner adds it again from the name cluster, which a rebuild keeps too
    claims.add_paper(store, owner, aid, wrong)
    stage.run(store, BuildOptions(show_progress=False, full=True))
    assert wrong in _papers_of(store, aid)
    actors = {r[0] for r in store.db.query_tuples("SELECT actor FROM identity_curations")}
    assert actors == {f"author:{owner.id} (verified by the author)"}
    # nobody else may edit the profile
    stranger = accounts.set_role(store.db, "x@elsewhere.org", "reader")
    with pytest.raises(NotFound):
        claims.remove_paper(store, stranger, aid, wrong)


def test_operator_queue_from_the_command_line(clustered, cli):
    store = clustered
    aid, _, _ = _person(store)
    asker = accounts.set_role(store.db, "someone@unrelated-lab.org", "reader")
    claim = claims.request_claim(store.db, asker, aid)
    assert claim.status == "pending"
    listed = orjson.loads(cli("claims", "list", "--json").output)
    assert [c["id"] for c in listed] == [claim.id] and listed[0]["email"] == "someone@unrelated-lab.org"
    approved = cli("claims", "approve", str(claim.id), "--operator", "ops", "--json")
    assert approved.exit_code == 0 and orjson.loads(approved.output)[0]["status"] == "approved"
    assert claims.owner(store.db, aid) == asker.id
    again = cli("claims", "reject", str(claim.id))
    assert again.exit_code != 0 and "approved" in again.output
    other = accounts.set_role(store.db, "other@another-lab.org", "reader")
    with pytest.raises(ReaderError, match="already claimed"):
        claims.request_claim(store.db, other, aid)
    assert cli("claims", "revoke", str(claim.id)).exit_code == 0
    assert claims.owner(store.db, aid) is None
    assert orjson.loads(cli("claims", "list", "--status", "revoked", "--json").output)[0]["id"] == claim.id
    assert cli("claims", "approve", "999999").exit_code != 0
