"""ACL Anthology Network: metadata blocks and citation edges."""

from __future__ import annotations

import collections
import io
from pathlib import Path

import pytest

from paperatlas.sources.acl_anthology import AclCitationsReader, AclMetadataReader
from paperatlas.sources.base import ErrorSink
from paperatlas.sources.registry import readers


def read(reader, path: Path | str, data: bytes | None = None) -> tuple[list, ErrorSink]:
    sink = ErrorSink(echo=False)
    with io.BytesIO(data) if data is not None else open(path, "rb") as stream:
        return list(reader.read(stream, str(path), sink)), sink


@pytest.mark.slow
def test_metadata_blocks(shared: Path) -> None:
    path = shared / "citations" / "acl-anthology-network" / "acl-metadata.txt"
    assert [r.name for r in readers() if r.sniff(path.read_bytes()[:65536], path.name)] == ["acl-metadata"]
    records, sink = read(AclMetadataReader(), path)
    assert sink.count == 0 and len(records) == 18041 == len({r.ids["acl"] for r in records})
    first = records[0]
    assert first.ids == {"acl": "D10-1001"} and first.provenance.locator == "line 1"
    assert first.title == "On Dual Decomposition and Linear Programming Relaxations for Natural Language Processing"
    assert [(a.forenames, a.surname) for a in first.authors] == [
        ("Alexander M.", "Rush"), ("David", "Sontag"), ("Michael John", "Collins"), ("Tommi", "Jaakkola")]
    assert first.authors[0].name == "Alexander M. Rush"
    assert (first.venue.name, first.venue.year, first.venue.kind) == ("EMNLP", 2010, "conference")
    kinds = collections.Counter(r.venue.kind for r in records if r.venue)
    assert kinds["workshop"] > 1000 and kinds["journal"] > 100


@pytest.mark.slow
def test_citation_edges(shared: Path) -> None:
    path = shared / "citations" / "acl-anthology-network" / "acl.txt"
    assert [r.name for r in readers() if r.sniff(path.read_bytes()[:65536], path.name)] == ["acl-citations"]
    edges, sink = read(AclCitationsReader(), path)
    assert sink.count == 0 and len(edges) == 94973  # PROVENANCE.md
    assert (edges[0].citing, edges[0].cited) == ("acl:C08-3004", "acl:A00-1002")
    assert any(e.citing == "acl:J79-1032f" for e in edges)  # ids with a letter suffix


def test_bad_lines_are_reported() -> None:
    edges, sink = read(AclCitationsReader(), "acl.txt", b"P02-1001 ==> P01-1001\nnot an edge\nW99-0505 , J79-1081c\n")
    assert [(e.citing, e.cited) for e in edges] == [("acl:P02-1001", "acl:P01-1001"), ("acl:W99-0505", "acl:J79-1081c")]
    assert sink.messages[0].startswith("acl.txt:2: not a citation edge")
    data = (b"id = {P02-1001}\nauthor = {Smith, Jo}\ntitle = {A}\nvenue = {ACL}\nyear = {2002}\n\n"
            b"id = {P02-1002}\nthis is garbage\ntitle = {B}\nvenue = {Workshop on X}\nyear = {20x2}\n\n"
            + "id = {P02-1003}\nauthor = {M\u00fcller, J\u00f6rg}\ntitle = {C}\n".encode("latin-1"))
    records, sink = read(AclMetadataReader(), "meta.txt", data)
    assert [r.ids["acl"] for r in records] == ["P02-1001", "P02-1002", "P02-1003"]
    assert records[1].venue.kind == "workshop" and records[1].venue.year is None
    assert records[2].authors[0].name == "Jörg Müller"  # a Latin-1 line is decoded, not lost
    assert [m.split(": ")[0] for m in sink.messages] == ["meta.txt:8", "meta.txt:7"]


def test_html_entities_in_names_and_titles_are_decoded(tmp_path):
    """The AAN metadata writes letters as HTML entities: ``Pad&oacute;, Sebastian`` is Sebastian Padó."""
    from paperatlas.sources.acl_anthology import AclMetadataReader
    from paperatlas.sources.base import ErrorSink

    sample = tmp_path / "acl-metadata.txt"
    sample.write_text(
        "id = {W09-0001}\nauthor = {Erk, Katrin; Pad&oacute;, Sebastian}\n"
        "title = {Paraphrase &amp; Entailment}\nvenue = {EMNLP}\nyear = {2009}\n",
        encoding="utf-8",
    )
    with sample.open("rb") as stream:
        (record,) = list(AclMetadataReader().read(stream, str(sample), ErrorSink(echo=False)))
    assert [a.name for a in record.authors] == ["Katrin Erk", "Sebastian Padó"]
    assert record.title == "Paraphrase & Entailment"
    assert record.published is None and record.year == 2009
