"""arXiv readers other than OAI-PMH: API Atom feeds (standard and ``<articles>`` root) and the bulk snapshot."""

from __future__ import annotations

import collections
import io
from pathlib import Path

import pytest

from paperatlas.model import SourceRecord
from paperatlas.sources.arxiv_atom import ArxivAtomReader
from paperatlas.sources.arxiv_snapshot import ArxivSnapshotReader
from paperatlas.sources.base import ErrorSink
from paperatlas.sources.registry import readers


def read(reader, path: Path | str, data: bytes | None = None) -> tuple[list, ErrorSink]:
    sink = ErrorSink(echo=False)
    with io.BytesIO(data) if data is not None else open(path, "rb") as stream:
        return list(reader.read(stream, str(path), sink)), sink


def sniffed(path: Path) -> list[str]:
    head = path.read_bytes()[:65536]
    return [r.name for r in readers() if r.sniff(head, path.name)]


def test_atom_feed_pages(shared: Path) -> None:
    folder = shared / "arxiv" / "atom-api" / "cs-2025-12"
    records: list[SourceRecord] = []
    for path in sorted(folder.glob("*.xml")):
        assert sniffed(path) == ["arxiv-atom"]
        found, sink = read(ArxivAtomReader(), path)
        assert sink.count == 0
        records += found
    assert len(records) == 500 == len({r.ids["arxiv"] for r in records})
    # PROVENANCE.md: cs.CV 152, cs.LG 114, cs.CL 54, cs.AI 36, cs.CR 22
    assert collections.Counter(r.primary_category for r in records).most_common(3) == [
        ("cs.CV", 152), ("cs.LG", 114), ("cs.CL", 54)]
    first = records[0]
    assert first.ids == {"arxiv": "2512.13690"} and first.arxiv_version == 1
    assert first.title == "DiffusionBrowser: Interactive Diffusion Previews via Multi-Branch Decoders"
    assert first.categories == ["cs.CV", "cs.AI", "cs.GR", "cs.LG"]
    assert [a.name for a in first.authors] == ["Susung Hong", "Chongjian Ge", "Zhifei Zhang", "Jui-Hsien Wang"]
    assert first.authors[3].surname == "Wang" and first.submitted == "2025-12-15"
    assert first.comments == "Project page: https://susunghong.github.io/DiffusionBrowser"
    assert first.code_links == []  # a github.io project page is not code
    by_id = {r.ids["arxiv"]: r for r in records}
    assert by_id["2512.13689"].code_links == ["https://github.com/prs-eth/LitePT"]
    koch = by_id["2512.13576"].authors
    assert koch[1].name == "Albert Zeyer"
    assert koch[1].affiliations == ["Machine Learning and Human Language Technology, RWTH Aachen University", "AppTek"]


@pytest.mark.slow
def test_atom_entries_under_a_nonstandard_root(shared: Path) -> None:
    path = shared / "arxiv" / "atom-api" / "stringologytimes_cs.DS_entries.atom.xml"
    assert sniffed(path) == ["arxiv-atom"]
    records, sink = read(ArxivAtomReader(), path)
    assert sink.count == 0
    assert len(records) == 2060  # every <entry>, also those that lost the Atom namespace
    e2fm = records[1]
    assert e2fm.ids == {"arxiv": "1910.04640", "doi": "10.1093/bioinformatics/btx313"}
    assert e2fm.journal_ref == "Bioinformatics, 33(18), 2017, 2808-2817"
    assert e2fm.authors[0].name == "Ferdinando Montecuollo"
    archives = collections.Counter(c.split(".")[0] for r in records for c in r.categories)
    assert set(archives) == {"cs", "math", "q-bio", "quant-ph", "stat", "eess", "physics"}
    assert "E.1; E.4; I.2.6" not in records[0].categories  # ACM classes are not arXiv categories
    assert records[0].abstract and "\n" in records[0].abstract  # the indented second paragraph is kept apart


def test_atom_feed_of_the_2025_serialisation(shared: Path) -> None:
    records, sink = read(ArxivAtomReader(), shared / "arxiv" / "atom-api" / "arxiv_api_query_all-BIPV_2026.atom.xml")
    assert sink.count == 0 and len(records) == 3
    assert records[0].ids["arxiv"] == "2511.18882" and records[0].primary_category == "cs.CV"


def test_atom_malformed_entries_and_broken_xml_are_reported_with_lines(tmp_path: Path) -> None:
    feed = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <entry><id>http://arxiv.org/abs/2512.00001v2</id><title>Good</title><published>2025-12-01T00:00:00Z</published>
  </entry>
  <entry><id>http://example.org/not-arxiv</id><title>No id</title></entry>
  <entry><id>http://arxiv.org/abs/2512.00003v1</id><title>Cut
"""
    records, sink = read(ArxivAtomReader(), "feed.xml", feed)
    assert [r.ids["arxiv"] for r in records] == ["2512.00001"] and records[0].arxiv_version == 2
    assert sink.messages[0].startswith("feed.xml:5: malformed Atom entry")
    assert sink.messages[1].startswith("feed.xml:") and "broken XML" in sink.messages[1]


def test_snapshot_lines(shared: Path) -> None:
    path = shared / "arxiv" / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl"
    assert sniffed(path) == ["arxiv-snapshot"]
    records, sink = read(ArxivSnapshotReader(), path)
    assert sink.count == 0 and len(records) == 200
    first = records[0]
    assert first.ids == {"arxiv": "0704.0001", "doi": "10.1103/physrevd.76.013009"}
    assert first.arxiv_version == 2 and first.submitted == "2007-04-02" and first.updated == "2007-07-24"
    assert [(a.forenames, a.surname) for a in first.authors][:2] == [("C.", "Balázs"), ("E. L.", "Berger")]
    assert first.journal_ref == "Phys.Rev.D76:013009,2007" and first.categories == ["hep-ph"]
    assert first.provenance.locator == "line 1"
    second = records[1]
    assert second.primary_category == "math.CO" and second.categories == ["math.CO", "cs.CG"]
    assert second.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def test_snapshot_unarxive_lines_and_code_links(shared: Path) -> None:
    records, sink = read(ArxivSnapshotReader(), shared / "arxiv" / "kaggle-snapshot" / "unarxive-2212.metadata.jsonl")
    assert sink.count == 0 and len(records) == 49
    linked = {r.ids["arxiv"]: r.code_links for r in records if r.code_links}
    assert linked["2212.11839"] == ["https://github.com/SumitBanikGit/MBConicHulls"]


def test_snapshot_bad_lines_are_reported_and_skipped() -> None:
    good = (b'{"id":"0704.0002","authors":"Ileana Streinu and Louis Theran","title":"Sparsity",'
            b'"categories":"math.CO cs.CG","versions":[{"version":"v1","created":"Fri, 30 Mar 2007 19:20:00 GMT"}],'
            b'"update_date":"2008-12-13","authors_parsed":[["Streinu","Ileana",""],["Theran","Louis",""]]}\n')
    data = (good + b'{"id": 42, "title": "wrong types", "submitter": "x"}\n'
            + b'{"id":"0704.0003","title":\n' + "\xff\n".encode("latin-1")
            + b'{"id":"0704.0004","title":"t","versions":"v1","submitter":"x"}\n'
            + good.replace(b"0704.0002", b"0704.0005"))
    records, sink = read(ArxivSnapshotReader(), "snap.jsonl", data)
    assert [r.ids["arxiv"] for r in records] == ["0704.0002", "0704.0005"]
    assert [m.split(": ")[0] for m in sink.messages] == ["snap.jsonl:2", "snap.jsonl:3", "snap.jsonl:4", "snap.jsonl:5"]
    assert "id must be a string" in sink.messages[0] and "invalid JSON" in sink.messages[1]
    assert records[0].authors[1].name == "Louis Theran" and records[0].submitted == "2007-03-30"


def test_oai_page_broken_mid_way_keeps_the_records_before_the_break(shared: Path) -> None:
    import gzip

    from paperatlas.sources.arxiv_oai import ArxivOaiReader

    page = sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[0]
    text = gzip.decompress(page.read_bytes())
    whole, sink = read(ArxivOaiReader(), "page.xml", text)
    assert sink.count == 0 and len(whole) > 100
    third = text.index(b"<record>", text.index(b"<record>", text.index(b"<record>") + 1) + 1)
    broken = text[:third] + b"<record><header><oops></header></record>\n" + text[third:]
    records, sink = read(ArxivOaiReader(), "page.xml", broken)
    assert [r.ids["arxiv"] for r in records] == [r.ids["arxiv"] for r in whole[:2]]
    line = broken[:third].count(b"\n") + 1
    assert sink.count == 1 and sink.messages[0].startswith(f"page.xml:{line}: broken XML"), sink.messages
