"""Pytest fixtures: a started FakeDiscord that discord.py is pointed at, and a bot runner.

Use them from a conftest with ``pytest_plugins = ["tests.discord_fake.fixtures"]`` or by
importing the fixture functions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from .fake import FakeDiscord


def point_discord_at(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send discord.py's REST calls and gateway connections to ``fake``."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A running fake with guild "Story Club": channels general and story; owner, alice, bob.

    Fails the test if the fake met a request it could not handle.
    """
    fake = FakeDiscord()
    guild = fake.add_guild("Story Club", owner="owner")
    fake.add_channel(guild, "general")
    fake.add_channel(guild, "story")
    fake.add_member(guild, "alice")
    fake.add_member(guild, "bob")
    await fake.start()
    point_discord_at(fake, monkeypatch)
    yield fake
    await fake.stop()
    assert not fake.problems, f"the fake Discord could not handle: {fake.problems}"


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def discord_errors() -> Iterator[list[logging.LogRecord]]:
    """ERROR records logged by discord.py (e.g. app-command errors that only reach the log).

    The test fails at teardown if any are left: clear the list after asserting expected ones.
    """
    collector = _Collector()
    logger = logging.getLogger("discord")
    logger.addHandler(collector)
    yield collector.records
    logger.removeHandler(collector)
    if collector.records:
        messages = [collector.format(record) for record in collector.records]
        pytest.fail("discord.py logged errors:\n" + "\n".join(messages))


class BotRunner:
    """Starts bots against the fake with ``bot.start(token)`` and closes them again."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self._tasks: dict[discord.Client, asyncio.Task[None]] = {}

    async def start(self, bot: discord.Client, *, timeout: float = 10.0) -> discord.Client:
        """Log ``bot`` in and return it once ready (its startup error is raised instead)."""
        task = asyncio.create_task(bot.start(self.fake.token))
        self._tasks[bot] = task
        await self.fake.wait_for(lambda: task.done() or bot.is_ready(), timeout)
        if task.done():
            del self._tasks[bot]
            await bot.close()
            task.result()
            raise RuntimeError("the bot stopped before it was ready")
        return bot

    async def stop(self, bot: discord.Client) -> None:
        """Close ``bot`` and wait until the fake has seen its gateway connections go."""
        task = self._tasks.pop(bot)
        shards = len(bot.shards) if isinstance(bot, discord.AutoShardedClient) else 1
        remaining = self.fake.connections - shards
        await bot.close()
        await task
        await self.fake.wait_for(lambda: self.fake.connections <= remaining)

    async def stop_all(self) -> None:
        for bot in list(self._tasks):
            await self.stop(bot)


@pytest.fixture
async def bot_runner(
    fake_discord: FakeDiscord, discord_errors: list[logging.LogRecord]
) -> AsyncIterator[BotRunner]:
    """Start bots with ``await bot_runner.start(bot)``; all are closed at teardown.

    Build bots with a small ``guild_ready_timeout`` (e.g. 0.1) so they are ready quickly.
    """
    runner = BotRunner(fake_discord)
    yield runner
    await runner.stop_all()
