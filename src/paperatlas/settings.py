"""Every setting of PaperAtlas in one object, built once from defaults, ``paperatlas.toml``, the environment and
the command line's flags (each overriding the one before), then passed down.

Why one object: 22 ``PAPERATLAS_*`` variables used to be read in 16 files, each with its own default and its own
idea of "true"; ``paperatlas config show`` can now print what a process really runs with, and docs/settings.md is
one table of the same fields.

The file is ``paperatlas.toml`` in the data folder, or the file named by ``PAPERATLAS_CONFIG``.  Its keys are the
field names below, at the top level or inside any section (``[digest] smtp_url = ...`` as before, ``[web]``,
``[identities]`` ...): sections only group them for a reader.  A key the object does not know is an error, so a typo
never silently keeps a default.

Library code reads :func:`current` (the object the command line configured, else one built from this process's
environment); the command line builds the object once per invocation with :func:`configure`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

PREFIX = "PAPERATLAS_"
CONFIG_FILENAME = "paperatlas.toml"


class SettingsError(ValueError):
    """A setting that cannot work; the message is one line a person can act on."""


def default_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/paperatlas`` on Linux) when no other is given."""
    return Path(platformdirs.user_data_dir("paperatlas", appauthor=False))


def _section(name: str) -> dict[str, Any]:
    return {"section": name}


class Settings(BaseModel):
    """The effective settings.  Field name ``x`` is the variable ``PAPERATLAS_X`` and the TOML key ``x``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- store ----------------------------------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir, json_schema_extra=_section("store"),
                           description="Folder of the embedded store, the indexes and the trained models.")
    database_url: SecretStr | None = Field(None, json_schema_extra=_section("store"),
                                           description="postgresql://... to use a PostgreSQL server instead of the "
                                                       "SQLite file in the data folder.")
    config: Path | None = Field(None, json_schema_extra=_section("store"),
                                description="A settings file to read instead of <data_dir>/paperatlas.toml "
                                            "(environment only).")
    quiet: bool = Field(False, json_schema_extra=_section("store"),
                        description="No progress bars (also --quiet).")
    cache_dir: Path | None = Field(None, json_schema_extra=_section("store"),
                                   description="Where compiled models are cached; default the user cache folder.")
    shared_data: Path | None = Field(None, json_schema_extra=_section("store"),
                                     description="The real-data folder that benchmarks and `train` read; default "
                                                 "a shared/data folder beside the working folder or the checkout.")
    # -- ingest and identities ------------------------------------------------------------------------------------
    ingest_parallel: bool = Field(True, json_schema_extra=_section("ingest"),
                                  description="Parse in a child process while the parent writes (large inputs).")
    workers: int | None = Field(None, ge=1, json_schema_extra=_section("identities"),
                                description="Processes that cluster name blocks of a large corpus; default: every "
                                            "core.")
    compiled_trees: bool = Field(True, json_schema_extra=_section("identities"),
                                 description="Run the LightGBM pair and seed models as native code (lleaves).")
    # -- embeddings and scores ------------------------------------------------------------------------------------
    embedder: str | None = Field(None, json_schema_extra=_section("embeddings"),
                                 description="Embedding model: a registered name or a sentence-transformers folder; "
                                             "default all-MiniLM-L6-v2.")
    embed_device: str = Field("cpu", json_schema_extra=_section("embeddings"),
                              description="Device for the embedding model: cpu, cuda or auto.")
    vector_cache: str | None = Field(None, json_schema_extra=_section("embeddings"),
                                     description="Vector cache files (.npz), separated by the path separator, "
                                                 "besides <data_dir>/vector-cache/.")
    ai_score_model: Path | None = Field(None, json_schema_extra=_section("scores"),
                                        description="An AI Score model file to use instead of the shipped one.")
    # -- web ------------------------------------------------------------------------------------------------------
    web_cache: int = Field(4096, ge=0, json_schema_extra=_section("web"),
                           description="Rendered responses kept in memory per worker (0: no cache).")
    public_url: str = Field("http://127.0.0.1:8000", json_schema_extra=_section("web"),
                            description="Base of every absolute link (feeds, mail); never taken from a request.")
    # -- mail -----------------------------------------------------------------------------------------------------
    smtp_url: SecretStr | None = Field(None, json_schema_extra=_section("digest"),
                                       description="smtp://user:pass@host:587?starttls=1 or smtps://host:465.")
    mail_from: str | None = Field(None, json_schema_extra=_section("digest"),
                                  description="Sender of every e-mail, e.g. 'PaperAtlas <digest@example.org>'.")
    secret_key: SecretStr | None = Field(None, json_schema_extra=_section("digest"),
                                         description="Signs links in mail; default a key generated once in the "
                                                     "data folder.")
    # -- spark ----------------------------------------------------------------------------------------------------
    spark_master: str | None = Field(None, json_schema_extra=_section("spark"),
                                     description="Spark master URL; default local[cores, at most 8].")
    spark_shuffle_partitions: int = Field(4, ge=1, json_schema_extra=_section("spark"),
                                          description="spark.sql.shuffle.partitions and default parallelism.")
    spark_driver_memory: str = Field("2g", json_schema_extra=_section("spark"),
                                     description="spark.driver.memory.")
    spark_workdir: Path | None = Field(None, json_schema_extra=_section("spark"),
                                       description="Where Parquet hand-offs go (shared storage on a cluster); "
                                                   "default <data_dir>/spark.")

    # ------------------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None) -> Settings:
        """Defaults < the TOML file < ``env`` (default ``os.environ``) < ``overrides`` (flags; None = not given)."""
        env = os.environ if env is None else env
        from_env = {name: env[PREFIX + name.upper()] for name in cls.model_fields
                    if env.get(PREFIX + name.upper()) not in (None, "")}
        flags = {k: v for k, v in (overrides or {}).items() if v is not None}
        data_dir = flags.get("data_dir") or from_env.get("data_dir")
        config = from_env.get("config")
        values = {**_file_values(Path(config) if config else None,
                                 Path(data_dir).expanduser() if data_dir else default_data_dir()),
                  **from_env, **flags}
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"]).expanduser()
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first.get("loc", ()))
            raise SettingsError(f"setting {name} (env {PREFIX}{name.upper()}): {first.get('msg')}") from None

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else value

    def shown(self) -> dict[str, Any]:
        """Every field with its value as text, secrets masked (for `paperatlas config show`)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = _mask(value.get_secret_value())
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out

    @classmethod
    def table(cls) -> list[dict[str, Any]]:
        """One row per setting: name, variable, section, type, default, description (docs/settings.md)."""
        rows = []
        for name, field in cls.model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            default = None if field.default_factory is not None else field.default
            rows.append({"name": name, "env": PREFIX + name.upper(), "section": extra.get("section"),
                         "type": _type_name(field.annotation), "default": default,
                         "secret": "SecretStr" in str(field.annotation), "description": field.description})
        return rows


def _type_name(annotation: Any) -> str:
    text = str(annotation).replace("pydantic.types.", "").replace("pathlib.", "").replace("<class '", "")
    return text.replace("'>", "").replace("typing.", "").replace(" | None", ", optional").replace("SecretStr", "secret")


def _mask(value: str) -> str:
    """Secrets are shown as '***'; a URL keeps its scheme and host so that one can check which server is used."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme and parts.hostname:
        return f"{parts.scheme}://***@{parts.hostname}{':' + str(parts.port) if parts.port else ''}"
    return "***"


def _file_values(config: Path | None, data_dir: Path) -> dict[str, Any]:
    path = config or data_dir / CONFIG_FILENAME
    if not path.is_file():
        if config is not None:
            raise SettingsError(f"{path}: the settings file named by PAPERATLAS_CONFIG does not exist")
        return {}
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in document.items():
        pairs = value.items() if isinstance(value, dict) else [(key, value)]
        for name, item in pairs:
            if name not in Settings.model_fields or name in ("config",):
                raise SettingsError(f"{path}: unknown setting {name!r} (see `paperatlas config show`)")
            values[name] = item
    return values


_configured: Settings | None = None


def configure(settings: Settings | None) -> None:
    """Make ``settings`` what :func:`current` returns in this process (None: back to the environment)."""
    global _configured
    _configured = settings


_from_env: dict[tuple[tuple[str, str], ...], Settings] = {}


def current() -> Settings:
    """The settings the command line configured, else those of this process's environment (built once per
    distinct set of ``PAPERATLAS_*`` variables, so a test that changes one sees the change)."""
    if _configured is not None:
        return _configured
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX)))
    found = _from_env.get(key)
    if found is None:
        found = _from_env[key] = Settings.load()
    return found


@contextmanager
def overridden(**changes: Any) -> Iterator[Settings]:
    """The current settings with ``changes`` applied, for the duration of a block (then as before)."""
    global _configured
    before = _configured
    _configured = current().model_copy(update=changes)
    try:
        yield _configured
    finally:
        _configured = before
