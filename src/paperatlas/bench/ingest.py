"""``paperatlas bench ingest``: the 102,538 records of the 2016 OAI-PMH cs harvest into a fresh store.

It measures, in one run: the parse-only floor (the same files through the same reader and encoder, nothing
stored), then the full ingest (parse + merge + write, one transaction per batch), their ratio, and the peak RSS
of the ingest (its own process plus the parser process).  Targets from the issue: >= 40% of the floor,
>= 10,000 records/s, peak RSS <= 400 MB.  ``--repeat N`` feeds the same real pages N times under fresh arXiv ids
(the generator keeps every field but the id) to show memory stays flat as the input grows.

CPU seconds (writer + parser process) are printed beside the wall-clock figures, with the load average: on a
machine that other jobs keep busy the wall-clock rates say more about them than about the ingest.
"""

from __future__ import annotations

import gzip
import os
import re
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import click

from ..shared_data import shared_data_dir_or_default
from .report import emit, json_option, machine, peak_rss_mb

TARGET_RECORDS_PER_S = 10_000
TARGET_RATIO = 0.40
TARGET_RSS_MB = 400.0



def _rss_mb(who: int) -> float:
    if who == resource.RUSAGE_SELF:
        return peak_rss_mb()
    return resource.getrusage(who).ru_maxrss / 1024.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _repeated(pages: list[Path], repeat: int, folder: Path) -> Iterator[Path]:
    """The real pages, then copies with every arXiv id moved to a fresh range (``9{copy}{id}``)."""
    yield from pages
    for copy in range(1, repeat):
        for page in pages:
            text = gzip.decompress(page.read_bytes())
            text = re.sub(rb"<id>(\d{4})\.(\d{4,5})</id>", lambda m, c=copy: b"<id>%02d%02d.%s</id>" % (
                90 + c % 10, int(m.group(1)[2:]) % 100, m.group(2)), text)
            text = re.sub(rb"<id>([a-z\-]+(?:\.[A-Z]{2})?)/(\d{7})</id>",
                          lambda m, c=copy: b"<id>%s%d/%s</id>" % (m.group(1), c, m.group(2)), text)
            target = folder / f"copy{copy}-{page.name}"
            target.write_bytes(gzip.compress(text, compresslevel=1))
            yield target


def measure(source: Path, *, limit: int | None = None, repeat: int = 1, show_progress: bool = False,
            batch_size: int | None = None, database: str | None = None) -> dict:
    """Ingest into a fresh store: a SQLite file, or a throwaway schema on the PostgreSQL server ``database``."""
    from ..ingest import ingest_paths
    from ..ingest.files import open_binary, plan
    from ..ingest.producer import BATCH_SIZE
    from ..sources.base import ErrorSink
    from .build import fresh_store

    pages = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    if limit:
        pages = pages[:limit]
    work = Path(tempfile.mkdtemp(prefix="paperatlas-bench-ingest-"))
    try:
        files = list(_repeated(pages, repeat, work)) if repeat > 1 else pages
        planned, _ = plan(files)
        # The floor: the same files through the same readers (decompression + XML parsing + record building),
        # nothing encoded, merged or stored.
        load_before = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        parsed = 0
        sink = ErrorSink(echo=False)
        for file in planned:
            with open_binary(file.path) as stream:
                for _ in file.reader.read(stream, str(file.path), sink):
                    parsed += 1
        floor_seconds = time.perf_counter() - started
        floor_cpu = time.process_time() - cpu_started

        with fresh_store(database, work / "store") as store:
            rss_before = _rss_mb(resource.RUSAGE_SELF)
            cpu_started, children_started = time.process_time(), _children_cpu()
            summary = ingest_paths(store, files, show_progress=show_progress, batch_size=batch_size or BATCH_SIZE)
            writer_cpu = time.process_time() - cpu_started
            parser_cpu = _children_cpu() - children_started  # 0 when the ingest ran in one process
            ingest_cpu = writer_cpu + parser_cpu
            papers = int(store.db.scalar("SELECT COUNT(*) FROM papers") or 0)
            dialect = store.dialect
        parent_rss = _rss_mb(resource.RUSAGE_SELF)
        child_rss = _rss_mb(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor = parsed / floor_seconds if floor_seconds else 0.0
    rate = summary.records_per_s
    peak = parent_rss + child_rss
    return {
        "store": dialect,
        "records": summary.read,
        "files": len(files),
        "papers": papers,
        "skipped": summary.skipped,
        "repeat": repeat,
        "generated": repeat > 1,
        "seconds": round(summary.seconds, 2),
        "records_per_s": round(rate, 1),
        "parse_floor_records_per_s": round(floor, 1),
        "parse_floor_seconds": round(floor_seconds, 2),
        "ratio_to_floor": round(rate / floor, 3) if floor else 0.0,
        "cpu_seconds": round(ingest_cpu, 2),
        "parse_floor_cpu_seconds": round(floor_cpu, 2),
        "records_per_cpu_s": round(summary.read / ingest_cpu, 1) if ingest_cpu else 0.0,
        # Which process is the bottleneck: the two should be about equal (see ingest/producer.py).
        "writer_cpu_us_per_record": round(writer_cpu / summary.read * 1e6, 1) if summary.read else 0.0,
        "parser_cpu_us_per_record": round(parser_cpu / summary.read * 1e6, 1) if summary.read else 0.0,
        "parse_floor_records_per_cpu_s": round(parsed / floor_cpu, 1) if floor_cpu else 0.0,
        "load_average_at_start": round(load_before, 2),
        "peak_rss_mb": round(peak, 1),
        "peak_rss_writer_mb": round(parent_rss, 1),
        "peak_rss_parser_mb": round(child_rss, 1),
        "rss_before_ingest_mb": round(rss_before, 1),
        "targets": {
            "records_per_s": TARGET_RECORDS_PER_S,
            "ratio_to_floor": TARGET_RATIO,
            "peak_rss_mb": TARGET_RSS_MB,
            "records_per_s_met": rate >= TARGET_RECORDS_PER_S,
            "ratio_met": floor > 0 and rate / floor >= TARGET_RATIO,
            "rss_met": peak <= TARGET_RSS_MB,
        },
        "machine": machine(),
    }


@click.command("ingest")
@click.option("--source", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of OAI-PMH pages [default: ../shared/data/arxiv/oai-pmh-cs-2016].")
@click.option("--limit", type=int, help="Only the first N pages (a quick run).")
@click.option("--repeat", type=int, default=1, show_default=True,
              help="Feed the pages N times (copies under fresh arXiv ids), to show memory stays flat.")
@json_option
@click.pass_context
def bench_ingest(ctx: click.Context, source: Path | None, limit: int | None, repeat: int, as_json: bool) -> None:
    """Ingest speed vs. the parse-only floor, and peak memory, on the real OAI-PMH harvest."""
    from ..context import fail

    source = source or shared_data_dir_or_default() / "arxiv" / "oai-pmh-cs-2016"
    if not source.is_dir():
        fail(f"{source}: the OAI-PMH pages are missing (use --source or set PAPERATLAS_SHARED_DATA)")
    if repeat < 1:
        fail("--repeat must be at least 1")
    app = ctx.find_object(object)
    quiet = bool(getattr(app, "quiet", False))
    figures = measure(source, limit=limit, repeat=repeat, show_progress=not quiet and not as_json,
                      database=getattr(app, "database", None))
    emit("bench ingest (OAI-PMH arXiv cs 2016" + (", generated copies" if repeat > 1 else "") + ")", figures,
         as_json)
