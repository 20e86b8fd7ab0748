"""Fixtures for tests that run the bot as OS processes: a scripted model server and a sharded
fake Discord, both served from the test's event loop on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from discord_fake import FakeDiscord, Interaction
from scripted_openai import ScriptedOpenAI

from bot.store import Store

READERS = 5
"""Members in each guild besides its owner: even-reader0… and odd-reader0…"""


@pytest.fixture
async def model_server() -> AsyncIterator[ScriptedOpenAI]:
    """A scripted OpenAI-compatible server answering after 0.2 s (change `latency` at will)."""
    server = ScriptedOpenAI(latency=0.2)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def two_shard_discord() -> AsyncIterator[FakeDiscord]:
    """Guild "even" on shard 0 and guild "odd" on shard 1, each with a story channel."""
    fake = FakeDiscord(shard_count=2, interaction_deadline=10.0)
    for name, shard in (("even", 0), ("odd", 1)):
        guild = fake.add_guild(name, owner=f"{name}-owner", shard=shard)
        fake.add_channel(guild, f"{name}-story")
        for n in range(READERS):
            fake.add_member(guild, f"{name}-reader{n}")
    await fake.start()
    yield fake
    await fake.stop()
    assert not fake.problems, fake.problems


async def story_started(fake: FakeDiscord, start: Interaction, database: str) -> None:
    """Wait until /story start has posted the opening and its summary is stored (after the
    opening is posted, the summary is still being written and /next would be refused)."""
    await fake.wait_for(lambda: any("§1" in m.content for m in start.messages), 30)
    channel = start.channel
    for _ in range(300):
        store = await Store.open(database, create=False)
        try:
            story = await store.active_story(channel.guild.id, channel.id)
            line = await store.line(story.head_id) if story else []
        finally:
            await store.close()
        if line and line[0].summary:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the opening's summary was not stored within 30 s")
