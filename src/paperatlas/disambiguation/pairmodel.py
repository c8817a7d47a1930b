"""The shipped pair classifier: a LightGBM text model plus its metadata (threshold, features, held-out names).

Kept as text files under ``paperatlas/models/disambiguation`` so a diff shows what changed and the package stays
small; ``paperatlas train disambiguation`` rebuilds both from ../shared/data with a fixed seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import current
from .compiled import CompiledTrees, threads
from .features import FEATURES
from .seeds import SEED_FEATURES

MODEL_FILE = "pair_model.txt"
SEED_MODEL_FILE = "seed_model.txt"
META_FILE = "meta.json"


def fold_file(k: int, kind: str = "pair") -> str:
    """The fold model k (trained without the names of fold k; the benchmark scores fold k with it), gzipped;
    ``kind`` "pair" or "seed"."""
    return f"{kind}_model.fold{k}.txt.gz"

DEFAULT_THRESHOLD = 0.5


def shipped_dir() -> Path:
    """The models shipped in the package (trained on ../shared/data by `paperatlas train disambiguation`)."""
    return Path(str(resources.files("paperatlas.models.disambiguation")))


def trained_dir() -> Path:
    """Where `paperatlas train disambiguation` writes by default: the data folder, never the installed package."""
    return current().data_dir / "models" / "disambiguation"


def model_dir() -> Path:
    """The models in use: those trained into the data folder when there are any, else the shipped ones."""
    trained = trained_dir()
    return trained if (trained / MODEL_FILE).is_file() else shipped_dir()


def model_path(filename: str) -> Path:
    """One model file: the data folder's copy when it exists, else the shipped one."""
    trained = trained_dir() / filename
    return trained if trained.is_file() else shipped_dir() / filename


@dataclass
class PairModel:
    """p(same person | pair features).  Without a trained booster, a transparent fallback rule is used."""

    booster: Any = None
    threshold: float = DEFAULT_THRESHOLD  # linkage distance cut: merge while the linkage's (1 - p) < threshold
    # "single", "average" or "single+average@SEED" (see clustering.cut), chosen with the threshold out of fold
    linkage: str = "average"
    meta: dict[str, Any] = field(default_factory=dict)
    seed_booster: Any = None  # p(same person | seed-pair features), for linkage "seeds@S" (see seeds.py)
    _compiled: dict[str, CompiledTrees] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "fallback"))

    def __getstate__(self) -> dict[str, Any]:
        # compiled code lives in this process's memory: a pickled model (a Spark task) compiles its own
        return {**self.__dict__, "_compiled": {}}

    def _twin(self, kind: str, booster: Any) -> CompiledTrees:
        if kind not in self._compiled:
            self._compiled[kind] = CompiledTrees(booster)
        return self._compiled[kind]

    def _run(self, kind: str, booster: Any, features: np.ndarray) -> np.ndarray:
        """LightGBM's prediction, from the compiled twin of the booster where the batch is large enough."""
        fast = self._twin(kind, booster).predict(features)
        if fast is not None:
            return fast.astype(np.float32)
        return booster.predict(features, num_threads=threads()).astype(np.float32)

    def warm(self) -> bool:
        """Compile every booster now (start-up work for a whole-corpus run); False unless all of them compiled
        (LightGBM then does the work, and the clustering stays in one process).  The seed stage's topic table
        is loaded here too, so that the parallel clustering's forked workers share this process's copy instead
        of each reading the file again."""
        if self.seed_booster is not None:
            from . import topics

            topics.shipped()
        boosters = [(k, b) for k, b in (("pair", self.booster), ("seed", self.seed_booster)) if b is not None]
        return bool(boosters) and all([self._twin(k, b).ready() for k, b in boosters])

    def predict(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0, dtype=np.float32)
        if self.booster is not None:
            return self._run("pair", self.booster, features)
        # Fallback (no model file): shared coauthors or a similar title with the same full first name.
        cols = {name: i for i, name in enumerate(FEATURES)}
        features = np.nan_to_num(features)
        score = (0.35 * np.minimum(features[:, cols["coauthor_shared"]], 2)
                 + 0.5 * features[:, cols["title_cos"]] + 0.2 * features[:, cols["first_same"]])
        return np.clip(score, 0, 1).astype(np.float32)

    def predict_seeds(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0 or self.seed_booster is None:
            return np.zeros(len(features), dtype=np.float32)
        return self._run("seed", self.seed_booster, features)

    def save_booster(self, path: Path, booster: Any = None) -> None:
        import gzip

        path.parent.mkdir(parents=True, exist_ok=True)
        booster = booster if booster is not None else self.booster
        path.write_bytes(gzip.compress(booster.model_to_string().encode("utf-8"), mtime=0))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / MODEL_FILE))
        if self.seed_booster is not None:
            self.seed_booster.save_model(str(directory / SEED_MODEL_FILE))
        meta = {**self.meta, "threshold": self.threshold, "linkage": self.linkage, "features": FEATURES,
                "seed_features": SEED_FEATURES}
        (directory / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_model(directory: Path | None = None) -> PairModel:
    directory = directory or model_dir()
    meta_path, model_path = directory / META_FILE, directory / MODEL_FILE
    if not model_path.is_file():
        return PairModel()
    import lightgbm as lgb

    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    if meta.get("features", FEATURES) != FEATURES:
        raise RuntimeError("the shipped disambiguation model was trained on other features: run "
                           "`paperatlas train disambiguation`")
    if meta.get("seed_features", SEED_FEATURES) != SEED_FEATURES:
        raise RuntimeError("the shipped seed model was trained on other features: run "
                           "`paperatlas train disambiguation`")
    booster = lgb.Booster(model_file=str(model_path))
    seed_path = directory / SEED_MODEL_FILE
    seed_booster = lgb.Booster(model_file=str(seed_path)) if seed_path.is_file() else None
    return PairModel(booster=booster, threshold=float(meta.get("threshold", DEFAULT_THRESHOLD)),
                     linkage=str(meta.get("linkage", "average")), meta=meta, seed_booster=seed_booster)


@lru_cache(maxsize=1)
def shipped_model() -> PairModel:
    return load_model()


def load_fold_model(k: int, directory: Path | None = None) -> PairModel:
    """Fold model k with its own (linkage, threshold), tuned without fold k's names."""
    import gzip

    import lightgbm as lgb

    directory = directory or model_dir()
    full = load_model(directory)
    folds = {int(f["fold"]): f for f in full.meta.get("folds", [])}
    path = directory / fold_file(k)
    if k not in folds or not path.is_file():
        raise FileNotFoundError(f"no fold model {k} in {directory}: run `paperatlas train disambiguation`")
    booster = lgb.Booster(model_str=gzip.decompress(path.read_bytes()).decode("utf-8"))
    seed_path = directory / fold_file(k, "seed")
    seed_booster = (lgb.Booster(model_str=gzip.decompress(seed_path.read_bytes()).decode("utf-8"))
                    if seed_path.is_file() else None)
    return PairModel(booster=booster, threshold=float(folds[k]["threshold"]), linkage=str(folds[k]["linkage"]),
                     meta={"version": f"{full.version}-fold{k}"}, seed_booster=seed_booster)


def fold_of_name(collection: str, group: str, directory: Path | None = None) -> int | None:
    """The fold a training name was held out in (None: the name was never trained on)."""
    meta = load_model(directory).meta if directory else shipped_model().meta
    return meta.get("fold_of_name", {}).get(collection, {}).get(group)
