"""DBLP: ISO-8859-1 with DTD entities resolved offline, homonym numbers, venues, ee ids, person records."""

from __future__ import annotations

import io
from pathlib import Path

from paperatlas.model import EntityRecord, SourceRecord
from paperatlas.sources.base import ErrorSink
from paperatlas.sources.dblp import DTD_PATH, DblpReader


def read(path: Path | str, data: bytes | None = None) -> tuple[list, ErrorSink]:
    sink = ErrorSink(echo=False)
    with io.BytesIO(data) if data is not None else open(path, "rb") as stream:
        return list(DblpReader().read(stream, str(path), sink)), sink


def test_the_dtd_ships_inside_the_package() -> None:
    assert DTD_PATH.is_file() and b'<!ENTITY uuml' in DTD_PATH.read_bytes()


def test_fragment_without_doctype_resolves_entities(shared: Path) -> None:
    records, sink = read(shared / "dblp" / "dblp-sample.xcurator.xml")
    assert sink.count == 0
    assert len(records) == 1144 + 144  # PROVENANCE.md: 1,144 <incollection> + 144 <book>
    by_key = {r.ids["dblp"]: r for r in records}
    berton = by_key["series/cogtech/BertonKHS06"]
    assert [a.name for a in berton.authors] == ["André Berton", "Alfred Kaltenmeier", "Udo Haiber", "Olaf Schreiner"]
    assert berton.title == "Speech Recognition"  # dblp's closing full stop dropped
    assert berton.ids["doi"] == "10.1007/3-540-36678-4_6"
    assert berton.venue.name == "SmartKom" and berton.venue.year == 2006 and berton.venue.kind == "book"
    homonyms = [a for r in records for a in r.authors if a.dblp_homonym]
    assert homonyms, "homonym numbers were lost"
    schmitt = next(a for a in homonyms if a.name == "Markus Schmitt 0002")
    assert (schmitt.forenames, schmitt.surname, schmitt.dblp_homonym) == ("Markus", "Schmitt", "0002")


def test_fragments_with_doctype(shared: Path) -> None:
    records, sink = read(shared / "dblp" / "dblp_2025_fragment.shenka123.xml")
    assert sink.count == 0 and len(records) == 131
    singh = next(r for r in records if r.ids["dblp"] == "reference/vision/Singh14")
    assert singh.authors[0].name == "Manish Singh 0001" and singh.authors[0].dblp_homonym == "0001"
    records, sink = read(shared / "dblp" / "dblp_head_sample.snehaltikare.xml")
    assert sink.count == 0 and len(records) == 60
    codd = next(r for r in records if r.ids["dblp"] == "persons/Codd74")
    assert codd.venue.kind == "conference" and codd.venue.year == 1974


def test_person_records_and_the_empty_year(shared: Path) -> None:
    records, sink = read(shared / "dblp" / "dblp_www_homepages_excerpt.evelasquez.xml")
    people = {r.id: r for r in records if isinstance(r, EntityRecord)}
    papers = [r for r in records if isinstance(r, SourceRecord)]
    assert len(people) == 8 and len(papers) == 14  # 23 records, one with an empty <year> skipped
    assert sink.count == 1
    assert sink.messages[0].startswith(f"{shared / 'dblp' / 'dblp_www_homepages_excerpt.evelasquez.xml'}:131:")
    assert "journals/acta/Schonhage77" in sink.messages[0] and "<year>" in sink.messages[0]
    hua = people["dblp:homepages/l/HuaLu"]
    assert hua.kind == "author" and hua.data["name"] == "Hua Lu 0001" and hua.data["homonym"] == "0001"
    assert hua.data["orcid"] == "0000-0003-1199-6678"
    assert hua.data["current_affiliations"] == ["Roskilde University, Denmark"]
    assert {"name": "Department of Computer Science, Aalborg University, Denmark", "label": "former"} in \
        hua.data["affiliation_notes"]
    liskov = people["dblp:homepages/l/BarbaraLiskov"]
    assert liskov.data["aliases"] == ["Barbara H. Liskov"] and liskov.data["affiliation_slugs"] == ["mit"]
    assert people["dblp:homepages/l/FredericLoulergue"].data["name"] == "Frédéric Loulergue"
    ozsu = next(r for r in papers if r.ids["dblp"] == "tr/gte/TR-0146-06-91-165")
    assert ozsu.authors[1].name == "M. Tamer Özsu"


def test_ee_links_and_corr_keys_become_ids() -> None:
    data = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE dblp SYSTEM "https://dblp.org/xml/dblp.dtd">
<dblp>
<inproceedings key="conf/nips/VaswaniSPUJGKP17" mdate="2021-01-01">
<author>Ashish Vaswani</author><author orcid="0000-0002-1825-0097">Noam Shazeer</author>
<title>Attention is All you Need.</title><year>2017</year><booktitle>NIPS</booktitle>
<ee>https://arxiv.org/abs/1706.03762</ee>
</inproceedings>
<article key="journals/corr/abs-1810-04805" mdate="2018-10-12" publtype="informal">
<author>Jacob Devlin</author><title>BERT: Pre-training of Deep Bidirectional Transformers.</title>
<journal>CoRR</journal><volume>abs/1810.04805</volume><year>2018</year>
</article>
<inproceedings key="conf/icml/X25ws" mdate="2025-01-01"><author>Jun Wang 0006</author><title>W.</title>
<year>2025</year><booktitle>ICML Workshop on Code</booktitle><ee>https://doi.org/10.5555/ABC</ee>
<ee>https://github.com/org/repo</ee></inproceedings>
</dblp>
"""
    records, sink = read("frag.xml", data)
    assert sink.count == 0
    attention, bert, workshop = records
    assert attention.ids == {"dblp": "conf/nips/VaswaniSPUJGKP17", "arxiv": "1706.03762"}
    assert attention.venue.kind == "conference" and attention.authors[1].orcid == "0000-0002-1825-0097"
    assert bert.ids["arxiv"] == "1810.04805" and bert.venue.kind == "preprint"
    assert workshop.venue.kind == "workshop" and workshop.ids["doi"] == "10.5555/abc"
    assert workshop.code_links == ["https://github.com/org/repo"]
    assert workshop.authors[0].dblp_homonym == "0006" and workshop.authors[0].name == "Jun Wang 0006"


def test_broken_xml_is_reported_with_its_line_and_earlier_records_kept() -> None:
    data = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<dblp>
<article key="journals/acta/Simon83"><author>Hans Ulrich Simon</author><title>Pattern Matching.</title>
<year>1983</year><journal>Acta Inf.</journal></article>
<article key="journals/x/Y"><author>A B</author><title>T</titel></article>
</dblp>
"""
    records, sink = read("broken.xml", data)
    assert [r.ids["dblp"] for r in records] == ["journals/acta/Simon83"]
    assert sink.count == 1 and sink.messages[0].startswith("broken.xml:5:") and "broken XML" in sink.messages[0]


class _Trickle(io.RawIOBase):
    """A stream that returns a few bytes per read, as decompressing streams may."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        out = self.data[self.pos : self.pos + 7]
        self.pos += len(out)
        return out


def test_short_reads_still_get_the_doctype(shared: Path) -> None:
    data = (shared / "dblp" / "dblp-sample.xcurator.xml").read_bytes()
    sink = ErrorSink(echo=False)
    records = list(DblpReader().read(_Trickle(data), "trickle.xml", sink))
    assert sink.count == 0 and len(records) == 1288 and records[2].authors[0].name == "André Berton"


def test_a_record_without_title_is_reported_by_its_tag_and_line_and_the_rest_kept() -> None:
    data = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<dblp>
<article key="journals/acta/Simon83"><author>Hans Ulrich Simon</author><title>Pattern Matching.</title>
<year>1983</year><journal>Acta Inf.</journal></article>
<inproceedings key="conf/x/NoTitle"><author>A B</author><year>1990</year></inproceedings>
<article key="journals/acta/Later84"><author>A B</author><title>Later.</title><year>1984</year></article>
</dblp>
"""
    records, sink = read("f.xml", data)
    assert [r.ids["dblp"] for r in records] == ["journals/acta/Simon83", "journals/acta/Later84"]
    assert sink.messages == ["f.xml:5: malformed <inproceedings>: conf/x/NoTitle: no <title>"]


def test_entities_cut_by_any_chunk_boundary_read_the_same(shared, monkeypatch) -> None:
    """The shipped DTD's entities are replaced in the byte stream: one split across two reads is finished with
    the next, whatever the chunk size."""
    import io

    from paperatlas.sources import xml_records
    from paperatlas.sources.base import ErrorSink

    data = (shared / "dblp" / "dblp_2025_fragment.shenka123.xml").read_bytes()
    assert b"&" in data

    def titles() -> list[tuple[str | None, list[str]]]:
        sink = ErrorSink(echo=False)
        out = [(r.title, [a.name for a in r.authors]) for r in DblpReader().read(io.BytesIO(data), "d.xml", sink)
               if hasattr(r, "title")]
        assert sink.count == 0 and sink.problems == 0, sink.messages
        return out

    whole = titles()
    for chunk in (5, 7, 33):
        monkeypatch.setattr(xml_records, "CHUNK", chunk)
        assert titles() == whole, chunk
