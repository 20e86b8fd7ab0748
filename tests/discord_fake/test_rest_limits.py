"""Documented REST behaviour a bot must cope with: rate limits, deleted messages, edit times."""

from __future__ import annotations

import time

import aiohttp
import discord
import pytest

from . import FakeDiscord
from .fixtures import BotRunner
from .test_fake_server import start_bot

MESSAGES = "/channels/{channel_id}/messages"


async def test_a_rate_limited_route_makes_discord_py_wait(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    fake_discord.limit_route("POST", MESSAGES, limit=3, per=1.0)
    story, general = fake_discord.channel("story"), fake_discord.channel("general")
    channel = bot.get_channel(story.id)
    started = time.monotonic()
    for number in range(7):
        await channel.send(f"line {number}")
    elapsed = time.monotonic() - started
    await bot.get_channel(general.id).send("another channel has its own bucket")
    assert [m.content for m in story.messages] == [f"line {n}" for n in range(7)]
    assert elapsed >= 2.0
    assert len(general.messages) == 1


async def test_a_429_has_the_documented_headers_and_body(fake_discord: FakeDiscord) -> None:
    fake_discord.limit_route("POST", MESSAGES, limit=1, per=5.0)
    story = fake_discord.channel("story")
    url = f"{fake_discord.api_base}/channels/{story.id}/messages"
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(url, json={"content": "first"}) as first:
            assert first.status == 200
            assert first.headers["X-RateLimit-Remaining"] == "0"
            assert first.headers["X-RateLimit-Limit"] == "1"
            assert 0 < float(first.headers["X-RateLimit-Reset-After"]) <= 5
        async with session.post(url, json={"content": "second"}) as second:
            assert second.status == 429
            body = await second.json()
            assert body["global"] is False and 0 < body["retry_after"] <= 5
            assert second.headers["X-RateLimit-Bucket"] == first.headers["X-RateLimit-Bucket"]
            assert second.headers["X-RateLimit-Scope"] == "user"
            assert int(second.headers["Retry-After"]) >= 1
            reset = float(second.headers["X-RateLimit-Reset"])
            assert time.time() < reset <= time.time() + 5
    assert [m.content for m in story.messages] == ["first"]
    assert fake_discord.rate_limits.refused == [("POST", MESSAGES)]


async def test_editing_or_reacting_on_a_deleted_message_is_unknown_message(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    channel = bot.get_channel(fake_discord.channel("story").id)
    message = await channel.send("a ballot")
    await message.edit(content="edited once")
    await message.edit(content="edited twice")
    stored = fake_discord.messages[message.id]
    assert [edit.content for edit in stored.edits] == ["edited once", "edited twice"]
    assert stored.created <= stored.edits[0].at <= stored.edits[1].at
    await fake_discord.delete_message(stored)
    for attempt in (message.edit(content="too late"), message.add_reaction("1️⃣")):
        with pytest.raises(discord.NotFound) as caught:
            await attempt
        assert caught.value.code == 10008
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("x" * 2001)
    assert (caught.value.status, caught.value.code) == (400, 50035)
