"""Compute the demo corpus' embeddings once and ship them as demo/vectors/minilm.npz.

Run from the repository root after the embedding model is installed:
``python scripts/make_demo_vectors.py``.  It builds a throwaway demo store with the real model (minutes on a
CPU), then exports every vector keyed by the hash of its text (see ``paperatlas/embeddings/cache.py``).
``paperatlas demo`` then fills its store from this file and runs the model only for texts it does not cover.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from paperatlas.embeddings import model_name
from paperatlas.embeddings.cache import CACHE_ENV, export_cache
from paperatlas.store import open_store


def main() -> None:
    repo = Path(__file__).resolve().parents[1]
    target = repo / "demo" / "vectors" / "minilm.npz"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != CACHE_ENV}
        if target.exists():  # reuse what is there: only new texts go through the model
            env[CACHE_ENV] = str(target)
        subprocess.run([sys.executable, "-m", "paperatlas", "--data-dir", tmp, "demo", "--no-serve"],
                       check=True, env=env)
        store = open_store(Path(tmp))
        count = export_cache(store.db, model_name(), target)
        store.close()
    print(f"{count} vectors written to {target}")


if __name__ == "__main__":
    main()
