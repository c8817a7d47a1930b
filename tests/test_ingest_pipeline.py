"""The ingest pipeline end to end on real files: validation before writing, idempotency, versions, bad input."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from paperatlas.ingest import IngestError, StrictStop, ingest_paths
from paperatlas.model import unpack_provenance
from paperatlas.store import open_store
from paperatlas.store.papers import resolve_paper

VOLATILE = {"created_at", "modified_at", "ingested_at", "applied_at", "updated_at"}


def oai(shared, number: int = 1) -> Path:
    return shared / "arxiv" / "oai-pmh-cs-2016" / f"page{number:03d}.xml.gz"


def table_rows(db, tables=("papers", "paper_ids", "paper_records", "authorships", "citations", "meta")):
    """Every row of the ingest's tables, timestamps left out, in a stable order."""
    out = {}
    for table in tables:
        rows = db.query(f"SELECT * FROM {table}")
        out[table] = sorted(tuple((k, v) for k, v in row.items() if k not in VOLATILE) for row in rows)
    return out


def test_cli_ingest_then_stats_reports_what_was_read(cli, shared):
    result = cli("ingest", str(oai(shared)))
    assert result.exit_code == 0, result.output
    assert "read 1,000 records" in result.output
    stats = orjson.loads(cli("stats", "--json").output)
    assert stats["papers"] == 1000
    assert stats["papers_per_source"] == {"arxiv-oai": 1000}
    assert stats["authorships"] > 2000


def test_json_summary_and_reingest_is_a_no_op(cli, shared, data_dir):
    first = orjson.loads(cli("ingest", "--json", str(oai(shared))).output)
    assert (first["read"], first["new"], first["unchanged"], first["skipped"]) == (1000, 1000, 0, 0)
    assert first["per_format"] == {"arxiv-oai": 1000}
    store = open_store(data_dir)
    before = table_rows(store.db)
    second = orjson.loads(cli("ingest", "--json", str(oai(shared))).output)
    assert (second["new"], second["merged"], second["updated"], second["unchanged"]) == (0, 0, 0, 1000)
    assert table_rows(store.db) == before
    store.close()


@pytest.mark.parametrize("make", ["missing", "unknown", "empty_folder_file", "bad_format_name"])
def test_bad_paths_exit_2_and_write_nothing(cli, shared, tmp_path, data_dir, make):
    good = str(oai(shared))
    if make == "missing":
        args = [good, str(tmp_path / "nope.xml")]
    elif make == "unknown":
        (tmp_path / "notes.txt").write_text("hello, this is not metadata\n")
        args = [good, str(tmp_path / "notes.txt")]
    elif make == "empty_folder_file":
        folder = tmp_path / "folder"
        folder.mkdir()
        (folder / "empty.jsonl").write_bytes(b"")
        (folder / "readme.txt").write_text("nothing to see\n")
        args = [good, str(folder)]
    else:
        args = ["--format", "no-such-format", good]
    result = cli("ingest", *args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("paperatlas: ")
    store = open_store(data_dir)
    assert store.db.scalar("SELECT COUNT(*) FROM papers") == 0
    store.close()


def test_empty_file_beside_a_good_one_is_noted_not_fatal(store, shared, tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    summary = ingest_paths(store, [empty, oai(shared)], show_progress=False, echo_errors=False)
    assert summary.read == 1000
    assert any("empty" in note for note in summary.notes)
    with pytest.raises(IngestError):
        ingest_paths(store, [empty], show_progress=False, echo_errors=False)


def test_folders_recurse_and_compression_is_detected_by_content(store, shared, tmp_path):
    folder = tmp_path / "in" / "deeper"
    folder.mkdir(parents=True)
    raw = gzip.decompress(oai(shared, 3).read_bytes())
    (folder / "page3.data").write_bytes(raw)  # plain, odd name
    import bz2

    (tmp_path / "in" / "page4.bin").write_bytes(bz2.compress(gzip.decompress(oai(shared, 4).read_bytes())))
    summary = ingest_paths(store, [tmp_path / "in"], show_progress=False)
    assert summary.files == 2 and summary.read == 2000 and summary.new == 2000


def test_newer_arxiv_version_updates_and_keeps_identities(store, shared, tmp_path):
    ingest_paths(store, [oai(shared)], show_progress=False)
    paper_id = resolve_paper(store.db, "arxiv:0704.0002")
    with store.db.transaction():
        store.db.execute("INSERT INTO identities (id, aid, name, name_key, created_at, modified_at) "
                         "VALUES (7, 'a7', 'Ileana Streinu', 'ileana streinu', 'x', 'x')")
        store.db.execute("UPDATE authorships SET identity_id = 7 WHERE paper_id = ? AND position = 0", (paper_id,))
    text = gzip.decompress(oai(shared).read_bytes()).decode()
    start = text.index("<record>")
    end = text.index("</record>", start) + len("</record>")
    record = text[start:end]
    newer = (record.replace("<updated>2008-12-13</updated>", "<updated>2016-01-02</updated>")
             .replace("Sparsity-certifying Graph Decompositions", "Sparsity-certifying Graph Decompositions, II")
             .replace("<author><keyname>Theran</keyname><forenames>Louis</forenames></author>", ""))
    page = text[:start] + newer + text[text.index("<resumptionToken"):]
    (tmp_path / "newer.xml").write_text(page)
    papers_before = store.db.scalar("SELECT COUNT(*) FROM papers")
    seq_before = store.db.scalar("SELECT change_seq FROM papers WHERE id = ?", (paper_id,))
    summary = ingest_paths(store, [tmp_path / "newer.xml"], show_progress=False)
    assert (summary.read, summary.updated, summary.new) == (1, 1, 0)
    assert store.db.scalar("SELECT COUNT(*) FROM papers") == papers_before
    row = store.db.query("SELECT title, updated, change_seq, provenance FROM papers WHERE id = ?", (paper_id,))[0]
    assert row["title"] == "Sparsity-certifying Graph Decompositions, II"
    assert row["updated"] == "2016-01-02"
    assert row["change_seq"] > seq_before
    assert unpack_provenance(row["provenance"])["title"].endswith("newer.xml:line 6")
    authors = store.db.query_tuples("SELECT position, name, identity_id FROM authorships WHERE paper_id = ? "
                                    "ORDER BY position", (paper_id,))
    assert authors == [(0, "Ileana Streinu", 7)]
    assert store.db.scalar("SELECT COUNT(*) FROM paper_records WHERE paper_id = ?", (paper_id,)) == 1


def test_arxiv_snapshot_and_oai_records_of_one_paper_merge(store, shared):
    snapshot = shared / "arxiv" / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl"
    summary = ingest_paths(store, [oai(shared), snapshot], show_progress=False)
    assert summary.per_format.get("arxiv-snapshot") == 200
    assert summary.merged > 0
    both = store.db.scalar("SELECT COUNT(*) FROM (SELECT paper_id FROM paper_records GROUP BY paper_id "
                           "HAVING COUNT(DISTINCT source) = 2) AS t")
    assert both == summary.merged
    assert store.db.scalar("SELECT COUNT(*) FROM papers") == 1000 + 200 - summary.merged


def test_json_line_with_wrong_types_is_skipped_and_reported(store, shared, tmp_path):
    lines = (shared / "arxiv" / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl").read_bytes()
    good = lines.splitlines()[:3]
    bad = json.dumps({"id": 704.0009, "authors": 5, "title": ["x"], "versions": "v1", "submitter": None})
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good[0], bad.encode(), good[1], b"{not json", good[2]]) + b"\n")
    summary = ingest_paths(store, [path], show_progress=False, echo_errors=False)
    assert summary.read == 3 and summary.new == 3
    assert summary.skipped == 2
    assert summary.errors[0].startswith(f"{path}:2: ")
    assert summary.errors[1].startswith(f"{path}:4: ")
    with pytest.raises(StrictStop):
        ingest_paths(store, [path], strict=True, show_progress=False, echo_errors=False)


def test_strict_cli_stops_with_exit_1_keeping_good_records(cli, shared, tmp_path, data_dir):
    text = gzip.decompress(oai(shared).read_bytes())
    cut = text.index(b"<record>", len(text) // 2)
    (tmp_path / "broken.xml").write_bytes(text[:cut] + b"<record><oops></record>" + text[cut:])
    result = cli("ingest", "--strict", str(tmp_path / "broken.xml"))
    assert result.exit_code == 1
    assert "broken.xml:" in result.stderr
    store = open_store(data_dir)
    assert 400 < store.db.scalar("SELECT COUNT(*) FROM papers") < 1000
    store.close()
    lenient = cli("ingest", "--json", str(tmp_path / "broken.xml"))
    assert lenient.exit_code == 0
    assert orjson.loads(lenient.stdout)["skipped"] == 1


def test_huge_line_is_refused_in_bounded_memory(shared, tmp_path):
    """A 512 MB JSON line is reported and skipped without being read into memory: the peak RSS of the process
    stays well under the size of the line (reading is bounded by MAX_RECORD_BYTES chunks, whatever the line)."""
    lines = (shared / "arxiv" / "kaggle-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl").read_bytes()
    first, second = lines.splitlines()[:2]
    path = tmp_path / "huge.jsonl"
    chunk = b"x" * (1024 * 1024)
    with open(path, "wb") as out:
        out.write(first + b"\n" + b'{"id": "0704.9999", "abstract": "')
        for _ in range(512):
            out.write(chunk)
        out.write(b'"}\n' + second + b"\n")
    script = (
        "import sys, orjson\n"
        "from paperatlas.store import open_store\n"
        "from paperatlas.ingest import ingest_paths\n"
        "s = ingest_paths(open_store(sys.argv[1]), [sys.argv[2]], show_progress=False, echo_errors=False,"
        " parallel=False)\n"
        # VmHWM is this process's own peak (ru_maxrss would inherit the pytest parent's peak across exec).
        "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "print(orjson.dumps({'s': s.as_dict(), 'rss': hwm}).decode())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data"), str(path)], capture_output=True,
                          text=True, check=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["s"]["read"] == 2 and report["s"]["skipped"] == 1
    assert "longer than" in report["s"]["errors"][0] and report["s"]["errors"][0].startswith(f"{path}:2:")
    assert report["rss"] / 1024 < 400, f"peak RSS {report['rss'] / 1024:.0f} MB: the line was read into memory"
    shutil.rmtree(tmp_path / "data")
    path.unlink()


def test_format_option_overrides_detection(cli, shared, tmp_path):
    plain = tmp_path / "page.dat"
    plain.write_bytes(gzip.decompress(oai(shared, 5).read_bytes()))
    result = cli("ingest", "--json", "--format", "arxiv-oai", str(plain))
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["per_format"] == {"arxiv-oai": 1000}
    listed = cli("ingest", "--list-formats")
    assert listed.exit_code == 0 and "arxiv-oai" in listed.output


@pytest.mark.slow
def test_reingest_of_sources_holding_two_versions_of_a_record_is_a_no_op(store, shared):
    """Semantic Scholar API responses name one paper in several files with different fields (and OpenAlex one
    author in several): the store keeps one version by a total order, so reading them again changes nothing."""
    paths = [shared / "semantic-scholar" / "api_responses_danielnsilva", shared / "openalex" / "entities"]
    first = ingest_paths(store, paths, show_progress=False, echo_errors=False)
    assert first.read > 1000 and first.new > 1000
    before = table_rows(store.db, ("papers", "paper_ids", "paper_records", "authorships", "citations",
                                   "pending_citations", "source_entities", "meta"))
    again = ingest_paths(store, list(reversed(paths)), show_progress=False, echo_errors=False)
    assert (again.new, again.merged, again.updated, again.entities, again.citations) == (0, 0, 0, 0, 0)
    after = table_rows(store.db, ("papers", "paper_ids", "paper_records", "authorships", "citations",
                                  "pending_citations", "source_entities", "meta"))
    assert after == before
