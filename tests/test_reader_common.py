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
