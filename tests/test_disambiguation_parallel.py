"""Whole-corpus clustering on every core gives the partition one process gives, pins included, and survives a
worker that dies."""

from __future__ import annotations

import os

import numpy as np
import pytest

from paperatlas.disambiguation import parallel
from paperatlas.disambiguation.clustering import cluster_mentions
from paperatlas.disambiguation.harvest_mentions import read_oai_mentions


@pytest.fixture(scope="module")
def mentions(shared):
    found, _ = read_oai_mentions(sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:4])
    assert len(found) > 10_000
    return found


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def _both_ways(mentions, monkeypatch, **kwargs):
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1000)
    monkeypatch.setenv("PAPERATLAS_WORKERS", "1")
    alone = cluster_mentions(mentions, **kwargs)
    monkeypatch.setenv("PAPERATLAS_WORKERS", "3")
    assert parallel.workers_for(len(mentions)) == min(3, os.cpu_count() or 1)
    shared = parallel.cluster_in_parallel(mentions, _model(), 3, **kwargs)
    return alone, shared


def _model():
    from paperatlas.disambiguation.pairmodel import shipped_model

    return shipped_model()


@pytest.mark.slow
def test_parallel_gives_the_single_process_partition(mentions, monkeypatch):
    alone, shared = _both_ways(mentions, monkeypatch)
    assert len(mentions) > 10_000
    assert _partition(shared.labels) == _partition(alone.labels)
    assert shared.pairs_scored == alone.pairs_scored > 0
    assert shared.blocks == alone.blocks


def test_parallel_obeys_pins_across_shares(mentions, monkeypatch):
    # two mentions of different blocks pinned to one identity, two of one block pinned apart
    first, second = 0, next(i for i, m in enumerate(mentions) if m.parts.block != mentions[0].parts.block)
    pins: list[object | None] = [None] * len(mentions)
    pins[first] = pins[second] = "identity-a"
    alone, shared = _both_ways(mentions, monkeypatch, pins=pins)
    assert shared.labels[first] == shared.labels[second]
    assert _partition(shared.labels) == _partition(alone.labels)


@pytest.mark.slow
def test_a_dead_worker_is_redone_here(mentions, monkeypatch):
    monkeypatch.setattr(parallel, "_child", lambda work, send: os._exit(3))  # dies before sending anything
    alone, shared = _both_ways(mentions, monkeypatch)
    assert _partition(shared.labels) == _partition(alone.labels)


def test_small_corpora_and_one_worker_stay_in_process(monkeypatch):
    assert parallel.workers_for(parallel.PARALLEL_MIN - 1) == 1
    monkeypatch.setenv("PAPERATLAS_WORKERS", "1")
    assert parallel.workers_for(10 * parallel.PARALLEL_MIN) == 1


def test_deal_balances_pairs():
    blocks = [np.arange(n) for n in (50, 40, 30, 30, 20, 10, 5, 5)]
    shares = parallel.deal(blocks, 2)
    loads = [sum(len(b) * (len(b) - 1) / 2 for b in share) for share in shares]
    assert sorted(len(b) for share in shares for b in share) == sorted(len(b) for b in blocks)
    assert max(loads) / min(loads) < 1.3


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_workers_never_enter_lightgbm_after_fork(mentions, tmp_path, monkeypatch):
    """A model LightGBM has already predicted with in this process (its OpenMP pool started), not compiled yet:
    the workers must neither hang in OpenMP nor fall back to LightGBM (the build once hung here)."""
    from paperatlas.disambiguation import compiled
    from paperatlas.disambiguation.pairmodel import load_model

    monkeypatch.setenv("PAPERATLAS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiled, "MIN_ROWS", 0)  # as on a whole corpus: every batch big enough to compile for
    model = load_model()  # nothing compiled
    model.booster.predict(np.zeros((10, model.booster.num_feature())), num_threads=2)  # OpenMP pool up
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1000)
    monkeypatch.setenv("PAPERATLAS_WORKERS", "2")
    result = cluster_mentions(mentions, model)
    assert len(list((tmp_path / "compiled-trees").glob("*.o"))) == 2  # compiled in this process, before forking
    monkeypatch.setenv("PAPERATLAS_WORKERS", "1")
    assert _partition(result.labels) == _partition(cluster_mentions(mentions, model).labels)


def test_a_worker_without_compiled_models_refuses_to_predict(monkeypatch):
    from paperatlas.disambiguation import compiled
    from paperatlas.disambiguation.pairmodel import load_model

    model = load_model()
    monkeypatch.setattr(compiled, "_in_worker", True)
    with pytest.raises(RuntimeError, match="compiled before the fork"):
        model.predict(np.zeros((5, model.booster.num_feature()), dtype=np.float32))
