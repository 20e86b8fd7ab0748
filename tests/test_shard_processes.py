"""Two bot processes, shards 0 and 1 of 2, on one PostgreSQL, logged into the fake Discord."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bot_process import BotProcess
from discord_fake import Channel, FakeDiscord, Message
from process_fixtures import READERS, story_started
from scripted_openai import ScriptedOpenAI

from bot.store import Store
from tests.postgres_server import PostgresServer

BALLOT_SECONDS = 10
OPENING = "The ferry left without its captain, and nobody aboard admitted to steering it."
OPTIONS = ("1️⃣", "2️⃣", "3️⃣", "🔁")


@dataclass
class Shards:
    fake: FakeDiscord
    processes: list[BotProcess]
    database: str

    async def start(self, shard: int) -> None:
        self.processes[shard].start()
        await self.processes[shard].connected({(shard, 2)})

    def logs(self) -> str:
        return "\n".join(p.output() for p in self.processes)


@pytest.fixture
async def shards(
    two_shard_discord: FakeDiscord,
    model_server: ScriptedOpenAI,
    postgres: PostgresServer,
    tmp_path: Path,
) -> AsyncIterator[Shards]:
    database = await postgres.new_database()
    env = {
        "AUTOMUSE_DATABASE_URL": database,
        "OPENAI_BASE_URL": model_server.base_url,
        "AUTOMUSE_MODEL": "scripted",
        "AUTOMUSE_BALLOT_SECONDS": str(BALLOT_SECONDS),
        "AUTOMUSE_NEXT_COOLDOWN": "0",
        "AUTOMUSE_DAILY_TOKENS": "0",
        "AUTOMUSE_MODE": "vote",
        "AUTOMUSE_SHARD_COUNT": "2",
    }
    processes = [
        BotProcess(
            two_shard_discord,
            {**env, "AUTOMUSE_SHARD_IDS": str(shard)},
            (),
            tmp_path / f"shard{shard}.log",
        )
        for shard in (0, 1)
    ]
    group = Shards(two_shard_discord, processes, database)
    try:
        await asyncio.gather(group.start(0), group.start(1))
        yield group
    finally:
        for process in processes:
            await process.stop()


def ballot_message(channel: Channel) -> Message | None:
    """The channel's ballot message, once the bot has added every option's reaction."""
    for message in channel.messages:
        if all(message.reactors(emoji) for emoji in OPTIONS):
            return message
    return None


def chosen_posts(channel: Channel) -> list[Message]:
    return [m for m in channel.messages if "chosen by vote" in m.content]


async def open_ballot(fake: FakeDiscord, database: str, name: str) -> Message:
    """Start a story in the guild's channel and run /next, which opens a passage ballot."""
    channel, starter = fake.channel(f"{name}-story"), fake.member(f"{name}-owner")
    start = await fake.invoke("story start", {"opening": OPENING}, user=starter, channel=channel)
    await story_started(fake, start, database)
    await fake.invoke("next", user=starter, channel=channel)
    return await fake.wait_for(lambda: ballot_message(channel), 30)


async def vote(fake: FakeDiscord, ballot: Message, name: str, emoji: str, readers: range) -> None:
    for n in readers:
        await fake.react(ballot, emoji, fake.member(f"{name}-reader{n}"))


async def votes_logged(database: str, message_id: int) -> int:
    store = await Store.open(database)
    try:
        ballot = await store.ballot_by_message(message_id)
        return 0 if ballot is None else len(await store.votes(ballot.id))
    finally:
        await store.close()


async def test_a_killed_shard_process_resumes_its_ballot_and_it_closes_exactly_once(
    shards: Shards,
) -> None:
    fake = shards.fake
    even, odd = await asyncio.gather(
        open_ballot(fake, shards.database, "even"), open_ballot(fake, shards.database, "odd")
    )
    opened = time.time()
    await vote(fake, even, "even", "1️⃣", range(2))
    await vote(fake, odd, "odd", "1️⃣", range(2))
    await fake.wait_for(lambda: True)
    for _ in range(100):
        if await votes_logged(shards.database, even.id) == 2:
            break
        await asyncio.sleep(0.1)
    assert await votes_logged(shards.database, even.id) == 2, shards.logs()

    shards.processes[0].kill()
    await fake.wait_for(lambda: (0, 2) not in fake.shards_connected())
    await vote(fake, even, "even", "2️⃣", range(2, READERS))
    # Past the deadline the even ballot is still open: shard 1 never touches shard 0's ballots.
    await fake.wait_for(lambda: chosen_posts(odd.channel), BALLOT_SECONDS + 20)
    await asyncio.sleep(max(0.0, opened + BALLOT_SECONDS + 2 - time.time()))
    assert not chosen_posts(even.channel)

    await shards.start(0)
    await fake.wait_for(lambda: chosen_posts(even.channel), 30)
    await asyncio.sleep(3)  # time for any second close to show

    for channel in (even.channel, odd.channel):
        assert len(chosen_posts(channel)) == 1, shards.logs()
    store = await Store.open(shards.database)
    try:
        stories = await store.stories()
        assert sorted(count for _, count in stories) == [2, 2]
        texts = []
        for story, _ in stories:
            line = await store.line(story.head_id)
            assert line[0].text == OPENING
            closed = await store.closed_passage_ballots(story.id)
            assert len(closed) == 1 and await store.open_ballot(story.id, "passage") is None
            winner = next(o for o in closed[0].options if o.id == closed[0].winner_id)
            assert winner.passage_id == line[-1].id
            expected = "2️⃣" if story.guild_id == even.guild.id else "1️⃣"
            assert winner.emoji == expected
            post = chosen_posts(fake.find_channel(story.channel_id or 0))[0]
            assert line[-1].text[:200] in post.content
            texts += [p.text for p in await store.children(line[0].id)]
        assert len(texts) == len(set(texts)) == 6, "3 candidates a ballot, none lost or doubled"
    finally:
        await store.close()
