"""A content-addressed cache of vectors: text hash -> vector, for one model, in one ``.npz`` file.

Embedding is the slowest stage on a CPU (~30 abstracts/s).  A cache made once (``export_cache``) lets another
store skip the model for every text it already covers: the demo ships one for its corpus, so the first demo build
takes seconds instead of minutes.  Lookups are by the same ``content_hash`` of the same ``paper_text`` that the
``embeddings`` table keeps, so a cached vector is exactly the vector the model gave for that text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import current

if TYPE_CHECKING:
    import numpy as np

    from ..store import Database

CACHE_ENV = "PAPERATLAS_VECTOR_CACHE"


@dataclass
class VectorCache:
    model: str
    index: dict[str, int]
    matrix: np.ndarray

    def get(self, digest: str) -> np.ndarray | None:
        row = self.index.get(digest)
        return None if row is None else self.matrix[row]

    def __len__(self) -> int:
        return len(self.index)


def load_cache(path: Path) -> VectorCache:
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        hashes = [str(h) for h in data["hashes"]]
        return VectorCache(model=str(data["model"]), index={h: i for i, h in enumerate(hashes)},
                           matrix=np.asarray(data["vectors"], dtype=np.float32))


def cache_paths(data_dir: Path | None = None) -> list[Path]:
    """Caches named by ``PAPERATLAS_VECTOR_CACHE`` (paths separated by ``os.pathsep``) and those in the data
    folder's ``vector-cache/``."""
    found = [Path(p) for p in (current().vector_cache or "").split(os.pathsep) if p]
    if data_dir is not None and (data_dir / "vector-cache").is_dir():
        found.extend(sorted((data_dir / "vector-cache").glob("*.npz")))
    return [p for p in found if p.is_file()]


def caches_for(model: str, data_dir: Path | None = None) -> list[VectorCache]:
    return [cache for cache in (load_cache(p) for p in cache_paths(data_dir)) if cache.model == model]


def export_cache(db: Database, model: str, path: Path) -> int:
    """Write every stored vector of ``model`` to ``path``; return how many."""
    import numpy as np

    hashes: list[str] = []
    vectors: list[np.ndarray] = []
    dims = set()
    for digest, dim, blob in db.iterate(
        "SELECT content_hash, dim, vector FROM embeddings WHERE model = ? ORDER BY content_hash", (model,)
    ):
        hashes.append(digest)
        dims.add(dim)
        vectors.append(np.frombuffer(bytes(blob), dtype="<f4", count=dim))
    if len(dims) > 1:
        raise ValueError(f"vectors of several sizes stored for {model}: {sorted(dims)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    matrix = np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
    np.savez_compressed(path, model=np.array(model), hashes=np.array(hashes), vectors=matrix.astype("<f4"))
    return len(hashes)
