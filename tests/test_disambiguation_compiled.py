"""The compiled twin of the shipped LightGBM models: same probabilities, cached on disk, optional."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from paperatlas.disambiguation import compiled
from paperatlas.disambiguation.clustering import blocks_of, candidate_pairs, swap_aware_blocks
from paperatlas.disambiguation.datasets import read_aminer
from paperatlas.disambiguation.features import Evidence, pair_features
from paperatlas.disambiguation.mentions import name_parts
from paperatlas.disambiguation.pairmodel import load_model


@pytest.fixture()
def features(shared) -> np.ndarray:
    """Real pair features: every within-block pair of a few AMiner names."""
    data = read_aminer(shared / "disambiguation" / "aminer-110")
    keep = set(data.group_names[:6])
    data = data.subset(keep)
    parts = name_parts(data.mentions)
    left, right, _ = candidate_pairs(blocks_of(parts, swap_aware_blocks(parts)))
    return pair_features(Evidence.build(data.mentions, parts), left, right)


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PAPERATLAS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiled, "MIN_ROWS", 0)  # the fixtures are small: compile for every batch
    return tmp_path / "compiled-trees"


def test_compiled_model_gives_lightgbm_probabilities_and_is_cached(features, cache):
    model = load_model()
    expected = model.booster.predict(features, num_threads=1)
    assert len(features) > 1000
    got = model.predict(features)
    assert np.abs(got - expected).max() < 1e-6
    objects = list(cache.glob("*.o"))
    assert len(objects) == 1  # the pair model's object code, written once
    stamp = objects[0].stat().st_mtime_ns
    again = load_model()  # a new process would load the cached object instead of compiling
    assert np.array_equal(again.predict(features), got)
    assert objects[0].stat().st_mtime_ns == stamp
    assert model.warm() and len(list(cache.glob("*.o"))) == 2  # the seed model too


def test_compiled_trees_can_be_turned_off(features, cache, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_COMPILED_TREES", "0")
    model = load_model()
    assert compiled.CompiledTrees(model.booster).predict(features) is None
    assert np.array_equal(model.predict(features), model.booster.predict(features, num_threads=2).astype(np.float32))
    assert not cache.exists() or not list(cache.glob("*.o"))


def test_a_failed_compile_falls_back_to_lightgbm(features, cache, monkeypatch):
    def broken(self):
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(compiled.CompiledTrees, "_compile", broken)
    model = load_model()
    assert not model.warm()
    assert np.allclose(model.predict(features), model.booster.predict(features, num_threads=1), atol=1e-6)


def test_a_model_with_compiled_code_still_pickles(features, cache):
    model = load_model()
    model.predict(features)
    copy = pickle.loads(pickle.dumps(model))  # what a Spark task receives
    assert np.allclose(copy.predict(features), model.predict(features), atol=1e-6)


def test_warm_needs_every_model_compiled(cache, monkeypatch):
    """The parallel clustering forks only when both models run as compiled code: one failure is enough to say no."""
    model = load_model()
    real = compiled.CompiledTrees._compile

    def seed_fails(self):
        if self._booster is model.seed_booster:
            raise RuntimeError("no LLVM for this one")
        return real(self)

    monkeypatch.setattr(compiled.CompiledTrees, "_compile", seed_fails)
    assert not model.warm()
    assert model._compiled["pair"].ready() and not model._compiled["seed"].ready()
