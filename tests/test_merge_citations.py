"""Citation edges from the real ACL Anthology Network: resolved at ingest when both papers are known, parked
when the citing paper is not, and resolved incrementally by the ``citations`` build stage."""

from __future__ import annotations

import re

from paperatlas.ingest import ingest_paths
from paperatlas.merge.citations import run


def _subset(shared, tmp_path, papers: int = 400):
    """The first ``papers`` metadata blocks and every real edge between them."""
    folder = shared / "citations" / "acl-anthology-network"
    blocks = folder.joinpath("acl-metadata.txt").read_text(encoding="utf-8", errors="replace").split("\n\n")
    kept = [b for b in blocks if b.strip()][:papers]
    ids = {b.split("{", 1)[1].split("}", 1)[0] for b in kept}
    edges = [line for line in folder.joinpath("acl.txt").read_text().splitlines()
             if len(parts := re.split(r"\s*(?:==>|,)\s*", line.strip())) == 2 and set(parts) <= ids]
    (tmp_path / "meta").mkdir()
    (tmp_path / "edges").mkdir()
    (tmp_path / "meta" / "acl-metadata.txt").write_text("\n\n".join(kept) + "\n", encoding="utf-8")
    (tmp_path / "edges" / "acl.txt").write_text("\n".join(edges) + "\n")
    return tmp_path / "meta", tmp_path / "edges", len(edges)


def test_edges_before_papers_wait_then_resolve(store, shared, tmp_path):
    meta, edges, n_edges = _subset(shared, tmp_path)
    assert n_edges > 20
    first = ingest_paths(store, [edges], show_progress=False)
    assert first.citations == n_edges
    assert store.db.scalar("SELECT COUNT(*) FROM pending_citations") == n_edges
    assert store.db.scalar("SELECT COUNT(*) FROM citations") == 0

    ingest_paths(store, [meta], show_progress=False)
    figures = run(store)
    assert figures["pending_moved"] == n_edges and figures["pending"] == 0
    assert store.db.scalar("SELECT COUNT(*) FROM citations WHERE cited_id IS NOT NULL") == n_edges
    assert run(store)["pending_moved"] == 0  # incremental: nothing changed since the watermark


def test_edges_after_papers_resolve_at_ingest_and_reingest_is_a_no_op(store, shared, tmp_path):
    meta, edges, n_edges = _subset(shared, tmp_path)
    ingest_paths(store, [meta], show_progress=False)
    summary = ingest_paths(store, [edges], show_progress=False)
    assert summary.citations == n_edges
    assert store.db.scalar("SELECT COUNT(*) FROM citations WHERE cited_id IS NOT NULL") == n_edges
    again = ingest_paths(store, [edges], show_progress=False)
    assert again.citations == 0 and again.unchanged == n_edges
