import re
from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, load_settings


def test_defaults_pick_the_embedded_model():
    settings = load_settings(environ={}, env_file=None)
    assert settings.resolved_backend == "local"
    assert settings.style == "auto" and settings.max_tokens == 200


@pytest.mark.parametrize(
    ("environ", "backend"),
    [
        ({"OPENAI_API_KEY": "sk-test"}, "openai"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"}, "openai"),
        ({"OPENAI_API_KEY": "sk-test", "AUTOMUSE_BACKEND": "local"}, "local"),
        ({"AUTOMUSE_BACKEND": "openai"}, "openai"),
    ],
)
def test_a_key_or_base_url_selects_openai_and_an_explicit_backend_wins(environ, backend):
    assert load_settings(environ=environ, env_file=None).resolved_backend == backend


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AUTOMUSE_TEMPERATURE": "hot"}, "AUTOMUSE_TEMPERATURE must be a number, not 'hot'."),
        ({"AUTOMUSE_TEMPERATURE": "5"}, "AUTOMUSE_TEMPERATURE must be between 0 and 2, not 5."),
        ({"AUTOMUSE_MAX_TOKENS": "1.5"}, "AUTOMUSE_MAX_TOKENS must be a whole number"),
        ({"AUTOMUSE_BACKEND": "gpu"}, "AUTOMUSE_BACKEND must be one of auto, openai, local"),
        ({"AUTOMUSE_DEV_GUILD": "abc"}, "AUTOMUSE_DEV_GUILD must be a whole number"),
    ],
)
def test_an_invalid_value_gets_one_clear_error(environ, message):
    with pytest.raises(ConfigError) as error:
        load_settings(environ=environ, env_file=None)
    assert str(error.value).startswith(message)


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("AUTOMUSE_MAX_TOKENS=120\nAUTOMUSE_STYLE=completion\n")
    settings = load_settings(environ={"AUTOMUSE_STYLE": "chat"}, env_file=str(env_file))
    assert settings.max_tokens == 120 and settings.style == "chat"


def test_secrets_never_show_in_reprs():
    settings = load_settings(
        environ={"OPENAI_API_KEY": "sk-very-secret", "DISCORD_TOKEN": "tok-secret"}, env_file=None
    )
    assert "sk-very-secret" not in repr(settings) and "tok-secret" not in str(settings)
    assert settings.openai_api_key.reveal() == "sk-very-secret"
    assert not Secret("") and Secret("x")


def test_env_example_lists_every_setting():
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    source = (Path(__file__).resolve().parents[1] / "bot" / "config.py").read_text()
    read = set(re.findall(r'"((?:AUTOMUSE|OPENAI|DISCORD)_[A-Z_]+)"', source))
    listed = set(re.findall(r"^#?\s*((?:AUTOMUSE|OPENAI|DISCORD)_[A-Z_]+)=", example, re.M))
    assert read and read == listed


def test_shards_default_to_discords_automatic_sharding():
    settings = load_settings(environ={}, env_file=None)
    assert settings.shard_count is None and settings.shard_ids is None


def test_shard_settings_name_a_subset_of_the_shards():
    environ = {"AUTOMUSE_SHARD_COUNT": "4", "AUTOMUSE_SHARD_IDS": "0,2-3"}
    settings = load_settings(environ=environ, env_file=None)
    assert settings.shard_count == 4 and settings.shard_ids == (0, 2, 3)
    assert settings.shards.serves(2 << 22) and not settings.shards.serves(1 << 22)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AUTOMUSE_SHARD_COUNT": "0"}, "AUTOMUSE_SHARD_COUNT must be a whole number from 1"),
        ({"AUTOMUSE_SHARD_IDS": "0-1"}, "AUTOMUSE_SHARD_IDS needs a shard count as well."),
        (
            {"AUTOMUSE_SHARD_COUNT": "2", "AUTOMUSE_SHARD_IDS": "2"},
            "AUTOMUSE_SHARD_IDS must lie between 0 and 1 for 2 shards.",
        ),
    ],
)
def test_bad_shard_settings_get_one_clear_error(environ, message):
    with pytest.raises(ConfigError) as error:
        load_settings(environ=environ, env_file=None)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("environ", "database"),
    [
        ({}, "automuse.db"),
        ({"AUTOMUSE_DB": "stories/a.db"}, "stories/a.db"),
        ({"AUTOMUSE_DATABASE_URL": "sqlite:///b.db", "AUTOMUSE_DB": "a.db"}, "sqlite:///b.db"),
        ({"AUTOMUSE_DATABASE_URL": "postgresql://u:pw@db:5432/m"}, "postgresql://u:pw@db:5432/m"),
    ],
)
def test_the_database_url_wins_over_the_sqlite_path(environ, database):
    assert load_settings(environ=environ, env_file=None).database == database


def test_a_database_url_is_a_secret_and_a_bad_one_is_named_without_echoing_it():
    settings = load_settings(
        environ={"AUTOMUSE_DATABASE_URL": "postgresql://u:hunter2@db/m"}, env_file=None
    )
    assert "hunter2" not in repr(settings)
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"AUTOMUSE_DATABASE_URL": "mysql://u:hunter2@db/m"}, env_file=None)
    assert str(error.value) == "AUTOMUSE_DATABASE_URL must start with sqlite:/// or postgresql://."
