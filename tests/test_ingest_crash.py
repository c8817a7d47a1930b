"""kill -9 in the middle of an ingest: the store keeps the last committed group of batches, a re-run ends where an
uninterrupted run ends (same rows, same change_seq), and the parser process does not outlive its parent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperatlas.store import STORE_FILENAME, open_store

VOLATILE = {"created_at", "modified_at", "ingested_at"}


def table_rows(db, tables=("papers", "paper_ids", "paper_records", "authorships", "citations", "meta")):
    out = {}
    for table in tables:
        rows = db.query(f"SELECT * FROM {table}")
        out[table] = sorted(tuple((k, v) for k, v in row.items() if k not in VOLATILE) for row in rows)
    return out

SCRIPT = """
import sys
from paperatlas.store import open_store
from paperatlas.ingest import ingest_paths
store = open_store(sys.argv[1])
ingest_paths(store, sys.argv[2:], show_progress=False, parallel=True, batch_size=250, commit_records=1000)
"""


def _run(data: Path, files: list[Path]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(data), *map(str, files)])


def _committed_batches(data: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{data / STORE_FILENAME}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()[0])
        finally:
            conn.close()
    except (sqlite3.Error, TypeError):
        return 0


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_kill_9_then_rerun_equals_uninterrupted_run(shared, tmp_path):
    files = [shared / "arxiv" / "oai-pmh-cs-2016" / f"page{n:03d}.xml.gz" for n in (10, 11, 12, 13, 14, 15)]
    killed, clean = tmp_path / "killed", tmp_path / "clean"

    process = _run(killed, files)
    deadline = time.monotonic() + 120
    while _committed_batches(killed) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the ingest finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stopped_at = _committed_batches(killed)
    assert 4 <= stopped_at < 24

    deadline = time.monotonic() + 10  # the parser child dies with its parent
    while _processes_mentioning(str(killed)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(str(killed)) == []

    store = open_store(killed)
    papers = store.db.scalar("SELECT COUNT(*) FROM papers")
    assert papers == stopped_at * 250  # exactly the committed batches, nothing half-written
    store.close()

    assert _run(killed, files).wait(timeout=300) == 0
    assert _run(clean, files).wait(timeout=300) == 0
    resumed, uninterrupted = open_store(killed), open_store(clean)
    assert resumed.db.scalar("SELECT COUNT(*) FROM papers") == 6000
    assert table_rows(resumed.db) == table_rows(uninterrupted.db)
    resumed.close()
    uninterrupted.close()
