"""The server's query encoder: the embedding model exported to ONNX by the search stage (embeddings/onnx.py).

Its vectors must be the torch model's (same weights, same tokenizer, same pooling), a store without the export
must say what to run instead of searching differently, and the serving process must not load torch at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperatlas.embeddings import onnx as query_encoder
from paperatlas.search import IndexNotBuilt, search_papers
from paperatlas.search.corpus import load_papers, oai_papers
from paperatlas.search.encoder import QueryEncoderNotBuilt, encode_query
from paperatlas.search.stage import update_text, update_vectors
from paperatlas.store import open_store

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The installed model exported once for this module: (folder, stored model name)."""
    from paperatlas.embeddings import model_name

    folder = tmp_path_factory.mktemp("query-encoder")
    name = model_name()
    query_encoder.export(name, folder)
    return folder, name


def _texts(shared: Path) -> list[str]:
    """Real titles, one- and two-word queries made of their words (as people and the load bench search), a few
    abstracts longer than the model's 256 word pieces, and odd inputs."""
    papers = list(oai_papers(shared, limit=400))
    titles = [p["title"] for p in papers if p["title"]][:300]
    words = [w for t in titles for w in t.lower().split() if w.isalpha() and len(w) > 3]
    queries = [" ".join(words[i:i + 1 + i % 2]) for i in range(0, 200, 2)]
    abstracts = sorted((p["abstract"] for p in papers if p["abstract"]), key=len)[-10:]
    odd = ["", "a", "GNN", "ünïcödé 中文 العربية", "🙂 emoji", "x" * 3000, "graph neural networks " * 200]
    return titles + queries + abstracts + odd


@pytest.mark.slow
def test_onnx_vectors_equal_the_torch_models(exported, shared: Path):
    from paperatlas.embeddings import get_embedder

    folder, name = exported
    texts = _texts(shared)
    assert len(texts) >= 400
    reference = get_embedder(name).encode(texts)
    encoder = query_encoder.OnnxEncoder(folder, name)
    assert (encoder.name, encoder.dim) == (name, reference.shape[1])
    one_by_one = np.vstack([encoder.encode([text]) for text in texts])  # how the server asks: one query a call
    batched = encoder.encode(texts, batch_size=32)  # padded batches, as sentence-transformers makes them
    for vectors in (one_by_one, batched):
        assert vectors.dtype == np.float32 and vectors.shape == reference.shape
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        cosines = np.sum(vectors * reference, axis=1)
        assert cosines.min() >= 0.9999, texts[int(cosines.argmin())][:80]


@pytest.mark.slow
def test_a_second_store_gets_a_copy_and_a_current_export_is_kept(exported, tmp_path: Path):
    folder, name = exported
    first, second = tmp_path / "one", tmp_path / "two"
    assert query_encoder.ensure(first, name) in ({"query_encoder": "exported"}, {"query_encoder": "copied"})
    assert query_encoder.ensure(second, name) == {"query_encoder": "copied"}  # no second trace in one process
    assert query_encoder.ensure(second, name) == {"query_encoder": "kept"}
    target = query_encoder.encoder_dir(second)
    assert query_encoder.exported_model(target) == name
    assert (target / query_encoder.MODEL_FILE).read_bytes() == (folder / query_encoder.MODEL_FILE).read_bytes()
    assert not list(target.glob("*.tmp"))


@pytest.fixture
def vectors_without_encoder(shared: Path, tmp_path: Path):
    """A store with a text index and a vector index (made-up unit vectors under a model name), no export."""
    store = open_store(tmp_path / "data")
    papers = list(oai_papers(shared, limit=30))
    load_papers(store, papers)
    rng = np.random.default_rng(0)
    rows = []
    for (pid,) in store.db.query_tuples("SELECT id FROM papers ORDER BY id"):
        vector = rng.normal(size=8).astype("<f4")
        rows.append((pid, "some-model@1", f"h{pid}", 8, (vector / np.linalg.norm(vector)).astype("<f4").tobytes()))
    store.db.executemany("INSERT INTO embeddings (paper_id, model, content_hash, dim, vector) VALUES (?, ?, ?, ?, ?)",
                         rows)
    update_text(store)
    assert update_vectors(store)["vectors"] == len(rows)
    word = next(w for w in papers[0]["title"].split() if w.isalpha() and len(w) > 3)
    yield store, word
    store.close()


def test_no_export_is_an_error_that_says_what_to_run(vectors_without_encoder):
    from paperatlas.search.warm import warm

    store, word = vectors_without_encoder
    encode_query.cache_clear()
    with pytest.raises(QueryEncoderNotBuilt, match=r"run `paperatlas build --only search`") as raised:
        search_papers(store, word, mode="hybrid")
    assert "some-model@1" in str(raised.value) and "there is none" in str(raised.value)
    assert isinstance(raised.value, IndexNotBuilt)  # the CLI and the site say it as they say a missing index
    with pytest.raises(QueryEncoderNotBuilt):  # so a server over this store does not start
        warm(store)
    assert search_papers(store, word, mode="bm25")["results"]  # BM25 alone never needs the encoder


def test_the_search_command_says_what_to_run(vectors_without_encoder, cli, data_dir):
    store, word = vectors_without_encoder
    assert store.data_dir == data_dir  # the command runs on this store
    encode_query.cache_clear()
    result = cli("search", word)
    assert result.exit_code == 2
    assert "no query encoder for 'some-model@1'" in result.output and "paperatlas build --only search" in result.output
    assert "Traceback" not in result.output


def test_an_export_of_another_model_is_an_error_too(vectors_without_encoder):
    store, word = vectors_without_encoder
    folder = query_encoder.encoder_dir(store.data_dir)
    folder.mkdir(parents=True)
    (folder / query_encoder.META_FILE).write_text(json.dumps({"format": query_encoder.FORMAT, "model": "other@2"}))
    encode_query.cache_clear()
    with pytest.raises(QueryEncoderNotBuilt, match="it holds 'other@2'"):
        search_papers(store, word, mode="hybrid")


SERVE_AND_LIST_MODULES = """
import sys
from fastapi.testclient import TestClient
from paperatlas.store import open_store
from paperatlas.web.app import create_app

store = open_store(sys.argv[1], upgrade=False)
with TestClient(create_app(store)) as client:  # its lifespan warms up: model loaded, one query embedded
    assert client.get("/search", params={"q": sys.argv[2]}).status_code == 200
    assert client.get("/api/search", params={"q": sys.argv[2] + " model"}).status_code == 200
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in
                      ("torch", "transformers", "sentence_transformers", "onnxruntime") and "." not in m)))
"""


@pytest.mark.slow
def test_the_server_embeds_queries_without_importing_torch(shared: Path, tmp_path: Path):
    from support.indexes import build_indexes

    store = open_store(tmp_path / "data")
    papers = list(oai_papers(shared, limit=40))
    load_papers(store, papers)
    figures = build_indexes(store)
    assert figures["vectors"] == len(papers) and figures["query_encoder"] in ("exported", "copied")
    word = next(w for w in papers[0]["title"].split() if w.isalpha() and len(w) > 3)
    store.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", SERVE_AND_LIST_MODULES, str(tmp_path / "data"), word],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["onnxruntime"]  # the encoder did run, and nothing of torch


class _Recording:
    """An encoder whose first call waits for the test's go-ahead; it records each batch it was given."""

    name, dim = "fake@1", 4

    def __init__(self) -> None:
        import threading

        self.batches: list[list[str]] = []
        self.entered = threading.Event()  # the first call has begun
        self.go = threading.Event()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not self.batches:
            self.entered.set()
            self.go.wait(timeout=60)
        self.batches.append(list(texts))
        if "boom" in texts:
            raise ValueError("boom")
        return np.asarray([[len(t), ord(t[0]), ord(t[-1]), 1.0] for t in texts], dtype=np.float32)


def test_queries_that_wait_for_the_encoder_are_embedded_together():
    import threading

    from paperatlas.search.encoder import BATCH_LIMIT, Batches

    inner = _Recording()
    batches = Batches(inner)  # type: ignore[arg-type]
    texts = [f"query {i:02d}" for i in range(BATCH_LIMIT + 5)]
    got: dict[str, np.ndarray] = {}
    threads = [threading.Thread(target=lambda t=t: got.__setitem__(t, batches.encode(t))) for t in texts]
    threads[0].start()
    assert inner.entered.wait(timeout=60)
    for thread in threads[1:]:
        thread.start()
    while batches.waiting() < len(texts) - 1:  # the first is being embedded alone, every other one waits
        threading.Event().wait(0.01)
    inner.go.set()
    for thread in threads:
        thread.join(timeout=60)
    assert [len(b) for b in inner.batches] == [1, BATCH_LIMIT, 4]  # alone, then as many as wait, in order
    assert sorted(t for b in inner.batches for t in b) == sorted(texts)
    for text in texts:
        assert got[text].shape == (1, 4) and got[text][0, 0] == len(text) and got[text][0, 2] == ord(text[-1])


def test_an_encoder_error_reaches_every_query_of_its_batch_and_the_next_ones_still_work():
    import threading

    from paperatlas.search.encoder import Batches

    inner = _Recording()
    batches = Batches(inner)  # type: ignore[arg-type]
    errors: dict[str, str] = {}

    def ask(text: str) -> None:
        try:
            batches.encode(text)
        except ValueError as error:
            errors[text] = str(error)

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert inner.entered.wait(timeout=60)
    others = [threading.Thread(target=ask, args=(t,)) for t in ("boom", "bystander")]
    for thread in others:
        thread.start()
    while batches.waiting() < 2:
        threading.Event().wait(0.01)
    inner.go.set()
    for thread in [first, *others]:
        thread.join(timeout=60)
    assert errors == {"boom": "boom", "bystander": "boom"}
    assert batches.encode("after")[0, 0] == len("after")


def test_exporting_without_the_embed_extra_says_what_to_install(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if the package were not installed
    with pytest.raises(ModuleNotFoundError, match=r"needs onnx: pip install 'paperatlas\[embed\]'"):
        query_encoder.export("some-model@1", tmp_path / "query-encoder")
    assert not (tmp_path / "query-encoder").exists()
