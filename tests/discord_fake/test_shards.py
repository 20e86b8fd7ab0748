"""The fake Discord's shards: IDENTIFY's shard, /gateway/bot's count, per-shard guild events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord.ext import commands

from . import FakeDiscord
from .fixtures import BotRunner, point_discord_at
from .gateway import GatewaySession, WrongShard


class ShardBot(commands.AutoShardedBot):
    """An AutoShardedBot that records the raw reactions it receives."""

    def __init__(self, **shards: object) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.1,
            **shards,
        )
        self.reactions: list[int] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify every shard at once: the fake has no identify rate limit."""

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self.reactions.append(payload.message_id)


@pytest.fixture
async def two_shards(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A fake recommending 2 shards, with guilds "even" on shard 0 and "odd" on shard 1."""
    fake = FakeDiscord(shard_count=2)
    for name, shard in (("even", 0), ("odd", 1)):
        guild = fake.add_guild(name, owner=f"{name}-owner", shard=shard)
        fake.add_channel(guild, f"{name}-story")
        fake.add_member(guild, f"{name}-reader")
    await fake.start()
    point_discord_at(fake, monkeypatch)
    yield fake
    await fake.stop()
    assert not fake.problems, fake.problems


async def test_guilds_are_placed_on_the_shard_asked_for(two_shards: FakeDiscord) -> None:
    even, odd = (two_shards.channel(f"{n}-story").guild for n in ("even", "odd"))
    assert (even.id >> 22) % 2 == 0 and (odd.id >> 22) % 2 == 1
    assert two_shards.shard_of(even) == 0 and two_shards.shard_of(odd) == 1


async def test_each_shard_process_sees_only_its_own_guilds_and_their_events(
    two_shards: FakeDiscord,
) -> None:
    runner = BotRunner(two_shards)
    bots = [await runner.start(ShardBot(shard_count=2, shard_ids=[i])) for i in (0, 1)]
    try:
        assert sorted(i["shard"] for i in two_shards.identifies) == [[0, 2], [1, 2]]
        assert [[g.name for g in bot.guilds] for bot in bots] == [["even"], ["odd"]]
        for index, name in enumerate(("even", "odd")):
            channel = two_shards.channel(f"{name}-story")
            note = await two_shards.post_message(channel, two_shards.member(f"{name}-reader"), "x")
            await two_shards.react(note, "👍", two_shards.member(f"{name}-reader"))
            await two_shards.wait_for(lambda note=note, i=index: note.id in bots[i].reactions)
            assert note.id not in bots[1 - index].reactions
    finally:
        await runner.stop_all()


async def test_a_command_needs_the_shard_that_owns_its_guild(two_shards: FakeDiscord) -> None:
    runner = BotRunner(two_shards)
    await runner.start(ShardBot(shard_count=2, shard_ids=[0]))
    try:
        odd_story = two_shards.channel("odd-story")
        with pytest.raises(RuntimeError, match="no bot shard owning odd is connected"):
            await two_shards.invoke("help", user=two_shards.member("odd-reader"), channel=odd_story)
        assert two_shards.shards_connected() == {(0, 2)}
    finally:
        await runner.stop_all()


async def test_automatic_sharding_follows_the_recommended_count(two_shards: FakeDiscord) -> None:
    runner = BotRunner(two_shards)
    bot = await runner.start(ShardBot())
    try:
        assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
        assert sorted(g.name for g in bot.guilds) == ["even", "odd"]
        assert two_shards.shards_connected() == {(0, 2), (1, 2)}
    finally:
        await runner.stop_all()


async def test_gateway_bot_reports_the_shard_count(two_shards: FakeDiscord) -> None:
    headers = {"Authorization": f"Bot {two_shards.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{two_shards.api_base}/gateway/bot") as response:
            body = await response.json()
        async with session.get(f"{two_shards.api_base}/gateway") as response:
            plain = await response.json()
    assert body["shards"] == 2 and body["url"] == two_shards.gateway_url
    assert plain == {"url": two_shards.gateway_url}


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], "0,1"])
async def test_an_invalid_shard_is_closed_with_4010(two_shards: FakeDiscord, shard) -> None:
    identify = {"token": two_shards.token, "intents": 0, "properties": {}, "shard": shard}
    async with aiohttp.ClientSession() as session, session.ws_connect(two_shards.gateway_url) as ws:
        await ws.receive()  # HELLO
        await ws.send_str(json.dumps({"op": 2, "d": identify}))
        await ws.receive()
        assert ws.close_code == 4010
    assert two_shards.identifies == []


async def test_a_guild_event_for_another_shard_fails_loudly(two_shards: FakeDiscord) -> None:
    odd = two_shards.channel("odd-story").guild
    session = GatewaySession(None, "s", 0, shard=(0, 2))  # type: ignore[arg-type]
    with pytest.raises(WrongShard):
        await session.dispatch("MESSAGE_REACTION_ADD", {"guild_id": str(odd.id)})
    with pytest.raises(WrongShard):
        await session.dispatch("GUILD_CREATE", odd.to_dict())
