"""Pausing Python's cyclic garbage collector for the length of a stage that allocates millions of small objects.

An ingest allocates millions of short-lived tuples, dicts and strings, none of them in reference cycles, while the
normalization caches (``functools.lru_cache`` entries are GC-tracked lists) hold hundreds of thousands of live
containers.  Every full collection walks all of those, and they are triggered by allocation counts alone: measured
on 30 OAI-PMH pages, the collector took a third of the writer's CPU and two thirds of the folding's.  Reference
counting still frees every acyclic object at once; only cycles wait, and :func:`collect_young` sweeps the ones a
batch made (a failed parse's traceback, for instance) so memory stays bounded whatever the input size.
Disambiguation's clustering pauses it for the same reason (there it cost up to a fifth of the run).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Automatic cyclic collection off inside, restored (and run once) on the way out."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(1)


def collect_young() -> None:
    """Collect cycles among objects made since the last call (generations 0 and 1): cheap, because what a
    finished batch allocated is already freed by reference counting."""
    gc.collect(1)
