"""The OAI-PMH arXiv reader on the real 2016 harvest pages, and on pages damaged the ways downloads get damaged."""

from __future__ import annotations

import gzip
import io

from paperatlas.sources.arxiv_oai import READERS
from paperatlas.sources.base import ErrorSink

READER = READERS[0]


def _page(shared, number: int = 1) -> bytes:
    return gzip.decompress((shared / "arxiv" / "oai-pmh-cs-2016" / f"page{number:03d}.xml.gz").read_bytes())


def _read(data: bytes, name: str = "page.xml"):
    sink = ErrorSink(echo=False)
    records = list(READER.read(io.BytesIO(data), name, sink))
    return records, sink


def test_reads_every_record_of_a_real_page(shared):
    records, sink = _read(_page(shared))
    assert len(records) == 1000
    assert sink.count == 0
    first = records[0]
    assert first.ids == {"arxiv": "0704.0002"}
    assert first.title == "Sparsity-certifying Graph Decompositions"
    assert [a.name for a in first.authors] == ["Ileana Streinu", "Louis Theran"]
    assert first.authors[0].surname == "Streinu"
    assert first.categories == ["math.CO", "cs.CG"] and first.primary_category == "math.CO"
    assert first.submitted == "2007-03-30" and first.updated == "2008-12-13"
    assert first.abstract.startswith("We describe a new algorithm") and "\n" not in first.abstract[:200]
    assert first.provenance.locator.startswith("line ")
    with_doi = next(r for r in records if r.ids["arxiv"] == "0704.0046")
    assert with_doi.ids["doi"] == "10.1063/1.2779138"
    assert with_doi.journal_ref == "J. Math. Phys. 48(2007), 092102."


def test_sniffs_oai_pages_and_nothing_else(shared):
    assert READER.sniff(_page(shared)[:65536], "page001.xml")
    atom = next((shared / "arxiv" / "atom-api").rglob("*.xml")).read_bytes()[:65536]
    assert not READER.sniff(atom, "feed.xml")
    assert not READER.sniff(b'{"id": "0704.0001"}', "x.jsonl")


def test_broken_xml_costs_the_broken_record_only(shared):
    """The reader resynchronises at the next <record> after the break: the 1,000 good records are all read and the
    broken one is reported at its line."""
    text = _page(shared)
    clean, _ = _read(text, "clean.xml")
    cut = text.index(b"<record>", len(text) // 2)
    broken = text[:cut] + b"<record><header><identifier>oops</header>" + text[cut:]
    records, sink = _read(broken, "broken.xml")
    assert [r.ids for r in records] == [r.ids for r in clean]
    assert sink.count == 1 and sink.problems == 0
    file, line, reason = sink.messages[0].split(":", 2)
    assert file == "broken.xml"
    assert int(line) == text[:cut].count(b"\n") + 1
    assert "XML" in reason


def test_invalid_utf8_is_reported_with_its_line(shared):
    text = _page(shared)
    at = text.index(b"<title>", len(text) // 3) + len(b"<title>")
    damaged = text[:at] + b"\xff\xfe\xfa" + text[at:]
    records, sink = _read(damaged)
    assert len(records) == 999  # the damaged record only
    assert sink.count == 1
    # reported at the line where the damaged record starts; the reason names the line of the damage
    record_start = text.rindex(b"<record>", 0, at)
    assert int(sink.messages[0].split(":")[1]) == text[:record_start].count(b"\n") + 1
    damage_line = text[:at].count(b"\n") + 1
    assert f"line {damage_line}" in sink.messages[0]


def test_truncated_gzip_keeps_the_records_read(shared, tmp_path):
    raw = (shared / "arxiv" / "oai-pmh-cs-2016" / "page002.xml.gz").read_bytes()
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(raw[: len(raw) // 2])
    sink = ErrorSink(echo=False)
    with gzip.open(path, "rb") as stream:
        records = list(READER.read(stream, str(path), sink))
    assert 100 < len(records) < 1000
    assert sink.count == 1
    assert sink.messages[0].startswith(f"{path}:")
