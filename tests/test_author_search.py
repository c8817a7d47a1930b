"""Author search on a store built from real records: initials, typos, swapped order, homonyms as two people."""

from __future__ import annotations

import orjson
import pytest

from paperatlas.disambiguation import stage
from paperatlas.disambiguation.author_search import search_authors
from paperatlas.disambiguation.datasets import read_aminer, read_dblp_homonyms
from paperatlas.pipeline.build import BuildOptions
from support.mention_store import insert_mentions


@pytest.fixture
def people(store, shared):
    root = shared / "disambiguation"
    jz = read_dblp_homonyms(root / "dblp-jun-zhang-homonyms")
    keep = [m for m, g in zip(jz.mentions, jz.gold, strict=True) if g in ("0001", "0009")]
    aminer = read_aminer(root / "aminer-110")
    frank = [m for m, g in zip(aminer.mentions, aminer.groups, strict=True) if g == "Frank Mueller"]
    insert_mentions(store, keep + frank)
    stage.run(store, BuildOptions())
    return store


def test_initials_and_case_find_the_person(people):
    found = search_authors(people, "f mueller")
    assert found and all("mueller" in r["name"].lower() for r in found[:3])
    top = found[0]
    assert top["paper_count"] == len(top["paper_ids"]) > 0
    assert {"id", "name", "paper_ids", "top_coauthors", "top_categories", "affiliations", "years_active"} <= set(top)
    assert top["years_active"][0] <= top["years_active"][1]
    assert search_authors(people, "FRANK MUELLER")[0]["id"] == search_authors(people, "Frank Mueller")[0]["id"]


def test_typo_and_swapped_order(people):
    exact = {r["id"] for r in search_authors(people, "Frank Mueller")}
    assert exact & {r["id"] for r in search_authors(people, "Frank Muelller")}  # typo
    assert exact & {r["id"] for r in search_authors(people, "Mueller Frank")}  # swapped order
    assert exact & {r["id"] for r in search_authors(people, "Frank Müller")}  # diacritics fold, "muller" ~ "mueller"
    assert search_authors(people, "Zebulon Quartermaine") == []


def test_homonyms_come_back_as_several_people(people):
    found = search_authors(people, "jun zhang", limit=50)
    assert len(found) >= 2
    assert len({r["id"] for r in found}) == len(found)


def test_cli_search_json_and_bad_input(people, cli):
    result = cli("author", "search", "f mueller", "--json", "--limit", "3")
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.output)
    assert 0 < len(rows) <= 3 and rows[0]["paper_ids"]
    empty = cli("author", "search", "  ")
    assert empty.exit_code != 0


def test_remembered_block_keys_follow_the_identities(people):
    """The typo scan is remembered (block_keys), yet a person added afterwards is found by the next typo."""
    from paperatlas.disambiguation.block_keys import keys_like

    db = people.db
    fresh = [r[0] for r in db.query_tuples("SELECT DISTINCT block_key FROM identities WHERE block_key LIKE ?",
                                           ("% %",)) if r[0]]
    assert keys_like(db, "% %")[0] == fresh
    assert keys_like(db, "% %")[0] == fresh  # from memory, same rows in the same order
    assert search_authors(people, "Quintillianus") == []
    db.execute("INSERT INTO identities (aid, name, name_key, created_at, modified_at, block_key, paper_count) "
               "VALUES ('zz-new', 'Quintilianus', 'quintilianus', '2999-01-01', '2999-01-01', 'quintilianus q', 0)")
    assert "quintilianus q" in keys_like(db, "% %")[0]
    assert [r["name"] for r in search_authors(people, "Quintillianus")] == ["Quintilianus"]
