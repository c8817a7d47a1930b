"""A large corpus clustered on every core, with the result one process would give.

Blocking and the corpus-wide evidence (TF-IDF weights over all mentions, name counts) need the whole corpus, but
after them the name blocks are independent: the pair scores, seeds, seed features and linkage of one block never
look at another.  So the blocks are dealt into one share per core, balanced by pair count; forked workers
cluster their shares while this process clusters the first.  Each share is scored with its rows of the corpus's
evidence (``Evidence.take``), so every block gets the scores it would get in one process: the same partition,
numbered differently.

The serial part shrinks too: what the papers say and who the coauthors are (``features.prepare``) need no name
folding, so a worker builds them while this process folds names and blocks.

Fork hands the workers the mentions and the evidence without copying or pickling them, which is what makes a
share cheap to start; off Linux (where fork is unsafe or missing), on one core, for a small corpus, or with
``PAPERATLAS_WORKERS=1``, clustering stays in this process.  Work whose worker dies is redone here.  Workers
predict on one thread each, through the models compiled before the fork, never through LightGBM, whose OpenMP
pool does not survive fork (``compiled.enter_worker``); without compiled models, clustering stays in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..settings import current
from . import compiled
from .blocking import blocks_of, codes, mention_codes, swap_aware_blocks
from .features import Evidence, prepare
from .linkage import enforce_pins
from .mentions import Mention, name_parts
from .pairmodel import PairModel

PARALLEL_MIN = 50_000  # mentions: below this, starting workers costs more than it saves


def workers_for(n_mentions: int) -> int:
    """How many processes should cluster a corpus of this size (1 = this one alone)."""
    if n_mentions < PARALLEL_MIN or not sys.platform.startswith("linux"):
        return 1  # fork is safe with numpy's BLAS on Linux; macOS's system libraries are not fork-safe
    if multiprocessing.current_process().daemon:  # a daemonic process may not start workers of its own
        return 1
    asked = current().workers
    cores = os.cpu_count() or 1
    return max(1, min(asked, cores) if asked else cores)


def deal(blocks: Sequence[np.ndarray], shares: int) -> list[list[np.ndarray]]:
    """Blocks into ``shares`` groups of about equal work (pairs), largest block first to the lightest group."""
    out: list[list[np.ndarray]] = [[] for _ in range(shares)]
    load = np.zeros(shares)
    for b in sorted(blocks, key=len, reverse=True):
        k = int(np.argmin(load))
        out[k].append(b)
        load[k] += len(b) * (len(b) - 1) / 2
    return [share for share in out if share]


def _cluster_share(mentions: list[Mention], evidence: Evidence, known: dict[str, np.ndarray],
                   share: list[np.ndarray], model: PairModel, pins: np.ndarray | None, threshold: float,
                   method: str) -> tuple[np.ndarray, int]:
    """(local labels, pairs scored) of one share of the blocks.  ``known``: the corpus's mention codes, read
    once before the fork (a worker that walks the mentions again pays for copying the pages it touches)."""
    from .clustering import cut, score

    rows = np.concatenate(share)
    keys = np.repeat(np.arange(len(share)), [len(b) for b in share]).astype(str).tolist()
    scored = score([mentions[i] for i in rows.tolist()], model, keys=keys, evidence=evidence.take(rows),
                   known={k: v[rows] for k, v in known.items()},
                   pins=pins[rows].tolist() if pins is not None else None)
    scored.pins = None  # a pin may span shares: pins are made exact over the whole corpus at the end
    return cut(scored, threshold, method), scored.pairs_scored


def _child(work: Callable[[], Any], send) -> None:
    """In a forked worker: ``work()``, its result pickled back through the pipe."""
    compiled.enter_worker()
    try:
        send.send_bytes(pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # the parent redoes the work; say why on stderr
        traceback.print_exc(file=sys.stderr)
    finally:
        send.close()


class _Forked:
    """``work()`` running in a forked worker from the moment this is made; :meth:`result` waits for it, and
    runs it here instead if the worker died or failed."""

    def __init__(self, work: Callable[[], Any]):
        self._work = work
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(work, send), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        try:
            return pickle.loads(self._receive.recv_bytes())
        except (EOFError, OSError):
            return self._work()
        finally:
            self._receive.close()
            self._process.join()


def cluster_in_parallel(mentions: list[Mention], model: PairModel, workers: int, *,
                        pins: Sequence[object | None] | None = None, threshold: float | None = None,
                        keys: list[str] | None = None):
    """``clustering.cluster_mentions`` with the work dealt over ``workers`` processes."""
    from .clustering import Clustering

    if not model.warm():  # no compiled models: workers could not predict safely, so every share stays here
        workers = 1
    # what the papers say and who the coauthors are need no name folding: a worker builds them while this
    # process folds names and blocks
    prepared = _Forked(lambda: prepare(mentions))
    parts = name_parts(mentions)
    keys = keys if keys is not None else swap_aware_blocks(parts)
    blocks = blocks_of(parts, keys)
    known = mention_codes(mentions, parts)
    evidence = Evidence.build(mentions, parts, prepared=prepared.result)  # waits once the name fields are built
    pin_codes = codes(list(pins)) if pins is not None else None
    cut_at = model.threshold if threshold is None else threshold
    labels = np.full(len(mentions), -1, dtype=np.int64)
    singles = [b[0] for b in blocks if len(b) == 1]
    labels[singles] = np.arange(len(singles))
    next_label = len(singles)
    shares = deal([b for b in blocks if len(b) > 1], workers)

    def work(k: int) -> Callable[[], tuple[np.ndarray, int]]:
        return lambda: _cluster_share(mentions, evidence, known, shares[k], model, pin_codes, cut_at, model.linkage)

    others = [_Forked(work(k)) for k in range(1, len(shares))]
    results: list[tuple[np.ndarray, int]] = []
    if shares:
        with compiled.single_threaded():
            results.append(work(0)())
    results.extend(forked.result() for forked in others)
    pairs_scored = 0
    for share, (local, pairs) in zip(shares, results, strict=True):
        labels[np.concatenate(share)] = local + next_label
        next_label += int(local.max()) + 1
        pairs_scored += pairs
    if pin_codes is not None:
        labels = enforce_pins(labels, pin_codes)
    return Clustering(labels=labels, blocks=keys, pairs_scored=pairs_scored)
