"""What every command needs: where the data lives, and the store, opened once on first use."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import platformdirs

from ..store import Store, open_store


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("paperatlas", appauthor=False))


@dataclass
class AppContext:
    data_dir: Path
    database: str | None = None
    quiet: bool = False
    _store: Store | None = field(default=None, repr=False)

    @classmethod
    def create(cls, data_dir: str | None, database: str | None, quiet: bool = False) -> AppContext:
        path = Path(data_dir).expanduser() if data_dir else default_data_dir()
        return cls(data_dir=path, database=database, quiet=quiet or bool(os.environ.get("PAPERATLAS_QUIET")))

    @property
    def store(self) -> Store:
        if self._store is None:
            try:
                self._store = open_store(self.data_dir, self.database)
            except Exception as exc:  # a wrong path or an unreachable server is one clear line, not a traceback
                raise click.ClickException(f"cannot open the store at {self.database or self.data_dir}: {exc}") from exc
        return self._store

    @property
    def show_progress(self) -> bool:
        return not self.quiet

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


pass_app = click.make_pass_decorator(AppContext)


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and a non-zero exit, as every bad-input path must end."""
    click.echo(f"paperatlas: {message}", err=True)
    sys.exit(code)
