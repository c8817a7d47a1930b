"""The store: where papers, people and derived figures live.

``open_store`` picks the engine from a URL: the embedded default is one SQLite file in the data folder; a
``postgresql://`` URL selects the server store (see ``store/postgres.py``).  Stages receive a :class:`Store` and
talk SQL to ``store.db`` through the :class:`~paperatlas.store.database.Database` interface; file-based indexes
(search, vectors) live in ``store.data_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .database import Database, SQLiteDatabase, query_in, query_rows_in
from .migrate import migrate

STORE_FILENAME = "paperatlas.sqlite3"


@dataclass
class Store:
    db: Database
    data_dir: Path

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def path(self, *parts: str) -> Path:
        """A path inside the data folder for a stage's own files (indexes, models, harvest state)."""
        target = self.data_dir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def close(self) -> None:
        self.db.close()


def open_database(url: str | None, data_dir: Path) -> Database:
    if url and url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDatabase

        return PostgresDatabase(url)
    if url and url.startswith("sqlite:///"):
        return SQLiteDatabase(Path(url.removeprefix("sqlite:///")))
    if url:
        raise ValueError(f"unsupported database URL {url!r} (use postgresql://... or sqlite:///path)")
    return SQLiteDatabase(data_dir / STORE_FILENAME)


def open_store(data_dir: Path, url: str | None = None, *, upgrade: bool = True) -> Store:
    """Open (and create or upgrade) the store in ``data_dir``, or the server database at ``url``."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(url, data_dir)
    if upgrade:
        migrate(db)
    return Store(db=db, data_dir=data_dir)


__all__ = ["Database", "SQLiteDatabase", "Store", "migrate", "open_database", "open_store", "query_in", "query_rows_in"]
