"""One settings object: defaults < paperatlas.toml < environment < flags, every setting shown and documented."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from paperatlas.settings import Settings, SettingsError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_precedence_file_then_environment_then_flags(tmp_path):
    (tmp_path / "paperatlas.toml").write_text('web_cache = 10\n[digest]\nmail_from = "file <f@example.org>"\n'
                                             'public_url = "https://file.example"\n')
    env = {"PAPERATLAS_DATA_DIR": str(tmp_path), "PAPERATLAS_PUBLIC_URL": "https://env.example",
           "PAPERATLAS_WORKERS": "3"}
    settings = Settings.load(env)
    assert settings.web_cache == 10 and settings.mail_from == "file <f@example.org>"  # from the file
    assert settings.public_url == "https://env.example" and settings.workers == 3  # the environment wins
    flagged = Settings.load(env, overrides={"web_cache": 0, "database_url": None})
    assert flagged.web_cache == 0 and flagged.database_url is None  # a flag wins; None means "not given"


def test_bad_values_and_unknown_keys_are_one_clear_error(tmp_path):
    with pytest.raises(SettingsError, match="PAPERATLAS_WORKERS"):
        Settings.load({"PAPERATLAS_DATA_DIR": str(tmp_path), "PAPERATLAS_WORKERS": "many"})
    (tmp_path / "paperatlas.toml").write_text("[web]\nweb_cahce = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'web_cahce'"):
        Settings.load({"PAPERATLAS_DATA_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match="does not exist"):
        Settings.load({"PAPERATLAS_CONFIG": str(tmp_path / "missing.toml")})


def test_config_show_lists_every_setting_with_secrets_masked(cli, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_SMTP_URL", "smtp://digest:hunter2@mail.example.org:587?starttls=1")
    monkeypatch.setenv("PAPERATLAS_SECRET_KEY", "very-secret-key")
    result = cli("config", "show", "--json")
    assert result.exit_code == 0, result.output
    shown = orjson.loads(result.output)
    assert set(shown) == set(Settings.model_fields)
    assert "hunter2" not in result.output and "very-secret-key" not in result.output
    assert shown["smtp_url"] == "smtp://***@mail.example.org:587" and shown["secret_key"] == "***"
    assert shown["quiet"] is True  # the --quiet flag the test CLI passes


def test_the_settings_table_in_the_docs_is_the_code(cli):
    table = cli("config", "table").output
    assert table.strip() and table.strip() in DOCS.read_text(encoding="utf-8")
    assert table.count("\n| `") == len(Settings.model_fields)
