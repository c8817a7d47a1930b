"""What every command needs: the settings (built once per invocation), and the store, opened once on first use.

It sits below both ``paperatlas.cli`` and ``paperatlas.bench`` so that neither imports the other's internals.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from .settings import Settings, SettingsError, configure
from .store import Store, open_store


@dataclass
class AppContext:
    settings: Settings
    _store: Store | None = field(default=None, repr=False)

    @classmethod
    def create(cls, data_dir: str | None, database: str | None, quiet: bool = False) -> AppContext:
        """Settings from the environment and paperatlas.toml, with the global flags over them."""
        try:
            settings = Settings.load(overrides={"data_dir": data_dir, "database_url": database,
                                                "quiet": True if quiet else None})
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        configure(settings)
        return cls(settings=settings)

    def update_settings(self, **changes: object) -> None:
        """A command's own defaults (e.g. the demo's vector cache) over the settings, for the rest of the run."""
        self.settings = self.settings.model_copy(update=changes)
        configure(self.settings)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def database(self) -> str | None:
        return self.settings.secret("database_url")

    @property
    def quiet(self) -> bool:
        return self.settings.quiet

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
        configure(None)


pass_app = click.make_pass_decorator(AppContext)


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and a non-zero exit, as every bad-input path must end."""
    click.echo(f"paperatlas: {message}", err=True)
    sys.exit(code)
