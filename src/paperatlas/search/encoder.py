"""Embedding a query with the same model that embedded the papers, without torch.

The search stage exports that model to ONNX into ``<data_dir>/index/query-encoder`` (see
:mod:`paperatlas.embeddings.onnx`, which says why); here it is loaded with ONNX Runtime, once per folder and model,
and each query's vector is remembered.  No export, or one of another model than the vectors', is
:class:`QueryEncoderNotBuilt`, an :class:`~paperatlas.search.index.IndexNotBuilt` (the CLI and the site say what to
run, as for a missing index): ``paperatlas build --only search``.

Queries that arrive while the encoder is busy are embedded together, in its next call (:class:`Batches`): one
query of a few word pieces reads every weight of the model for a handful of rows, and four in one call cost about
what two cost one by one (measured on the demo machine: 4.5 ms for one, 7.7 ms for four).  A query that finds
the encoder idle is embedded at once, alone, so a quiet server waits for nothing.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np

from ..embeddings.onnx import OnnxEncoder, QueryEncoderMissing, encoder_dir
from .index import IndexNotBuilt

BATCH_LIMIT = 16  # queries in one call at most


class _Ask:
    __slots__ = ("done", "error", "lead", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.done = threading.Event()  # set when the vector (or error) is there, or when this ask is to lead
        self.lead = False
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None


class Batches:
    """One encoder, called by one thread at a time with every query waiting for it.

    The caller that finds it idle *leads*: it embeds its own query with whatever else is waiting (up to
    ``BATCH_LIMIT``), hands each waiter its row, and passes the lead to the first query that arrived meanwhile, so
    no caller ever embeds more than one batch.  Rows are the encoder's (L2-normalised; a query's vector may differ
    in the last float bits with the queries it was padded beside, as it does in any batched encoder)."""

    def __init__(self, encoder: OnnxEncoder, limit: int = BATCH_LIMIT) -> None:
        self.encoder = encoder
        self.limit = limit
        self._lock = threading.Lock()
        self._waiting: list[_Ask] = []
        self._busy = False

    def encode(self, text: str) -> np.ndarray:
        """``text``'s vector, a 1 x dim row."""
        ask = _Ask(text)
        with self._lock:
            self._waiting.append(ask)
            if not self._busy:
                self._busy = ask.lead = True
        if not ask.lead:
            ask.done.wait()
        if ask.lead:
            self._run_batch()
        if ask.error is not None:
            raise ask.error
        assert ask.vector is not None
        return ask.vector

    def waiting(self) -> int:
        """Queries waiting for the encoder now (the one being embedded not counted)."""
        with self._lock:
            return len(self._waiting)

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
        try:
            vectors = self.encoder.encode([a.text for a in batch], batch_size=self.limit)
        except BaseException as error:  # every caller of this batch raises it, not only the leader
            for a in batch:
                a.error = error
        else:
            for i, a in enumerate(batch):
                a.vector = np.array(vectors[i : i + 1])
        with self._lock:
            following = self._waiting[0] if self._waiting else None
            if following is None:
                self._busy = False
            else:
                following.lead = True
        for a in batch:
            a.lead = False
            a.done.set()
        if following is not None:
            following.done.set()


class QueryEncoderNotBuilt(IndexNotBuilt):
    """The store's vectors have no exported query encoder (or one of another model): its message says what to run."""

    def __init__(self, missing: QueryEncoderMissing) -> None:
        super().__init__(missing.folder.parent.parent, str(missing))


@functools.lru_cache(maxsize=4)
def get_encoder(data_dir: Path, model: str) -> Batches:
    """The query encoder of the store in ``data_dir`` for vectors of ``model`` (a stored model name)."""
    try:
        return Batches(OnnxEncoder(encoder_dir(data_dir), model))
    except QueryEncoderMissing as missing:
        raise QueryEncoderNotBuilt(missing) from missing


@functools.lru_cache(maxsize=2048)
def encode_query(text: str, model: str, data_dir: Path) -> np.ndarray:
    """One query's vector (a 1 x dim row), remembered: paging through results, popular queries."""
    vector = get_encoder(data_dir, model).encode(text)
    vector.setflags(write=False)  # shared by every caller through the cache
    return vector


__all__ = ["Batches", "QueryEncoderNotBuilt", "encode_query", "get_encoder"]
