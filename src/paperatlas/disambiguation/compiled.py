"""LightGBM models compiled to native code (lleaves, on LLVM) for the large batches of a whole-corpus run.

LightGBM's own predictor walks its trees node by node through generic code; on the arXiv harvest the pair model
scores 1.7 million pairs and that walk was the largest single cost of the identities stage (3.5 s of about 17 on
two cores).  lleaves turns each tree into straight-line machine code: the same probabilities to within 1e-12,
about eight times faster.  Compiling takes a second or two per model, so the object code is cached on disk,
keyed by the model's text and the host CPU; small batches (the labelled benchmarks, an incremental run) never
pay for it and keep using LightGBM directly.

Everything here is an optimisation: without lleaves, where compiling fails, or with
``PAPERATLAS_COMPILED_TREES=0``, predictions come from LightGBM unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import current

log = logging.getLogger(__name__)

MIN_ROWS = 100_000  # below this, LightGBM is as quick as loading the compiled code
_threads: int | None = None  # threads per prediction; None = every core (parallel.py sets 1 in its workers)
_in_worker = False  # in a forked worker of parallel.py: compiled code only, never LightGBM (see enter_worker)


def threads() -> int:
    return _threads or os.cpu_count() or 1


def set_threads(n: int | None) -> None:
    """Threads each prediction may use (LightGBM's or the compiled code's); None: every core."""
    global _threads
    _threads = n


@contextmanager
def single_threaded() -> Iterator[None]:
    """Predictions on one thread for a while: the parallel clustering's workers hold the other cores."""
    saved = _threads
    set_threads(1)
    try:
        yield
    finally:
        set_threads(saved)


def enter_worker() -> None:
    """In a forked worker: predict on one thread, through compiled code only, whatever the batch size.

    LightGBM runs on OpenMP, whose thread pool does not survive fork: a forked child that enters an OpenMP
    region the parent had started can wait forever for threads it does not have.  So the parent compiles the
    models before forking (``PairModel.warm``), and a worker that would need LightGBM fails instead, and the
    parent redoes its work."""
    global _in_worker
    _in_worker = True
    set_threads(1)


def enabled() -> bool:
    return current().compiled_trees


def cache_dir() -> Path:
    """Where compiled models live: ``$PAPERATLAS_CACHE_DIR/compiled-trees``, else the user cache directory."""
    base = current().cache_dir
    if base:
        return base / "compiled-trees"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("paperatlas")) / "compiled-trees"


class CompiledTrees:
    """One booster's compiled twin, built on first use.  ``predict`` returns None where no compiled code can be
    had, and the caller falls back to LightGBM."""

    def __init__(self, booster: Any) -> None:
        self._booster = booster
        self._model: Any = None
        self._failed = False

    def _compile(self) -> Any:
        from importlib.metadata import version

        import lleaves
        from llvmlite import binding

        text = self._booster.model_to_string()
        # object code is specific to the compiler and the CPU it was built for
        stamp = f"{version('lleaves')}|{version('llvmlite')}|{binding.get_host_cpu_name()}|"
        digest = hashlib.sha256((stamp + text).encode("utf-8")).hexdigest()[:20]
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{digest}.o"
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            model_file = Path(scratch) / "model.txt"
            model_file.write_text(text, encoding="utf-8")
            model = lleaves.Model(model_file=str(model_file))
            if target.is_file():
                model.compile(cache=str(target))
            else:
                # compile into scratch, then rename: a concurrent run never reads a half-written object file
                partial = Path(scratch) / "model.o"
                model.compile(cache=str(partial))
                os.replace(partial, target)
        return model

    def ready(self) -> bool:
        """Compile now (start-up work), so that the first large batch is not the one that pays for it."""
        if self._model is None and not self._failed and enabled():
            try:
                self._model = self._compile()
            except Exception as exc:  # any failure just means LightGBM does the work
                log.info("compiled trees unavailable (%s); using LightGBM", exc)
                self._failed = True
        return self._model is not None

    def predict(self, features: np.ndarray) -> np.ndarray | None:
        if _in_worker:
            if self._model is None:
                raise RuntimeError("a worker may only predict through models compiled before the fork")
        elif len(features) < MIN_ROWS or not self.ready():
            return None
        data = np.ascontiguousarray(features, dtype=np.float64)
        return self._model.predict(data, n_jobs=threads())
