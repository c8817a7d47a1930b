"""Fixtures every test module shares: the real data samples, a fresh store, and the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperatlas.shared_data import shared_data_dir_or_default
from paperatlas.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]


SHARED = shared_data_dir_or_default()  # the one rule every command uses (PAPERATLAS_SHARED_DATA, ../shared/data)


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the real data samples are missing: expected them at {SHARED} (set PAPERATLAS_SHARED_DATA)")
    return SHARED


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh embedded store in a temporary data folder."""
    opened = open_store(tmp_path / "data")
    yield opened
    opened.close()


POSTGRES_URL_ENV = "PAPERATLAS_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a fresh, empty schema on the test PostgreSQL server (dropped afterwards); skipped without one."""
    import uuid

    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"PostgreSQL store tests skipped: set {POSTGRES_URL_ENV}=postgresql://user@host/db to run them")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on each engine: the embedded SQLite file, then a PostgreSQL schema (see ``postgres_url``)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    opened = open_store(tmp_path / "data", url)
    yield opened
    opened.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path):
    """Invoke ``paperatlas --data-dir <tmp> ARGS...`` in-process; returns click's Result."""
    from paperatlas.cli import main

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, ["--quiet", "--data-dir", str(data_dir), *args], input=input,
                             catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def atom_papers_template(tmp_path_factory, shared) -> Path:
    """A store of the 500 real Dec-2025 arXiv Atom papers with its full-text index, made once per test session."""
    from paperatlas.bench.fixtures.atom_papers import load_atom_papers
    from support.indexes import build_indexes

    folder = tmp_path_factory.mktemp("atom-papers-template")
    template = open_store(folder)
    load_atom_papers(template, shared / "arxiv" / "atom-api" / "cs-2025-12")
    build_indexes(template, vectors=False)
    template.close()
    return folder


@pytest.fixture
def atom_papers_store(atom_papers_template, tmp_path) -> Iterator[Store]:
    """Each test's own copy of that store and index (copying is much faster than loading the papers)."""
    import shutil

    from paperatlas.store import STORE_FILENAME

    target = tmp_path / "atom-papers"
    target.mkdir()
    shutil.copy(atom_papers_template / STORE_FILENAME, target / STORE_FILENAME)
    shutil.copytree(atom_papers_template / "index", target / "index")
    opened = open_store(target)
    yield opened
    opened.close()
