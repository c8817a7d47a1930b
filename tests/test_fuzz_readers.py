"""Fuzzing every reader with mutations of its real samples: byte flips, truncations, NULs, bad UTF-8, entity tricks.

Each case asserts what the README promises of any input: no exception escapes a reader, every complaint is one
``FILE:LINE: reason`` line, and, where records can be counted in the raw bytes (XML start tags, JSON lines) and
the mutation did not change that count, records read + records reported = records of the clean sample.  The
mutations come from a seeded generator, so a failure names a case that reruns exactly.  About 400 cases on small
slices of the samples keep the whole file to a few seconds; the store-level cases at the end run on SQLite and on
PostgreSQL (``any_store``).
"""

from __future__ import annotations

import gzip
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from paperatlas.ingest import IngestError, ingest_paths
from paperatlas.sources.base import ErrorSink, ReadError
from paperatlas.sources.registry import reader_named

REPO = Path(__file__).resolve().parents[1]
MESSAGE = re.compile(r"^[^\n]+?:\d+: \S")
SEED = 19


@dataclass(frozen=True)
class Sample:
    format: str
    data: bytes
    records: re.Pattern[bytes] | None  # a record's start in the raw bytes; None: one record per non-empty line
    countable: bool = True


def _xml_slice(data: bytes, end_tag: bytes, after: int, closing: bytes) -> bytes:
    cut = data.index(end_tag, after) + len(end_tag)
    return data[:cut] + b"\n" + closing


def _lines(data: bytes, count: int) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:count])


def _samples(shared: Path) -> dict[str, Sample]:
    oai = gzip.decompress((REPO / "demo" / "corpus" / "arxiv-oai" / "page001.xml.gz").read_bytes())
    oai = oai[: oai.index(b"</record>", 25_000) + 9] + b"\n" + oai[oai.index(b"</ListRecords>"):]
    dblp = (shared / "dblp" / "dblp-sample.xcurator.xml").read_bytes()
    atom = (REPO / "demo" / "corpus" / "arxiv-atom" / "arxiv_api_cs_start0.atom.xml").read_bytes()
    snapshot = (shared / "arxiv" / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl").read_bytes()
    links = (shared / "code-links" / "paper_code_links.jsonl").read_bytes()
    s2orc = (shared / "semantic-scholar" / "s2orc_samples" / "s2orc_v2020-07-05_metadata_sample.jsonl").read_bytes()
    acl = (shared / "citations" / "acl-anthology-network" / "acl-metadata.txt").read_bytes()
    publications = rb"article|inproceedings|proceedings|book|incollection|phdthesis|mastersthesis|www|person"
    return {
        "arxiv-oai": Sample("arxiv-oai", oai, re.compile(rb"<(?:[\w.\-]+:)?record[\s/>]")),
        "dblp": Sample("dblp", _xml_slice(dblp, b"</incollection>", 15_000, b"</dblp>\n"),
                       re.compile(rb"<(?:" + publications + rb")[\s/>]")),
        "arxiv-atom": Sample("arxiv-atom", _xml_slice(atom, b"</entry>", 20_000, b"</feed>\n"),
                             re.compile(rb"<(?:[\w.\-]+:)?entry[\s/>]")),
        "arxiv-snapshot": Sample("arxiv-snapshot", _lines(snapshot, 25), None),
        "code-links": Sample("code-links", _lines(links, 40), None),
        "s2orc": Sample("s2orc", _lines(s2orc, 15), None),
        # a bad line inside a metadata block is reported without costing the block: not countable
        "acl-metadata": Sample("acl-metadata", _lines(acl, 120), None, countable=False),
    }


def _read(fmt: str, data: bytes) -> tuple[int, ErrorSink, bool]:
    """(records read, sink, whether the reader refused the file as a whole)."""
    reader = reader_named(fmt)
    assert reader is not None, fmt
    sink = ErrorSink(echo=False)
    count = 0
    try:
        for _ in reader.read(io.BytesIO(data), "f.x", sink):
            count += 1
    except ReadError:
        return count, sink, True
    return count, sink, False


def _units(sample: Sample, data: bytes) -> int:
    if sample.records is not None:
        return len(sample.records.findall(data))
    return sum(1 for line in data.splitlines() if line.strip())


def _inside_a_start_tag(sample: Sample, data: bytes, at: int) -> bool:
    """Whether ``at`` falls in a record's start tag (a flip there may turn a record into a quietly skipped one,
    say a dblp ``<www key="homepages/...">`` into another kind of <www>)."""
    if sample.records is None:
        return False
    opening = data.rfind(b"<", 0, at + 1)
    return opening >= 0 and data.rfind(b">", opening, at) < 0 and sample.records.match(data, opening) is not None


def _mutate(rng: random.Random, data: bytes) -> tuple[str, int, bytes]:
    kind = rng.choice(("flip", "flip", "flip", "truncate", "nul", "utf8", "delete"))
    at = rng.randrange(len(data))
    if kind == "flip":
        return kind, at, data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]
    if kind == "truncate":
        return kind, at, data[:at]
    if kind == "nul":
        return kind, at, data[:at] + b"\x00" + data[at:]
    if kind == "utf8":
        return kind, at, data[:at] + rng.choice((b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82")) + data[at:]
    return kind, at, data[:at] + data[at + rng.randrange(1, 40):]


CASES_PER_FORMAT = {"arxiv-oai": 70, "dblp": 70, "arxiv-atom": 60, "arxiv-snapshot": 50, "code-links": 40,
                    "s2orc": 40, "acl-metadata": 30}


@pytest.mark.parametrize("fmt", sorted(CASES_PER_FORMAT))
def test_mutated_samples_lose_no_record_unreported(shared: Path, fmt: str) -> None:
    sample = _samples(shared)[fmt]
    clean, clean_sink, refused = _read(fmt, sample.data)
    assert not refused and clean_sink.count == 0 and clean_sink.problems == 0 and clean > 5, clean_sink.messages
    assert _units(sample, sample.data) == clean or not sample.countable
    rng = random.Random(f"{SEED}-{fmt}")
    checked = 0
    for case in range(CASES_PER_FORMAT[fmt]):
        kind, at, data = _mutate(rng, sample.data)
        where = f"{fmt} case {case}: {kind} at {at}"
        read, sink, refused = _read(fmt, data)  # any exception but ReadError fails the test here
        for message in sink.messages:
            assert MESSAGE.match(message) and message.startswith("f.x:"), (where, message)
        assert sink.count + sink.problems + sink.notices >= len(sink.messages) > 0 or read == clean or \
            kind in ("flip", "delete"), where  # a truncation or a NUL never goes unnoticed
        if refused or not sample.countable or _inside_a_start_tag(sample, sample.data, at):
            continue
        if kind == "truncate":
            expected = _units(sample, data)  # the records that start before the cut
        elif _units(sample, data) == _units(sample, sample.data):
            expected = clean
        else:
            continue
        checked += 1
        assert read + sink.count == expected, (where, read, sink.count, sink.messages[:5])
    assert checked >= CASES_PER_FORMAT[fmt] // 2 or not sample.countable  # the check is not vacuous


SECRET = "paperatlas-secret-7f3a9c"


@pytest.mark.parametrize("fmt", ["dblp", "arxiv-oai", "arxiv-atom"])
def test_entity_tricks_read_no_file_and_expand_nothing(shared: Path, tmp_path: Path, fmt: str) -> None:
    """External entities (a local file, a URL, a parameter entity), an entity bomb and an undefined entity: no
    secret and no expansion reaches a record, the record that uses one is reported, and the others are read."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    sample = _samples(shared)[fmt]
    clean, _, _ = _read(fmt, sample.data)
    declaration = sample.data.index(b"?>") + 2
    bomb = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 9))
    doctypes = [
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>',
        '<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>',
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "file://{secret}"> %p; <!ENTITY x "y">]>',
        f'<!DOCTYPE r [<!ENTITY e0 "{SECRET}">{bomb}<!ENTITY x "&e8;">]>',
        f'<!DOCTYPE r SYSTEM "file://{secret}">',
    ]
    first = sample.records.search(sample.data)
    title = re.compile(rb"<(?:\w+:)?title>").search(sample.data, first.end())
    assert title is not None
    at = title.end()  # inside the first record's title
    for doctype in doctypes:
        data = sample.data[:declaration] + doctype.encode() + sample.data[declaration:at] + b"&x;" + \
            sample.data[at:]
        reader = reader_named(fmt)
        sink = ErrorSink(echo=False)
        records = list(reader.read(io.BytesIO(data), "f.x", sink))
        assert SECRET not in repr(records), doctype
        assert sink.count == 1 and len(records) == clean - 1, (doctype, sink.messages)
        assert "Entity 'x' not defined" in sink.messages[0]


def _store_rows(store) -> tuple:
    db = store.db
    return tuple(db.scalar(f"SELECT COUNT(*) FROM {table}") for table in ("papers", "paper_records", "paper_ids"))


def test_ingest_of_mutated_files_on_each_backend(any_store, shared: Path, tmp_path: Path) -> None:
    """Mutated files of every countable format, ingested together: no traceback, no NUL or control character
    stored, the summary counts every record read or reported; refused input (exit 2) leaves the store as it was."""
    samples = _samples(shared)
    rng = random.Random(f"{SEED}-store")
    folder = tmp_path / "mutated"
    folder.mkdir()
    for fmt in ("arxiv-oai", "dblp", "arxiv-snapshot"):
        sample = samples[fmt]
        for number in range(4):
            kind, at, data = _mutate(rng, sample.data)
            if kind == "truncate":
                data = sample.data[: max(at, len(sample.data) // 2)]
            if number == 0:  # a NUL and a raw control character inside a title: cleaned, not refused
                title = sample.data.index(b"title", len(sample.data) // 3)
                cut = sample.data.index(b">", title) + 3 if fmt != "arxiv-snapshot" else title + 12
                data = sample.data[:cut] + (b"\\u0000\\u0007" if fmt == "arxiv-snapshot" else b"\x07\x1b") + \
                    sample.data[cut:]
            (folder / f"{fmt}-{number}.{'jsonl' if fmt == 'arxiv-snapshot' else 'xml'}").write_bytes(data)
    summary = ingest_paths(any_store, [folder], show_progress=False, echo_errors=False, parallel=False)
    # JSON may carry control characters (cleaned and stored); raw ones are not XML at all (the record is reported)
    assert summary.read > 0 and summary.cleaned >= 1 and summary.skipped >= 2
    assert all(MESSAGE.match(line) for line in summary.errors)
    db = any_store.db
    for title, in db.query_tuples("SELECT title FROM papers"):
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", title or ""), title
    before = _store_rows(any_store)
    version = db.scalar("SELECT MAX(change_seq) FROM papers")
    unknown = tmp_path / "unknown.bin"
    unknown.write_bytes(b"\x00\x01 not a format PaperAtlas reads\n")
    with pytest.raises(IngestError):
        ingest_paths(any_store, [folder, unknown], show_progress=False, echo_errors=False)
    assert _store_rows(any_store) == before and db.scalar("SELECT MAX(change_seq) FROM papers") == version
