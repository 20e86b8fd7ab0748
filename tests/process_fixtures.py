"""Fixtures for tests that run the bot as OS processes: a scripted model server and a sharded
fake Discord, both served from the test's event loop on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discord_fake import FakeDiscord
from scripted_openai import ScriptedOpenAI

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
