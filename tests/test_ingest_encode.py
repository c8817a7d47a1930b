"""The parser's encoding: records stored compactly (every empty member left out, nothing else changed), and
batches that cross the process boundary arrive equal to what was sent."""

from __future__ import annotations

import orjson
import pytest

from paperatlas.ingest.encode import compact, encode, pack, plain, unpack, with_prepared
from paperatlas.ingest.files import open_binary, plan
from paperatlas.model import SourceRecord
from paperatlas.sources.base import ErrorSink

SAMPLES = [
    "arxiv/oai-pmh-cs-2016/page001.xml.gz",
    "arxiv/kaggle-snapshot/arxiv-metadata-oai-snapshot.first200.jsonl",
    "arxiv/atom-api",
    "dblp",
    "openalex",
    "semantic-scholar",
    "citations/acl-anthology-network",
]


def _records(shared, relative, limit=150):
    planned, _ = plan([shared / relative], None)
    for file in planned:
        with open_binary(file.path) as stream:
            for count, record in enumerate(file.reader.read(stream, str(file.path), ErrorSink(echo=False))):
                if count >= limit:
                    break
                yield file.format, record


def _reference(record: SourceRecord) -> bytes:
    """The obvious way: the whole dataclass as JSON, then the empty members taken out."""
    data = orjson.loads(orjson.dumps(record))
    data.pop("provenance")
    return orjson.dumps(compact(data), option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize("relative", SAMPLES)
def test_plain_equals_compacted_json_for_every_reader(shared, relative):
    papers = [record for _, record in _records(shared, relative) if isinstance(record, SourceRecord)]
    assert papers
    for record in papers:
        assert orjson.dumps(plain(record), option=orjson.OPT_SORT_KEYS) == _reference(record)


def test_compact_drops_empty_members_only():
    value = {"a": None, "b": "", "c": [], "d": {}, "e": 0, "f": False, "g": {"x": None, "y": [1, {"z": ""}]},
             "h": {"only": None}}
    assert compact(value) == {"e": 0, "f": False, "g": {"y": [1, {}]}}


def test_pack_unpack_round_trip_with_and_without_prepared(shared):
    items = [encode(record, fmt) for fmt, record in _records(shared, SAMPLES[0], limit=40)]
    mixed = with_prepared(items[:20]) + items[20:]
    back = unpack(pack(mixed))
    assert back == mixed
    assert back[0].pre is not None and back[0].pre == mixed[0].pre and back[-1].pre is None
