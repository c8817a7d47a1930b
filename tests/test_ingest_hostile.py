"""Hostile ingest inputs that are not record contents: a named pipe, a truncated bz2, control characters."""

from __future__ import annotations

import bz2
import os
from pathlib import Path

import pytest

from paperatlas.ingest import IngestError, ingest_paths
from paperatlas.ingest.files import plan
from paperatlas.ingest.scrub import might_hold_control, scrub

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: the ingest used to hang forever."""
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.xml")
    with pytest.raises(IngestError, match="not a regular file"):
        plan([folder / "pipe.xml"])
    with pytest.raises(IngestError, match=r"nothing readable.*not a regular file"):
        plan([folder])
    (folder / "page.xml.gz").write_bytes((REPO / "demo" / "corpus" / "arxiv-oai" / "page001.xml.gz").read_bytes())
    planned, notes = plan([folder])
    assert [p.path.name for p in planned] == ["page.xml.gz"]
    assert any("pipe.xml: not a regular file" in note for note in notes)


def test_a_truncated_bz2_says_so(tmp_path: Path) -> None:
    data = bz2.compress((REPO / "demo" / "corpus" / "dblp" / "dblp-sample.xcurator.xml").read_bytes())
    path = tmp_path / "dblp.xml.bz2"
    path.write_bytes(data[:60])  # cut before the first block ends: nothing at all decompresses
    with pytest.raises(IngestError, match="truncated or corrupt bz2 data"):
        plan([path])


def test_control_characters_are_found_and_removed() -> None:
    import orjson

    from paperatlas.model import Authorship, Provenance, SourceRecord

    record = SourceRecord(source="arxiv-snapshot", provenance=Provenance("arxiv-snapshot", "f", "line 1"),
                          ids={"arxiv": "1706.03762"}, title="Attention\x00 is all\x07 you need\ttoday",
                          authors=[Authorship(position=0, name="A\x1b B")], extra={"k\x00": ["v\x7f"]})
    encoded = orjson.dumps({"t": record.title, "a": "A\x1b B", "x": "v\x7f"}).decode()
    assert might_hold_control(encoded)
    assert not might_hold_control(orjson.dumps({"t": "plain\ttab\nand line"}).decode())
    cleaned, removed = scrub(record)
    assert removed == 5
    assert cleaned.title == "Attention is all you need\ttoday" and cleaned.authors[0].name == "A B"
    assert cleaned.extra == {"k": ["v"]}


def test_nul_in_json_is_cleaned_and_reported_once(store, tmp_path: Path) -> None:
    path = tmp_path / "nul.jsonl"
    path.write_text('{"id": "0704.0001", "authors": "Jane Doe", "title": "A\\u0000 title\\u0007", '
                    '"categories": "cs.LG", "abstract": "An\\u0000 abstract.", '
                    '"versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]}\n')
    summary = ingest_paths(store, [path], format="arxiv-snapshot", show_progress=False, echo_errors=False,
                           parallel=False)
    assert summary.read == 1 and summary.skipped == 0 and summary.cleaned == 1
    assert len(summary.errors) == 1 and summary.errors[0].startswith(f"{path}:1: 3 control character")
    assert store.db.scalar("SELECT title FROM papers") == "A title"
