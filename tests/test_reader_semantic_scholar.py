"""Semantic Scholar Graph API responses and S2ORC metadata lines."""

from __future__ import annotations

import collections
import io
from pathlib import Path

from paperatlas.model import CitationRecord, EntityRecord, SourceRecord
from paperatlas.sources.base import ErrorSink
from paperatlas.sources.s2orc import S2orcReader
from paperatlas.sources.semantic_scholar import SemanticScholarReader, paper_ref


def read(reader, path: Path | str, data: bytes | None = None) -> tuple[list, ErrorSink]:
    sink = ErrorSink(echo=False)
    with io.BytesIO(data) if data is not None else open(path, "rb") as stream:
        return list(reader.read(stream, str(path), sink)), sink


def test_paper_with_citations_and_references(shared: Path) -> None:
    records, sink = read(SemanticScholarReader(), shared / "semantic-scholar" / "api_responses_danielnsilva" /
                         "raw" / "Paper.json")
    assert sink.count == 0
    turing = records[0]
    assert turing.ids == {"s2": "2d5673caa9e6af3a7b82a43f19ee920992db07ad", "s2corpus": "14636783",
                          "doi": "10.1093/mind/lix.236.433", "dblp": "journals/x/Turing50", "mag": "2145482038"}
    assert turing.title == "Computing Machinery and Intelligence" and turing.published == "1950-10-01"
    assert turing.venue.name == "Mind" and turing.venue.kind == "journal" and turing.venue.year == 1950
    assert turing.external_citation_count == 10059
    assert [(a.name, a.source_author_id) for a in turing.authors] == [("A. Turing", "2262347")]
    assert len(turing.cited_by) == 1000 and len(turing.references) == 8
    assert turing.cited_by[0].cited == "s2:619922f86647f431ab4e105683f1780605dd745d"
    # the citing and cited papers come along as records of their own
    assert len(records) == 1009 and all(isinstance(r, SourceRecord) and r.title for r in records)


def test_author_with_papers(shared: Path) -> None:
    records, sink = read(SemanticScholarReader(), shared / "semantic-scholar" / "api_responses_danielnsilva" /
                         "raw" / "Author.json")
    author = records[0]
    assert isinstance(author, EntityRecord) and author.id == "s2:author/2262347"
    assert author.data["name"] == "A. Turing" and author.data["dblp_names"] == ["Alan M. Turing"]
    assert author.data["h_index"] == 23 and len(records) == 61 and sink.count == 0


def test_recorded_exchanges_turn_citation_lists_into_edges(shared: Path) -> None:
    path = shared / "semantic-scholar" / "api_responses_danielnsilva" / "extracted_responses.jsonl"
    records, sink = read(SemanticScholarReader(), path)
    edges = [r for r in records if isinstance(r, CitationRecord)]
    # /paper/CorpusID:14514057/citations pages: every citing paper cites that corpus id
    cited = collections.Counter(e.cited for e in edges if e.citing.startswith("s2:"))
    assert cited["s2corpus:14514057"] == 1873
    # /paper/10.2139/ssrn.2250500/references pages: that DOI cites each listed paper
    assert sum(1 for e in edges if e.citing == "doi:10.2139/ssrn.2250500") == 44
    assert all(e.provenance.locator.startswith("line ") for e in edges)
    # error bodies are reported with their line: bad fields, 403, 400, two 404s
    assert [m.split(": ")[0].rsplit(":", 1)[1] for m in sink.messages] == ["1", "2", "46", "49", "50"]
    assert "Paper with id 0 not found" in sink.messages[3]


def test_paper_refs_from_request_paths() -> None:
    assert paper_ref("CorpusID:14514057") == "s2corpus:14514057"
    assert paper_ref("10.2139/ssrn.2250500") == "doi:10.2139/ssrn.2250500"
    assert paper_ref("ARXIV:1706.03762") == "arxiv:1706.03762"
    assert paper_ref("2d5673caa9e6af3a7b82a43f19ee920992db07ad") == "s2:2d5673caa9e6af3a7b82a43f19ee920992db07ad"
    assert paper_ref("URL:https://example.org") is None


def test_wrong_types_are_reported() -> None:
    data = (b'{"paperId": "abc", "title": "Fine", "externalIds": {"ArXiv": "1706.03762"}}\n'
            b'{"paperId": "def", "title": "Bad", "externalIds": ["DOI"]}\n'
            b'{"paperId": 7, "title": "Bad id"}\n')
    records, sink = read(SemanticScholarReader(), "s2.jsonl", data)
    assert [r.ids for r in records] == [{"s2": "abc", "arxiv": "1706.03762"}]
    assert [m.split(": ")[0] for m in sink.messages] == ["s2.jsonl:2", "s2.jsonl:3"]


def test_s2orc_metadata_lines(shared: Path) -> None:
    records, sink = read(S2orcReader(), shared / "semantic-scholar" / "s2orc_samples" /
                         "s2orc_v2020-07-05_metadata_sample.jsonl")
    assert sink.count == 0 and len(records) == 1000
    first = records[0]
    assert first.ids == {"s2corpus": "77490025", "mag": "2426173123"} and first.venue.year == 1975
    assert first.title == "State of external ocular muscles in strabismus of different duration"
    assert (first.authors[0].forenames, first.authors[0].surname) == ("Pen'kov", "Ma")
    assert sum(len(r.references) for r in records) == 3107 and sum(len(r.cited_by) for r in records) == 2974
    assert sum(1 for r in records if "arxiv" in r.ids) == 36


def test_s2orc_full_paper_and_bad_lines(shared: Path) -> None:
    (paper,), _ = read(S2orcReader(), shared / "semantic-scholar" / "s2orc_samples" / "s2orc_example_paper.json")
    assert paper.ids["s2corpus"] == "15772371" and paper.ids["doi"] == "10.1673/031.001.0701"
    assert paper.authors[0].name == "Dale B. Gelman"
    data = (b'{"paper_id": "1", "title": "ok", "authors": [], "outbound_citations": ["2"]}\n'
            b'{"paper_id": "x", "title": "bad id"}\n{"paper_id": "3", "title": "t", "authors": "Smith"}\n')
    records, sink = read(S2orcReader(), "s2orc.jsonl", data)
    assert [r.ids["s2corpus"] for r in records] == ["1"] and records[0].references[0].cited == "s2corpus:2"
    assert [m.split(": ")[0] for m in sink.messages] == ["s2orc.jsonl:2", "s2orc.jsonl:3"]


def test_bulk_dataset_lines() -> None:
    """S2AG datasets: "papers" lines (lower-case Graph API fields) and "citations" lines (corpus ids)."""
    papers = (b'{"corpusid": 14636783, "externalids": {"DBLP": "journals/x/Turing50", "ArXiv": null, '
              b'"DOI": "10.1093/MIND/LIX.236.433", "CorpusId": "14636783"}, '
              b'"url": "https://www.semanticscholar.org/paper/2d5673caa9e6af3a7b82a43f19ee920992db07ad", '
              b'"title": "Computing Machinery and Intelligence", "authors": [{"authorId": "2262347", '
              b'"name": "A. Turing"}], "venue": "Mind", "year": 1950, "citationcount": 10059, '
              b'"publicationtypes": ["JournalArticle"], "publicationdate": "1950-10-01", '
              b'"journal": {"name": "Mind"}}\n')
    (paper,), sink = read(SemanticScholarReader(), "papers.jsonl", papers)
    assert sink.count == 0
    assert paper.ids == {"s2": "2d5673caa9e6af3a7b82a43f19ee920992db07ad", "s2corpus": "14636783",
                         "doi": "10.1093/mind/lix.236.433", "dblp": "journals/x/Turing50"}
    assert paper.external_citation_count == 10059 and paper.published == "1950-10-01"
    assert paper.venue.kind == "journal" and paper.authors[0].source_author_id == "2262347"
    citations = (b'{"citationid": 1, "citingcorpusid": 270079115, "citedcorpusid": 14636783, "isinfluential": false}\n'
                 b'{"citationid": 2, "citingcorpusid": 5, "citedcorpusid": null}\n'
                 b'{"citationid": 3, "citingcorpusid": "x", "citedcorpusid": 1}\n')
    edges, sink = read(SemanticScholarReader(), "citations.jsonl", citations)
    assert [(e.citing, e.cited) for e in edges] == [("s2corpus:270079115", "s2corpus:14636783")]
    assert [m.split(": ")[0] for m in sink.messages] == ["citations.jsonl:3"]


def test_one_bad_item_does_not_lose_the_rest_of_a_page() -> None:
    data = (b'{"total": 3, "offset": 0, "data": [{"paperId": "a", "title": "One"}, '
            b'{"paperId": "b", "title": "Two", "authors": 5}, {"paperId": "c", "title": "Three"}]}\n')
    records, sink = read(SemanticScholarReader(), "search.json", data)
    assert [r.title for r in records] == ["One", "Three"]
    assert sink.count == 1 and sink.messages[0].startswith("search.json:1: malformed Semantic Scholar list item")
