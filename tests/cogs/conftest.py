"""The real bot, logged into the fake Discord, with a scripted model and a controllable clock."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import discord
import pytest
from discord_fake import FakeDiscord, Interaction, Message
from discord_fake.fixtures import BotRunner

from bot.client import AutoMuse
from bot.config import load_settings
from bot.llm import Model, Models
from bot.llm.scripted import ScriptedModel

OPENING = "Mira climbed the lighthouse stairs with a lantern, counting the steps as she went."


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Chat:
    """Acting in the fake Discord's #story channel and waiting for the bot's answers.

    `finished` holds the ids of interactions whose command has returned (filled by the bots
    `start_bot` starts), so a reply that is still being edited is not taken for the answer.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.channel = fake.channel("story")
        self.finished: set[int] = set()

    async def run(
        self,
        command: str,
        options: dict | None = None,
        *,
        user: str = "alice",
        replies: int = 1,
        timeout: float = 10,
    ) -> Interaction:
        """Invoke `command` as `user` and wait until it has `replies` visible messages and
        has finished (or answered with an error, which is always private)."""
        interaction = await self.fake.invoke(
            command, options, user=self.fake.member(user), channel=self.channel
        )

        def answered() -> bool:
            messages = interaction.messages
            done = interaction.id in self.finished or any(m.ephemeral for m in messages)
            return len(messages) >= replies and done

        await self.fake.wait_for(answered, timeout=timeout)
        assert not interaction.failed
        return interaction

    def posted(self) -> list[Message]:
        """The channel's visible, non-ephemeral messages, oldest first."""
        return [
            m
            for m in self.fake.messages.values()
            if m.channel is self.channel and not m.ephemeral and not m.deleted and not m.loading
        ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def chat(fake_discord: FakeDiscord) -> Chat:
    return Chat(fake_discord)


@pytest.fixture
def bot_errors() -> Iterator[list[logging.LogRecord]]:
    """Errors the bot itself logged; any left at teardown fail the test."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("bot")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    if records:
        pytest.fail("the bot logged errors: " + "; ".join(r.getMessage() for r in records))


StartBot = Callable[..., Awaitable[AutoMuse]]


@pytest.fixture
def start_bot(
    bot_runner: BotRunner,
    tmp_path: Path,
    clock: Clock,
    model: ScriptedModel,
    chat: Chat,
    bot_errors,
) -> StartBot:
    """Start a fresh AutoMuse on the test's database; call again after a stop to restart.

    Stories default to solo mode here; ballot tests ask for AUTOMUSE_MODE="vote". The
    planner is off, so the scripted model's answers are passages and summaries only; planner
    tests ask for AUTOMUSE_PLANNER="on".
    """

    async def start(passage_model: Model | None = None, **environ: str) -> AutoMuse:
        settings = load_settings(
            environ={
                "AUTOMUSE_DB": str(tmp_path / "bot.db"),
                "AUTOMUSE_NEXT_COOLDOWN": "0",
                "AUTOMUSE_MODE": "solo",
                "AUTOMUSE_PLANNER": "off",
                **environ,
            },
            env_file=None,
        )
        chosen = passage_model or model
        bot = AutoMuse(
            settings,
            models=Models(chosen, chosen),
            clock=clock,
            ballot_tick=0.02,
            ballot_refresh=0.05,
            progress_interval=0.05,
            stream_interval=0.05,
            guild_ready_timeout=0.1,
        )

        async def finished(interaction: discord.Interaction, command: object) -> None:
            chat.finished.add(interaction.id)

        bot.add_listener(finished, "on_app_command_completion")
        await bot_runner.start(bot)
        return bot

    return start
