"""The curation commands end to end: merge, split, move, the audit log, and one-line errors."""

from __future__ import annotations

import orjson

from paperatlas.disambiguation import stage
from paperatlas.disambiguation.datasets import read_dblp_homonyms
from paperatlas.pipeline.build import BuildOptions
from support.mention_store import insert_mentions


def test_merge_split_move_and_log(store, shared, cli):
    jz = read_dblp_homonyms(shared / "disambiguation" / "dblp-jun-zhang-homonyms")
    insert_mentions(store, [m for m, g in zip(jz.mentions, jz.gold, strict=True) if g == "0009"])
    stage.run(store, BuildOptions())
    rows = store.db.query("SELECT aid FROM identities WHERE name_key = 'jun zhang' ORDER BY paper_count DESC")
    if len(rows) < 2:  # the model already joined them all: split one off first so there is something to merge
        pid = store.db.scalar("SELECT p.pid FROM papers p JOIN authorships a ON a.paper_id = p.id "
                              "JOIN identities i ON i.id = a.identity_id WHERE i.aid = ? LIMIT 1", (rows[0]["aid"],))
        assert cli("author", "split", rows[0]["aid"], "--papers", pid).exit_code == 0
        rows = store.db.query("SELECT aid FROM identities WHERE name_key = 'jun zhang' ORDER BY paper_count DESC")
    keep, other = rows[0]["aid"], rows[1]["aid"]
    merged = cli("author", "merge", keep, other, "--actor", "tester")
    assert merged.exit_code == 0, merged.output
    assert orjson.loads(merged.output)["retired"] == other
    count = store.db.scalar("SELECT COUNT(*) FROM authorships a JOIN identities i ON i.id = a.identity_id "
                            "WHERE i.aid = ?", (keep,))
    pid = store.db.scalar("SELECT p.pid FROM papers p JOIN authorships a ON a.paper_id = p.id JOIN identities i "
                          "ON i.id = a.identity_id WHERE i.aid = ? ORDER BY p.id LIMIT 1", (keep,))
    split = cli("author", "split", keep, "--papers", pid)
    assert split.exit_code == 0, split.output
    new = orjson.loads(split.output)["new_author"]
    assert store.db.scalar("SELECT paper_count FROM identities WHERE aid = ?", (new,)) == 1
    moved = cli("author", "move", f"{pid}@{_position(store, pid, new) + 1}", "--to", keep)
    assert moved.exit_code == 0, moved.output
    assert store.db.scalar("SELECT COUNT(*) FROM authorships a JOIN identities i ON i.id = a.identity_id "
                           "WHERE i.aid = ?", (keep,)) == count
    log = [orjson.loads(line)["action"] for line in cli("author", "log").output.splitlines()]
    assert log[:3] == ["move", "split", "merge"]


def _position(store, pid, aid):
    return store.db.scalar("SELECT a.position FROM authorships a JOIN papers p ON p.id = a.paper_id "
                           "JOIN identities i ON i.id = a.identity_id WHERE p.pid = ? AND i.aid = ?", (pid, aid))


def test_bad_input_is_one_line_and_nonzero(store, cli):
    for args in (("merge", "a-x", "a-y"), ("split", "a-x", "--papers", "p1"), ("move", "12345", "--to", "a-x")):
        result = cli("author", *args)
        assert result.exit_code != 0
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
