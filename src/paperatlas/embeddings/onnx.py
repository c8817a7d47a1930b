"""The query encoder the web server runs: the embedding model exported once to ONNX, run by ONNX Runtime.

Why: a search embeds its query with the model that embedded the papers.  Through torch and sentence-transformers
that cost the server about 400 MB of memory per worker (torch, transformers and the weights) and, under
``paperatlas bench web --mix``, a third of its CPU (12 ms a short query on one thread; ONNX Runtime takes
about 5 ms for the same vector).  So the search stage of ``paperatlas build``, which has torch, exports the model
(transformer, mean pooling, L2 normalisation) with its fast tokenizer into ``<data_dir>/index/query-encoder``
(:func:`ensure`), and the server loads that folder with ``onnxruntime`` and ``tokenizers`` only
(:class:`OnnxEncoder`), never importing torch.  The vectors equal torch's to cosine >= 0.9999
(``tests/test_query_encoder.py``).

A missing or stale export is an error that says what to run (:class:`QueryEncoderMissing`), never a silent
switch to another encoder or to BM25 alone.
"""

from __future__ import annotations

import json
import shutil
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
FORMAT = 1  # bump when the exported graph or its inputs change: older exports are made again by the next build
OPSET = 17


class QueryEncoderMissing(RuntimeError):
    """No exported query encoder for the vectors' model in the data folder: says which command makes it."""

    def __init__(self, folder: Path, model: str, found: str | None) -> None:
        have = f"it holds {found!r}" if found else "there is none"
        super().__init__(f"no query encoder for {model!r} in {folder} ({have}): run `paperatlas build --only search`, "
                         "which exports it (it needs the embed extra: pip install 'paperatlas[embed]')")
        self.folder = folder
        self.model = model


def encoder_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "index" / "query-encoder"


def exported_model(folder: Path) -> str | None:
    """The model name the export in ``folder`` was made from, or None (no export, or one of an older format)."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except FileNotFoundError:
        return None
    return meta["model"] if meta.get("format") == FORMAT else None


class OnnxEncoder:
    """An exported model: ``name``, ``dim`` and ``encode(texts) -> float32 L2-normalised rows``, as
    :class:`paperatlas.embeddings.Embedder`.  Safe to call from several threads at once (ONNX Runtime's ``run``
    and the Rust tokenizer both are, and both release the GIL)."""

    def __init__(self, folder: Path, model: str) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        found = exported_model(folder)
        if found != model:
            raise QueryEncoderMissing(folder, model, found)
        meta = json.loads((folder / META_FILE).read_text())
        self.name: str = meta["model"]
        self.dim: int = int(meta["dim"])
        self.inputs: list[str] = list(meta["inputs"])
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        options = ort.SessionOptions()
        # One query is a few word pieces: a second thread only adds hand-offs, and on a busy 2-core machine
        # spinning intra-op threads steal the core the other requests need (the torch encoder was pinned to one
        # thread for the same reason).  Batches (tests, benchmarks) are rare in the server.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(list(texts[start:start + batch_size]))
            columns = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                       "token_type_ids": [e.type_ids for e in encodings]}
            feed = {name: np.asarray(columns[name], dtype=np.int64) for name in self.inputs}
            out.append(self.session.run(None, feed)[0])
        return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)

    def __repr__(self) -> str:
        return f"OnnxEncoder({self.name!r}, dim={self.dim})"


_exports: dict[str, Path] = {}  # model name -> a folder this process exported it to (a second store copies it)
_exports_lock = threading.Lock()


def ensure(data_dir: Path, model: str) -> dict[str, Any]:
    """Export ``model`` (a stored model name, e.g. ``all-MiniLM-L6-v2@gt-0.1.0``) into the data folder unless
    that export is already there; returns what was done.  Loads the model through torch (the embed extra)."""
    folder = encoder_dir(data_dir)
    if exported_model(folder) == model:
        return {"query_encoder": "kept"}
    with _exports_lock:
        earlier = _exports.get(model)
        if earlier is not None and earlier != folder and exported_model(earlier) == model:
            _install(folder, {name: earlier / name for name in (MODEL_FILE, TOKENIZER_FILE, META_FILE)})
            return {"query_encoder": "copied"}
        export(model, folder)
        _exports[model] = folder
    return {"query_encoder": "exported"}


def export(model: str, folder: Path) -> None:
    """Trace the sentence-transformers model ``model`` (a transformer, mean pooling, normalisation) to ONNX and
    write it with its tokenizer (cut at the model's ``max_seq_length``, padded to the longest text) and a meta
    file into ``folder``; the meta file is replaced last, so a reader never takes a half-written export."""
    try:
        import onnx  # noqa: F401  (what torch.onnx.export writes with)
        import torch
    except ModuleNotFoundError as missing:
        raise ModuleNotFoundError(f"exporting the query encoder for {model!r} needs {missing.name}: pip install "
                                  "'paperatlas[embed]'", name=missing.name) from missing

    from . import get_embedder

    embedder = get_embedder(model, device="cpu")
    st = getattr(embedder, "model", None)
    kinds = [type(module).__name__ for module in st] if st is not None else []
    if kinds[:2] != ["Transformer", "Pooling"] or _pooling(st[1]) != "mean" or kinds[2:] not in ([], ["Normalize"]):
        raise ValueError(f"cannot export {model!r} for queries: only a transformer with mean pooling is supported "
                         f"(this one is {kinds or type(embedder).__name__})")
    transformer = st[0].auto_model.eval()
    hf_tokenizer = st.tokenizer
    inputs = [name for name in ("input_ids", "attention_mask", "token_type_ids")
              if name in hf_tokenizer.model_input_names]

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            named = dict(zip(inputs, tensors, strict=True))
            tokens = self.transformer(**named).last_hidden_state
            mask = named["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    tokenizer.enable_truncation(int(st.max_seq_length))
    tokenizer.enable_padding(pad_id=int(hf_tokenizer.pad_token_id), pad_token=str(hf_tokenizer.pad_token))
    sample = torch.ones((2, 8), dtype=torch.long)
    folder.mkdir(parents=True, exist_ok=True)
    staged = {name: folder / f"{name}.tmp" for name in (MODEL_FILE, TOKENIZER_FILE, META_FILE)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python-side branches the graph does not need
        torch.onnx.export(Pooled(), tuple(sample for _ in inputs), str(staged[MODEL_FILE]), dynamo=False,
                          input_names=inputs, output_names=["embedding"], opset_version=OPSET,
                          dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in inputs},
                                        "embedding": {0: "batch"}})
    tokenizer.save(str(staged[TOKENIZER_FILE]))
    staged[META_FILE].write_text(json.dumps({"format": FORMAT, "model": embedder.name, "dim": int(embedder.dim),
                                             "inputs": inputs, "max_seq_length": int(st.max_seq_length),
                                             "torch": torch.__version__}))
    _install(folder, staged)


def _pooling(module: Any) -> str:
    """A sentence-transformers Pooling module's mode ("mean", "cls", ...), in the versions that name it either way."""
    mode = getattr(module, "pooling_mode", None)
    return str(mode) if isinstance(mode, str) else str(module.get_pooling_mode_str())


def _install(folder: Path, files: dict[str, Path]) -> None:
    """Put ``files`` (name -> where it is now) into ``folder``, meta file last."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_FILE, TOKENIZER_FILE, META_FILE):
        source = files[name]
        if source.parent == folder:
            source.replace(folder / name)
        else:
            shutil.copyfile(source, folder / f"{name}.tmp")
            (folder / f"{name}.tmp").replace(folder / name)


__all__ = ["OnnxEncoder", "QueryEncoderMissing", "encoder_dir", "ensure", "export", "exported_model"]
