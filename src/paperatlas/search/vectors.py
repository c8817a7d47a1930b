"""The approximate-nearest-neighbour index over paper embeddings (faiss), in ``<data_dir>/index/vectors``.

Why faiss, and which index: measured at 200k x 384 (TECH-NOTES, and again by ``paperatlas bench search``),
an IVF-Flat index builds ~6x faster than HNSW at the same recall and, unlike HNSW, supports removing vectors, so
the incremental stage can replace a re-embedded paper or drop a deleted one in place.  Below
``EXACT_BELOW`` vectors a flat (exact) inner-product index is both fast enough and perfect.  Rows are
L2-normalised, so inner product is cosine similarity.

Beside the faiss file we keep ``state.npz``: the paper ids in the index and a 64-bit digest of each vector's
``content_hash``, which is how the stage knows what changed without reading 1.5 GB of vectors back.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..store import Store

EXACT_BELOW = 50_000
NPROBE = 24

_lock = threading.Lock()
_cache: dict[Path, tuple[float, VectorIndex]] = {}


@dataclass
class VectorIndex:
    index: Any  # a faiss index whose ids are paper ids
    model: str
    dim: int
    kind: str

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        import faiss

        if self.size == 0:
            return [[] for _ in range(len(vectors))]
        if self.kind == "ivf":
            faiss.extract_index_ivf(self.index).nprobe = NPROBE
        _omp_threads(1 if len(vectors) == 1 else None)
        scores, ids = self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), min(k, self.size))
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i >= 0]
                for row_ids, row_scores in zip(ids, scores, strict=True)]


_omp = threading.local()  # per thread: the OpenMP thread count it was left with (None: faiss's default)


def _omp_threads(wanted: int | None) -> None:
    """Give this thread's faiss searches ``wanted`` OpenMP threads (None: the default), calling OpenMP only when
    that changes.  One query is answered on one thread: OpenMP's barriers cost far more than they save for one
    vector, and on a busy machine they spin (measured ~80 ms instead of ~1 ms at 20k vectors under load).  The
    setting is the calling thread's own (libgomp keeps it per thread), so a server's render threads set it once
    instead of three calls around every search, each of which let go of the GIL and waited to get it back."""
    import faiss

    current = getattr(_omp, "threads", None)
    if wanted == current:
        return
    if current is None:
        _omp.default = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(wanted if wanted is not None else _omp.default)
    _omp.threads = wanted


def vector_dir(store: Store) -> Path:
    return store.data_dir / "index" / "vectors"


def digest(content_hash: str) -> int:
    return int.from_bytes(hashlib.blake2b(content_hash.encode(), digest_size=8).digest(), "little", signed=True)


def new_index(dim: int, n: int, sample: np.ndarray | None = None) -> tuple[Any, str]:
    """An empty index for about ``n`` vectors (IVF ones are trained on ``sample``)."""
    import faiss

    if n < EXACT_BELOW or sample is None:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), "flat"
    nlist = int(min(8192, max(256, 2 * np.sqrt(n))))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 12  # k-means converges enough for routing; 25 (the default) doubles a 1M build
    train = sample[np.random.default_rng(0).permutation(len(sample))[: nlist * 30]]
    index.train(np.ascontiguousarray(train, dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # lets reconstruct() and remove_ids() work on IVF
    return index, "ivf"


def build(ids: np.ndarray, matrix: np.ndarray, model: str) -> VectorIndex:
    index, kind = new_index(matrix.shape[1], len(ids), matrix)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(matrix, dtype=np.float32), ids.astype(np.int64))
    return VectorIndex(index, model, int(matrix.shape[1]), kind)


def save(store: Store, vindex: VectorIndex, ids: np.ndarray, digests: np.ndarray) -> None:
    """Write next to the old files, then rename: a reader never sees half an index."""
    import faiss

    folder = vector_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    faiss.write_index(vindex.index, str(folder / "faiss.index.tmp"))
    np.savez(folder / "state.tmp.npz", ids=ids.astype(np.int64), digests=digests.astype(np.int64))
    (folder / "meta.json.tmp").write_text(json.dumps({"model": vindex.model, "dim": vindex.dim, "kind": vindex.kind,
                                                      "count": vindex.size}))
    (folder / "faiss.index.tmp").replace(folder / "faiss.index")
    (folder / "state.tmp.npz").replace(folder / "state.npz")
    (folder / "meta.json.tmp").replace(folder / "meta.json")
    with _lock:
        _cache.pop(folder, None)


def load_state(store: Store) -> tuple[np.ndarray, np.ndarray] | None:
    path = vector_dir(store) / "state.npz"
    if not path.exists():
        return None
    with np.load(path) as data:
        return data["ids"], data["digests"]


def open_vectors(store: Store) -> VectorIndex | None:
    """The vector index (cached; re-read when the stage replaced it), or None when there are no embeddings."""
    import faiss

    folder = vector_dir(store)
    meta_path = folder / "meta.json"
    try:
        mtime = meta_path.stat().st_mtime
    except FileNotFoundError:
        return None
    with _lock:
        cached = _cache.get(folder)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        meta = json.loads(meta_path.read_text())
        vindex = VectorIndex(faiss.read_index(str(folder / "faiss.index")), meta["model"], meta["dim"], meta["kind"])
        _cache[folder] = (mtime, vindex)
        return vindex
