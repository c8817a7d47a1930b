"""The ingest and merge benchmarks run on the real samples and report the figures the issue names."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from paperatlas.bench.merge import _probe_records, evaluate
from paperatlas.ingest import ingest_paths


@pytest.mark.slow
def test_bench_ingest_reports_rate_floor_ratio_and_rss(shared, tmp_path):
    # In its own process, as a user runs it: peak memory in the test runner's process would be the runner's.
    done = subprocess.run(
        [sys.executable, "-m", "paperatlas", "--quiet", "--data-dir", str(tmp_path), "bench", "ingest", "--limit",
         "1", "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PAPERATLAS_SHARED_DATA": str(shared)},
    )
    assert done.returncode == 0, done.stderr
    figures = orjson.loads(done.stdout)
    assert figures["records"] == 1000 and figures["papers"] == 1000
    assert figures["records_per_s"] > 0 and figures["parse_floor_records_per_s"] > 0
    assert abs(figures["ratio_to_floor"] - figures["records_per_s"] / figures["parse_floor_records_per_s"]) < 0.01
    assert 0 < figures["peak_rss_mb"] < 2000
    assert figures["targets"]["records_per_s"] == 10_000


def test_merge_evaluation_finds_snapshot_records_with_ids_hidden(store, shared):
    ingest_paths(store, [shared / "arxiv" / "oai-pmh-cs-2016" / "page001.xml.gz"], show_progress=False)
    probes = _probe_records([shared / "arxiv" / "kaggle-snapshot"])
    figures = evaluate(store.db, probes)
    snapshot = figures["per_source"]["arxiv-snapshot"]
    assert snapshot["probes"] == 249
    assert snapshot["pairs"] >= 5  # 0704.* papers cross-listed in cs are in the first OAI page
    assert snapshot["precision"] == 1.0 and snapshot["recall"] >= 0.8
