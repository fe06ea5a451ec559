"""Settings and the embedded default."""

import pytest

from reengage.platform import config


def test_embedded_default_uses_a_sqlite_file_and_a_kept_secret(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in config.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    first = config.load()
    assert first["EMBEDDED"] and first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'reengage.db'}"
    assert len(first["SECRET_KEY"]) > 40
    assert config.load()["SECRET_KEY"] == first["SECRET_KEY"]
    assert (tmp_path / ".reengage-secret").stat().st_mode & 0o077 == 0


def test_production_without_a_secret_refuses_to_start(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/reengage")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load()


def test_environment_is_read_and_overrides_win(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/reengage")
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "1234")
    settings = config.load({"LOG_LEVEL": "DEBUG"})
    assert settings["MAX_CONTENT_LENGTH"] == 1234 and settings["LOG_LEVEL"] == "DEBUG"
    assert not settings["EMBEDDED"]


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgresql_urls_use_psycopg(given):
    assert config.database_url(given) == "postgresql+psycopg://u@h/db"


def test_a_setting_that_must_be_a_number_is_checked(monkeypatch):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "lots")
    with pytest.raises(RuntimeError, match="MAX_CONTENT_LENGTH must be a number"):
        config.load({"SECRET_KEY": "s"})


def test_log_level_is_checked_and_case_insensitive():
    assert config.load({"SECRET_KEY": "s", "LOG_LEVEL": "debug"})["LOG_LEVEL"] == "DEBUG"
    with pytest.raises(RuntimeError, match="LOG_LEVEL must be one of"):
        config.load({"SECRET_KEY": "s", "LOG_LEVEL": "loud"})


def test_every_recovery_delay_and_attempt_limit_is_read_from_the_environment(monkeypatch):
    given = {name: str(index + 2) for index, name in enumerate(config.RECOVERY_SETTINGS)}
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    settings = config.load({"SECRET_KEY": "s"})
    assert {name: settings[name] for name in given} == {name: int(value) for name, value in given.items()}
    monkeypatch.setenv("HOOK_MAX_ATTEMPTS", "0")
    with pytest.raises(RuntimeError, match="HOOK_MAX_ATTEMPTS must not be below 1"):
        config.load({"SECRET_KEY": "s"})
    monkeypatch.setenv("HOOK_MAX_ATTEMPTS", "soon")
    with pytest.raises(RuntimeError, match="HOOK_MAX_ATTEMPTS must be a number"):
        config.load({"SECRET_KEY": "s"})
