"""What every reader shares: JSON lines vs one document, size limits, field conversions, format detection."""

from __future__ import annotations

import io

from paperatlas.sources.base import ErrorSink
from paperatlas.sources.fields import arxiv_abstract, iso_date, short_orcid
from paperatlas.sources.json_values import iter_json_values
from paperatlas.sources.registry import readers


def values(data: bytes, max_bytes: int = 1000) -> tuple[list, ErrorSink]:
    sink = ErrorSink(echo=False)
    return list(iter_json_values(io.BytesIO(data), "f.json", sink, max_bytes=max_bytes)), sink


def test_json_lines_and_documents() -> None:
    found, sink = values(b'{"a": 1}\n\n{"a": 2}\n{"a": \n')
    assert found == [(1, {"a": 1}), (3, {"a": 2})] and sink.messages[0].startswith("f.json:4: invalid JSON")
    found, sink = values(b'{\n  "results": [\n    {"a": 1}\n  ]\n}\n')
    assert found == [(1, {"results": [{"a": 1}]})] and sink.count == 0
    found, sink = values(b"")
    assert found == [] and sink.count == 0


def test_oversized_lines_and_documents_are_refused_not_loaded() -> None:
    found, sink = values(b'{"a": "' + b"x" * 5000 + b'"}\n{"b": 1}\n', max_bytes=1000)
    assert found == [(2, {"b": 1})] and "longer than 1,000 bytes: refused" in sink.messages[0]
    found, sink = values(b'{\n "a": "' + b"x" * 5000 + b'"\n}\n', max_bytes=1000)
    assert found == [] and "JSON document longer than 1,000 bytes: refused" in sink.messages[0]


def test_field_conversions() -> None:
    assert iso_date("Mon, 2 Apr 2007 19:18:42 GMT") == "2007-04-02"
    assert iso_date("2025-12-15T18:59:57Z") == "2025-12-15" and iso_date(1950) == "1950-01-01"
    assert iso_date("not a date") is None
    assert short_orcid("https://orcid.org/0000-0002-3666-123x") == "0000-0002-3666-123X"
    assert arxiv_abstract("  First line\nwrapped.\n  Second paragraph.\n") == "First line wrapped.\nSecond paragraph."


def test_every_reader_has_a_distinct_name_and_claims_nothing_it_cannot_read() -> None:
    names = [r.name for r in readers()]
    assert len(names) == len(set(names))
    for head in (b"", b"hello world\n", b'{"unrelated": true}\n', b"<html><body>x</body></html>", b"\xff\xfe\x00"):
        assert [r.name for r in readers() if r.sniff(head, "x")] == []


def _elements(data: bytes, chunk: int | None = None) -> tuple[list[str], ErrorSink]:
    from paperatlas.sources import xml_records

    sink = ErrorSink(echo=False)
    original = xml_records.CHUNK
    xml_records.CHUNK = chunk or original
    try:
        keys = [e.get("key") for e in xml_records.iter_elements(io.BytesIO(data), "f.xml", sink, "r")]
    finally:
        xml_records.CHUNK = original
    return keys, sink


def test_xml_records_around_a_break_are_kept_in_any_chunking() -> None:
    """A break costs its own record only: never the records the same chunk completed before it (what lxml 6.2's
    iterparse drops with its exception), nor those after it (the reader resynchronises at the next record)."""
    data = (b"<?xml version='1.0'?>\n<root>\n<r key='a'><t>one</t></r>\n<r key='b'><t>two</t></r>\n"
            b"<r key='c'><t>three</tt></r>\n<r key='d'/>\n</root>\n")
    for chunk in (None, 7, 40):
        keys, sink = _elements(data, chunk)
        assert keys == ["a", "b", "d"], chunk
        assert sink.count == 1 and sink.messages[0].startswith("f.xml:5: broken XML"), (chunk, sink.messages)
        assert sink.problems == 0
    sink = ErrorSink(echo=False)
    from paperatlas.sources import xml_records

    lines = [(e.get("key"), e.sourceline) for e in xml_records.iter_elements(io.BytesIO(data), "f.xml", sink, "r")]
    assert lines == [("a", 3), ("b", 4), ("d", 6)]  # after the resynchronisation too, the file's own lines


def test_a_document_cut_short_yields_no_fragment_of_its_last_record() -> None:
    data = b"<?xml version='1.0'?>\n<root>\n<r key='a'><t>one</t></r>\n<r key='b'><t>tw"
    for chunk in (None, 5):
        keys, sink = _elements(data, chunk)
        assert keys == ["a"] and sink.count == 1 and "broken XML" in sink.messages[0], (chunk, keys)
