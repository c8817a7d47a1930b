"""``paperatlas bench disambiguation``: quality per labelled collection (on names the model never trained on),
beside two baselines measured in the same run, and end-to-end speed in mentions per second."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

import click

from ..shared_data import shared_data_dir_or_default
from .report import emit, json_option, machine, peak_rss_mb


def _shared_disambiguation() -> Path:
    return shared_data_dir_or_default("disambiguation") / "disambiguation"


def score_collection(data, model, parts=None) -> dict[str, Any]:
    """Cluster a labelled collection with ``model``; score it and the two baselines.  ``parts`` (a list of
    (name-subset, model) pairs covering the collection) scores each subset with its own model instead."""
    import numpy as np

    from ..disambiguation.clustering import cluster_mentions, swap_aware_blocks
    from ..disambiguation.evaluation import scores
    from ..disambiguation.mentions import name_parts

    parts = parts if parts is not None else [(data, model)]
    labels: list[object] = []
    gold: list[str] = []
    mentions = []
    seconds = 0.0
    for k, (subset, sub_model) in enumerate(parts):
        if not subset.mentions:
            continue
        started = time.perf_counter()
        result = cluster_mentions(subset.mentions, sub_model)
        seconds += time.perf_counter() - started
        labels.extend((k, int(label)) for label in result.labels)
        gold.extend(subset.gold)
        mentions.extend(subset.mentions)
    figures = scores(labels, gold)
    figures["mentions"] = len(mentions)
    figures["names"] = len(data.group_names)
    figures["mentions_per_s"] = round(len(mentions) / seconds, 1) if seconds else 0.0
    blocks = swap_aware_blocks(name_parts(mentions))
    one_per_block = scores(blocks, gold)
    alone = scores(np.arange(len(mentions)), gold)
    figures["baseline_one_cluster_per_block"] = {k: one_per_block[k] for k in ("b3_f1", "pairwise_f1")}
    figures["baseline_every_mention_alone"] = {k: alone[k] for k in ("b3_f1", "pairwise_f1")}
    return figures


TARGETS = {"aminer-110": 0.90, "dblp-jun-zhang-homonyms": 0.95}


def held_out_parts(data, model) -> list:
    """A training collection cut by the fold its names were held out in, each fold with the model that never
    saw it; names the shipped model never trained on go with the shipped model."""
    from ..disambiguation.pairmodel import load_fold_model

    fold_of = model.meta.get("fold_of_name", {}).get(data.name, {})
    by_fold: dict[int, set[str]] = {}
    for g in data.group_names:
        by_fold.setdefault(fold_of.get(g, -1), set()).add(g)
    return [(data.subset(groups), model if k < 0 else load_fold_model(k)) for k, groups in sorted(by_fold.items())]


def run_benchmark(root: Path | None, folder: Path | None) -> dict[str, Any]:
    from ..disambiguation.datasets import read_all, read_folder
    from ..disambiguation.pairmodel import shipped_model

    model = shipped_model()
    report: dict[str, Any] = {"model": model.version, "threshold": model.threshold, "linkage": model.linkage}
    if folder is not None:
        data = read_folder(folder)
        _report_problems(data)
        if not data.mentions:
            raise ValueError(f"no labelled records in {folder} (malformed records skipped: {len(data.problems)})")
        report[data.name] = {**score_collection(data, model), "skipped_records": len(data.problems)}
        return report
    found = read_all(root or _shared_disambiguation())
    if not found:
        raise FileNotFoundError(f"no labelled collections under {root}")
    for data in found.values():
        _report_problems(data)
    trained_on = model.meta.get("trained_on", [])
    for name, data in found.items():
        if name in trained_on:
            figures = score_collection(data, model, held_out_parts(data, model))
            figures["held_out"] = "every name scored by the fold model that never saw it"
        else:
            figures = score_collection(data, model)
            figures["held_out"] = "never trained on"
        figures["skipped_records"] = len(data.problems)
        if name in TARGETS:
            figures["target_b3_f1"] = TARGETS[name]
            figures["b3_f1_vs_target"] = round(figures["b3_f1"] / TARGETS[name], 3)
        report[name] = figures
    return report


SHOWN_PROBLEMS = 20


def _report_problems(data) -> None:
    """Malformed records are skipped, never silently: each one's file and line on stderr (the first few)."""
    for problem in data.problems[:SHOWN_PROBLEMS]:
        click.echo(f"warning: {problem}", err=True)
    if len(data.problems) > SHOWN_PROBLEMS:
        click.echo(f"warning: {len(data.problems) - SHOWN_PROBLEMS} more malformed records in {data.name} skipped",
                   err=True)


@click.command("disambiguation")
@click.option("--data", "data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Score a folder laid out like aminer-110 (one XML file per name) with the shipped model.")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The shared disambiguation folder [default: ../shared/data/disambiguation].")
@click.option("--speed/--no-speed", default=True, help="Also time the stage's clustering on the arXiv harvest.")
@json_option
def bench_disambiguation(data: Path | None, root: Path | None, speed: bool, as_json: bool) -> None:
    """B3 / pairwise F1 per labelled collection on held-out names, beside the one-cluster-per-block and
    every-mention-alone baselines, and mentions/s."""
    from ..context import fail

    try:
        report = run_benchmark(root, data)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
        return
    if speed and data is None:
        report["arxiv_harvest"] = speed_on_harvest((root or _shared_disambiguation()).parent / "arxiv")
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    report["machine"] = machine()
    emit("Author disambiguation", report, as_json)


def speed_on_harvest(arxiv_root: Path, limit_pages: int | None = None) -> dict[str, Any]:
    """Cluster every author mention of the 2016 arXiv cs OAI harvest: mentions/s end to end (mentions in
    memory -> identities), against the 20,000/s floor."""
    import numpy as np

    from ..disambiguation.clustering import cluster_mentions
    from ..disambiguation.harvest_mentions import read_oai_mentions
    from ..disambiguation.pairmodel import shipped_model
    from ..disambiguation.parallel import workers_for

    folder = arxiv_root / "oai-pmh-cs-2016"
    if not folder.is_dir():
        return {"skipped": f"no harvest at {folder}"}
    pages = sorted(folder.glob("page*.xml.gz"))[:limit_pages]
    t0 = time.perf_counter()
    mentions, papers = read_oai_mentions(pages)
    # Loading the models and compiling them to native code (cached on disk after the first run) is start-up,
    # paid once per process or machine, not per mention.
    compiled = shipped_model().warm()
    t1 = time.perf_counter()
    cpu = _cpu_seconds()
    result = cluster_mentions(mentions)
    cpu = _cpu_seconds() - cpu  # this process and its workers
    t2 = time.perf_counter()
    rate = len(mentions) / (t2 - t1)
    sizes = np.bincount(result.labels)
    return {"papers": papers, "mentions": len(mentions), "identities": int((sizes > 0).sum()),
            "largest_identity": int(sizes.max()), "pairs_scored": result.pairs_scored,
            "read_seconds": round(t1 - t0, 2), "cluster_seconds": round(t2 - t1, 2),
            "cluster_cpu_seconds": round(cpu, 2), "workers": workers_for(len(mentions)),
            "load_average": round(os.getloadavg()[0], 1),
            "mentions_per_s": round(rate, 1), "floor_mentions_per_s": 20000, "rate_vs_floor": round(rate / 20000, 2),
            "mentions_per_cpu_s": round(len(mentions) / cpu, 1) if cpu else 0.0,
            "compiled_trees": compiled,
            # the forked workers share most pages with this process; this is the largest one's own peak
            "peak_rss_worker_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its finished child processes (the clustering's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

