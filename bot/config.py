"""Settings from the environment and `.env`, checked once at start-up.

Every setting is listed, with its default, in `.env.example`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values

from bot.shards import ShardError, ShardPlan, parse_shard_count, parse_shard_ids

T = TypeVar("T")

BACKENDS = ("auto", "openai", "local")
STYLES = ("auto", "chat", "prose", "completion")


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message says which and why."""


class Secret:
    """A string that never shows itself in logs, reprs or tracebacks."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")


@dataclass(frozen=True)
class Settings:
    """Everything AutoMuse can be told from outside."""

    backend: str = "auto"
    openai_api_key: Secret = field(default_factory=lambda: Secret(""))
    openai_base_url: str = ""
    model: str = ""
    summary_model: str = ""
    plan_model: str = ""
    """The model that plans beats; when empty, the summary model."""
    style: str = "auto"
    """The prompt style of new stories; "auto" is the one the passage model takes."""
    gguf_path: str = ""
    threads: int = 0
    db_path: Path = Path("automuse.db")
    database_url: Secret = field(default_factory=lambda: Secret(""))
    """A `sqlite:///path` or `postgresql://` URL; when empty, the SQLite file `db_path`."""
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 200
    context_tokens: int = 1200
    timeout: float = 120.0
    max_retries: int = 2
    seed: int | None = None
    discord_token: Secret = field(default_factory=lambda: Secret(""))
    dev_guild_id: int | None = None
    next_cooldown: float = 10.0
    daily_tokens: int = 200_000
    mode: str = "vote"
    candidates: int = 3
    ballot_seconds: int = 120
    quorum: int = 0
    planner: bool = True
    """Whether new stories are written toward the planner's beats (bot/planner.py)."""
    log_level: str = "INFO"
    shard_count: int | None = None
    """None: discord.py asks Discord for the recommended count."""
    shard_ids: tuple[int, ...] | None = None
    """None: this process runs every shard."""

    @property
    def shards(self) -> ShardPlan:
        return ShardPlan(self.shard_count, self.shard_ids)

    @property
    def database(self) -> str:
        """Where the store lives: the database URL, or else the SQLite path."""
        return self.database_url.reveal() or str(self.db_path)

    @property
    def resolved_backend(self) -> str:
        """`openai` or `local`: an explicit choice wins, else a key or base URL picks OpenAI."""
        if self.backend != "auto":
            return self.backend
        return "openai" if (self.openai_api_key or self.openai_base_url) else "local"


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")
    return value


class _Reader:
    """Reads raw strings by name and turns them into checked values."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def text(self, name: str, default: str = "") -> str:
        return self._values.get(name, default).strip()

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        return _choice(name, self.text(name, default), choices)

    def number(self, name: str, default: T, low: float, high: float) -> T:
        """An int or float (the type of `default`) between `low` and `high`."""
        raw = self.text(name, str(default))
        kind = type(default)
        try:
            value = kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{name} must be {what}, not {raw!r}.") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {raw}.")
        return value

    def optional_id(self, name: str) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        if not raw.isdigit():
            raise ConfigError(f"{name} must be a whole number, not {raw!r}.")
        return int(raw)


def read_shards(
    count: str,
    ids: str,
    names: tuple[str, str] = ("AUTOMUSE_SHARD_COUNT", "AUTOMUSE_SHARD_IDS"),
) -> tuple[int | None, tuple[int, ...] | None]:
    """The shard count and shard ids from their raw text, e.g. `4` and `0-1`; errors name the
    setting (or flag) in `names`."""
    try:
        shard_count = parse_shard_count(count, names[0])
        return shard_count, parse_shard_ids(ids, shard_count, names[1])
    except ShardError as error:
        raise ConfigError(str(error)) from None


def database_url(raw: str) -> str:
    """`raw` if it is empty or a database URL AutoMuse can use; otherwise ConfigError."""
    if raw and not raw.startswith(DATABASE_SCHEMES):
        raise ConfigError("AUTOMUSE_DATABASE_URL must start with sqlite:/// or postgresql://.")
    return raw


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | None = ".env"
) -> Settings:
    """Read settings from `environ` (default: the process environment) over `env_file`.

    Real environment variables win over `.env`. Raises ConfigError on the first bad value.
    """
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    env = _Reader(values)
    d = Settings()
    shard_count, shard_ids = read_shards(
        env.text("AUTOMUSE_SHARD_COUNT"), env.text("AUTOMUSE_SHARD_IDS")
    )
    return Settings(
        backend=env.choice("AUTOMUSE_BACKEND", d.backend, BACKENDS),
        openai_api_key=Secret(env.text("OPENAI_API_KEY")),
        openai_base_url=env.text("OPENAI_BASE_URL"),
        model=env.text("AUTOMUSE_MODEL"),
        summary_model=env.text("AUTOMUSE_SUMMARY_MODEL"),
        plan_model=env.text("AUTOMUSE_PLAN_MODEL"),
        style=env.choice("AUTOMUSE_STYLE", d.style, STYLES),
        gguf_path=env.text("AUTOMUSE_GGUF_PATH"),
        threads=env.number("AUTOMUSE_THREADS", d.threads, 0, 256),
        db_path=Path(env.text("AUTOMUSE_DB", str(d.db_path))),
        database_url=Secret(database_url(env.text("AUTOMUSE_DATABASE_URL"))),
        temperature=env.number("AUTOMUSE_TEMPERATURE", d.temperature, 0, 2),
        top_p=env.number("AUTOMUSE_TOP_P", d.top_p, 0.01, 1),
        max_tokens=env.number("AUTOMUSE_MAX_TOKENS", d.max_tokens, 50, 1000),
        context_tokens=env.number("AUTOMUSE_CONTEXT_TOKENS", d.context_tokens, 200, 100_000),
        timeout=env.number("AUTOMUSE_TIMEOUT", d.timeout, 1, 3600),
        max_retries=env.number("AUTOMUSE_MAX_RETRIES", d.max_retries, 0, 10),
        seed=env.optional_id("AUTOMUSE_SEED"),
        discord_token=Secret(env.text("DISCORD_TOKEN")),
        dev_guild_id=env.optional_id("AUTOMUSE_DEV_GUILD"),
        next_cooldown=env.number("AUTOMUSE_NEXT_COOLDOWN", d.next_cooldown, 0, 86_400),
        daily_tokens=env.number("AUTOMUSE_DAILY_TOKENS", d.daily_tokens, 0, 10**12),
        mode=env.choice("AUTOMUSE_MODE", d.mode, ("vote", "solo")),
        candidates=env.number("AUTOMUSE_CANDIDATES", d.candidates, 2, 5),
        ballot_seconds=env.number("AUTOMUSE_BALLOT_SECONDS", d.ballot_seconds, 10, 86_400),
        quorum=env.number("AUTOMUSE_QUORUM", d.quorum, 0, 1000),
        planner=env.choice("AUTOMUSE_PLANNER", "on", ("on", "off")) == "on",
        log_level=env.choice(
            "AUTOMUSE_LOG_LEVEL", "info", ("debug", "info", "warning", "error")
        ).upper(),
        shard_count=shard_count,
        shard_ids=shard_ids,
    )
