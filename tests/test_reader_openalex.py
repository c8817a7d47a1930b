"""OpenAlex: single entities, list responses, recorded API exchanges; works, authors, institutions."""

from __future__ import annotations

import io
from pathlib import Path

from paperatlas.model import EntityRecord, SourceRecord
from paperatlas.sources.base import ErrorSink
from paperatlas.sources.openalex import OpenAlexReader, abstract_from_inverted_index


def read(path: Path | str, data: bytes | None = None) -> tuple[list, ErrorSink]:
    sink = ErrorSink(echo=False)
    with io.BytesIO(data) if data is not None else open(path, "rb") as stream:
        return list(OpenAlexReader().read(stream, str(path), sink)), sink


def test_work_entity(shared: Path) -> None:
    (work,), sink = read(shared / "openalex" / "entities" / "W2741809807.json")
    assert sink.count == 0 and isinstance(work, SourceRecord)
    assert work.ids == {"openalex": "W2741809807", "doi": "10.7717/peerj.4375", "mag": "2741809807",
                        "pubmed": "29456894"}
    assert work.title.startswith("The state of OA: a large-scale analysis")
    assert work.abstract.startswith("Despite growing interest in Open Access (OA) to scholarly literature")
    assert (work.venue.name, work.venue.year, work.venue.kind) == ("PeerJ", 2018, "journal")
    assert work.published == "2018-02-13" and work.license == "cc-by"
    assert work.external_citation_count == 962
    assert len(work.references) == 45 and work.references[0].cited == "openalex:W1560783210"
    first = work.authors[0]
    assert (first.name, first.orcid, first.source_author_id) == ("Heather Piwowar", "0000-0003-1613-5981",
                                                                 "A5048491430")
    assert first.affiliations == ["Impactstory, Sanford, NC, USA"]


def test_inverted_index_is_put_back_in_order() -> None:
    assert abstract_from_inverted_index({"world": [1], "Hello": [0], "again": [3], "hello": [2]}) == \
        "Hello world hello again"
    assert abstract_from_inverted_index(None) is None


def test_author_and_institution_entities(shared: Path) -> None:
    (author,), sink = read(shared / "openalex" / "entities" / "A5023888391.json")
    assert sink.count == 0 and isinstance(author, EntityRecord) and author.kind == "author"
    assert author.id == "openalex:A5023888391" and author.data["name"] == "Jason Priem"
    assert author.data["orcid"] == "0000-0001-6187-6610" and author.data["current_affiliations"] == ["OurResearch"]
    assert "Johns Hopkins University" in author.data["affiliations"]
    (pretty,), _ = read(shared / "openalex" / "entities" / "A-api-response.json")  # pretty-printed JSON
    assert pretty.data["aliases"] == ["Barry P. Abbott", "B.P. Abbott", "Abbott, B.P."]
    (institution,), _ = read(shared / "openalex" / "entities" / "I27837315.json")
    assert institution.kind == "institution" and institution.data["name"] == "University of Michigan"
    assert institution.data["ror"] == "00jmfr291" and institution.data["acronyms"] == ["UM"]
    assert institution.data["slug"] == "university-of-michigan"
    for other in ("C71924100.json", "S137773608.json", "T11636.json", "cardiac-imaging.json"):
        records, sink = read(shared / "openalex" / "entities" / other)
        assert records == [] and sink.count == 0  # concepts, sources, topics, keywords: not papers or people


def test_list_responses_and_recorded_exchanges(shared: Path) -> None:
    folder = shared / "openalex" / "api-responses-openalexPro"
    works, sink = read(folder / "works_search_biodiversity_AND_finance_page1.json")
    assert sink.count == 0 and len(works) == 200  # a full /works page
    assert works[0].ids["openalex"] == "W4235089722" and works[0].title == "Biodiversity Finance"
    snowball, sink = read(folder / "oa_snowball.responses.jsonl")
    assert len(snowball) == 47
    by_id = {w.ids["openalex"]: w for w in snowball}
    assert by_id["W3045921891"].ids["arxiv"] == "2007.14454"  # from the arXiv DOI / landing page
    assert sink.count == 1 and sink.messages[0].endswith("W2963341956 has no title")
    _, sink = read(folder / "filter_names.responses.jsonl")
    assert sink.count == 2 and all("OpenAlex error response" in m for m in sink.messages)
    assert sink.messages[0].startswith(f"{folder / 'filter_names.responses.jsonl'}:1:")


def test_malformed_lines_are_reported() -> None:
    data = (b'{"id": "https://openalex.org/W1", "title": "Fine", "authorships": []}\n'
            b'{"id": "https://openalex.org/W2", "title": "Bad", "ids": "not an object"}\n'
            b'{"id": "https://openalex.org/W3", "title": "Bad", "abstract_inverted_index": {"a": 1}}\n'
            b'[1, 2]\n')
    records, sink = read("works.jsonl", data)
    assert [r.ids["openalex"] for r in records] == ["W1"]
    assert [m.split(": ")[0] for m in sink.messages] == ["works.jsonl:2", "works.jsonl:3", "works.jsonl:4",
                                                         "works.jsonl:4"]
