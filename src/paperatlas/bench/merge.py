"""``paperatlas bench merge``: precision and recall of cross-source paper matching, on real records.

Truth comes from identifiers.  A reference store is built by the real ingest from the *reference* sources (the
arXiv OAI-PMH harvest and API feeds, ACL Anthology Network).  Every record of the *probe* sources (arXiv bulk
snapshot, DBLP with its ``ee`` links, OpenAlex, Semantic Scholar, S2ORC, code links) that names a paper of the
store by an identifier (arXiv id, DOI, DBLP key, ACL id...) is a positive pair; then all its identifiers are
hidden and the ingest's own fallback rule (``merge.matching``: folded title, year within one, first author's
surname) has to find the paper.
Probes whose identifiers name nothing in the store are negatives: any match for them counts against precision
(a few may be true matches whose identifiers one source lacks, so precision is, if anything, understated).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click
import orjson

from ..shared_data import shared_data_dir_or_default
from .report import emit, json_option

# (name, reference sources ingested into a fresh store, probe sources matched against it)
EXPERIMENTS = [
    ("vs-arxiv-oai-and-acl", ["arxiv/oai-pmh-cs-2016", "citations/acl-anthology-network/acl-metadata.txt"],
     ["arxiv/atom-api", "arxiv/kaggle-snapshot", "dblp", "openalex", "semantic-scholar", "code-links"]),
]


def _probe_records(paths: list[Path]) -> list[dict[str, Any]]:
    from ..ingest.files import IngestError, open_binary, plan
    from ..model import SourceRecord
    from ..sources.base import ErrorSink

    records: list[dict[str, Any]] = []
    for path in paths:
        try:
            planned, _ = plan([path])
        except IngestError:
            continue
        sink = ErrorSink(echo=False)
        for file in planned:
            with open_binary(file.path) as stream:
                for record in file.reader.read(stream, str(file.path), sink):
                    if isinstance(record, SourceRecord) and record.ids:
                        record.provenance = None  # type: ignore[assignment]
                        records.append(orjson.loads(orjson.dumps(record)))
    return records


def evaluate(db, probes: list[dict[str, Any]]) -> dict[str, Any]:
    """Match every probe with its identifiers hidden; score against what its identifiers say."""
    from ..merge.fold import first_author_key, record_year
    from ..merge.matching import lookup_ids, lookup_titles, record_pairs, title_match
    from ..normalize import title_key

    truth_ids = lookup_ids(db, (pair for p in probes for pair in record_pairs(p["ids"])))
    candidates = lookup_titles(db, (title_key(p.get("title")) for p in probes))
    per_source: dict[str, Counter] = {}
    examples: list[dict[str, Any]] = []
    for probe in probes:
        truth = {truth_ids[pair] for pair in record_pairs(probe["ids"]) if pair in truth_ids}
        key = title_key(probe.get("title"))
        predicted = title_match(candidates.get(key, ()), record_year(probe), first_author_key(probe), None)
        counts = per_source.setdefault(probe["source"], Counter())
        counts["records"] += 1
        counts["pairs"] += bool(truth)
        if predicted is not None:
            counts["predicted"] += 1
            if predicted in truth:
                counts["true_positives"] += 1
            elif len(examples) < 5:
                examples.append({"source": probe["source"], "title": probe.get("title"), "ids": probe["ids"],
                                 "matched_paper": predicted, "true_papers": sorted(truth)})
    figures: dict[str, Any] = {}
    total: Counter = Counter()
    for source, counts in sorted(per_source.items()):
        total.update(counts)
        figures[source] = _scores(counts)
    return {**_scores(total), "per_source": figures, "false_match_examples": [orjson.dumps(e).decode()
                                                                                for e in examples]}


def _scores(counts: Counter) -> dict[str, Any]:
    tp, predicted, pairs = counts["true_positives"], counts["predicted"], counts["pairs"]
    return {
        "precision": round(tp / predicted, 4) if predicted else None,
        "recall": round(tp / pairs, 4) if pairs else None,
        "pairs": pairs,
        "probes": counts["records"],
        "matched": predicted,
        "true_positives": tp,
        "false_positives": predicted - tp,
    }


def _experiment(shared: Path, reference: list[Path], probes: list[Path], show_progress: bool) -> dict[str, Any]:
    from ..ingest import ingest_paths
    from ..store import open_store

    work = Path(tempfile.mkdtemp(prefix="paperatlas-bench-merge-"))
    try:
        store = open_store(work)
        started = time.perf_counter()
        summary = ingest_paths(store, reference, show_progress=show_progress, echo_errors=False)
        build_seconds = time.perf_counter() - started
        records = _probe_records(probes)
        started = time.perf_counter()
        figures = evaluate(store.db, records)
        match_seconds = time.perf_counter() - started
        papers = int(store.db.scalar("SELECT COUNT(*) FROM papers") or 0)
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        **figures,
        "reference": ", ".join(str(p.relative_to(shared)) for p in reference[:3]) + (" ..." if len(reference) > 3
                                                                                    else ""),
        "reference_records": summary.read,
        "reference_papers": papers,
        "reference_build_seconds": round(build_seconds, 1),
        "match_seconds": round(match_seconds, 2),
    }


def measure(shared: Path, *, show_progress: bool = False, oai_pages: int | None = None) -> dict[str, Any]:
    experiments: dict[str, Any] = {}
    total: Counter = Counter()
    for name, reference_names, probe_names in EXPERIMENTS:
        reference = [shared / p for p in reference_names if (shared / p).exists()]
        oai = shared / "arxiv" / "oai-pmh-cs-2016"
        if oai_pages and oai in reference:
            reference = [r for r in reference if r != oai] + sorted(oai.iterdir())[:oai_pages]
        if not reference:
            continue
        figures = _experiment(shared, reference, [shared / p for p in probe_names if (shared / p).exists()],
                              show_progress)
        experiments[name] = figures
        for counts in figures["per_source"].values():
            total["pairs"] += counts["pairs"]
            total["predicted"] += counts["matched"]
            total["true_positives"] += counts["true_positives"]
            total["records"] += counts["probes"]
    return {
        **_scores(total),
        "rule": "identifiers hidden; folded title + year within 1 + first author's surname key",
        "experiments": experiments,
    }


@click.command("merge")
@click.option("--shared", "shared_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The real data folder [default: ../shared/data or PAPERATLAS_SHARED_DATA].")
@click.option("--oai-pages", type=int, help="Only the first N OAI-PMH pages in the reference store (quicker).")
@json_option
@click.pass_context
def bench_merge(ctx: click.Context, shared_dir: Path | None, oai_pages: int | None, as_json: bool) -> None:
    """Merge precision and recall on real cross-source pairs whose truth is known from identifiers."""
    from ..context import fail

    shared = shared_dir or shared_data_dir_or_default()
    if not (shared / "arxiv").is_dir():
        fail(f"{shared}: the real data samples are missing (use --shared or set PAPERATLAS_SHARED_DATA)")
    quiet = bool(getattr(ctx.find_object(object), "quiet", False))
    figures = measure(shared, show_progress=not quiet and not as_json, oai_pages=oai_pages)
    emit("bench merge (identifiers hidden, truth from identifiers)", figures, as_json)
