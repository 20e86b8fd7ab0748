"""The bot as OS processes for the load benchmark, one per shard, on one database.

A fake Discord (sharded: one guild per shard) and a scripted OpenAI-compatible model server run
in this process; each shard is `automuse run --shard-count N --shards I` in its own.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO, scene_rows
from bot.store import NewPassage, Store

sys.path.insert(0, str(REPO / "tests"))
from bot_process import BotProcess
from discord_fake import Channel, FakeDiscord, Interaction
from scripted_openai import ScriptedOpenAI

PASSAGES = 50
"""Passages in every story of the benchmark's database."""


@dataclass(frozen=True)
class Timing:
    """Where one `/next` spent its time, in milliseconds."""

    total: float
    before_model: float
    """From the command to the first model call: reading the story, checks, the reply."""
    between_calls: float
    """From the first model call to the last (the model answers at once)."""
    after_model: float
    """From the last model call to the passage posted: storing it and posting it."""


@dataclass
class Bots:
    """What a benchmark case acts on."""

    fake: FakeDiscord
    channels: list[Channel]
    """Story channels, alternating between the shards' guilds."""
    model: ScriptedOpenAI
    processes: list[BotProcess]
    database: str

    async def next(self, channel: Channel) -> Interaction:
        member = self.fake.member(f"{channel.guild.name}-{channel.name}")
        return await self.fake.invoke("next", user=member, channel=channel)

    async def next_timed(self, channel: Channel) -> Timing:
        """One `/next` timed, with the model answering at once (latency 0)."""
        calls = len(self.model.calls)
        started = time.time()
        interaction = await self.next(channel)
        await self.fake.wait_for(lambda: posted(interaction), timeout=30)
        ended = time.time()
        arrivals = [call.arrived for call in self.model.calls[calls:]] or [ended]
        return Timing(
            total=(ended - started) * 1000,
            before_model=(arrivals[0] - started) * 1000,
            between_calls=(arrivals[-1] - arrivals[0]) * 1000,
            after_model=(ended - arrivals[-1]) * 1000,
        )

    async def lost_or_duplicated(
        self, channels: list[Channel], interactions: list[Interaction]
    ) -> int:
        """Passages missing or extra in the database: a posted passage must be stored once, and
        a command that was never answered must have added nothing."""
        store = await Store.open(self.database, create=False)
        try:
            wrong = 0
            for channel, interaction in zip(channels, interactions, strict=True):
                story = await store.active_story(channel.guild.id, channel.id)
                assert story is not None
                expected = PASSAGES + (1 if posted(interaction) else 0)
                wrong += abs(len(await store.line(story.head_id)) - expected)
        finally:
            await store.close()
        return wrong

    def peak_rss_mb(self) -> list[float]:
        """Each bot process's peak resident memory so far (Linux's VmHWM), in MB."""
        sizes = []
        for process in self.processes:
            assert process.process is not None
            status = Path(f"/proc/{process.process.pid}/status").read_text()
            kilobytes = next(line.split()[1] for line in status.splitlines() if "VmHWM" in line)
            sizes.append(round(int(kilobytes) / 1024, 1))
        return sizes


def posted(interaction: Interaction) -> bool:
    """Answered with the finished passage (or opening): a numbered passage, not a progress line
    ("✍️ Writing…") and not a passage still streaming in, whose preview ends with " …"."""
    if not interaction.messages or interaction.messages[0].ephemeral:
        return False
    content = interaction.messages[0].content
    return "**§" in content and not content.endswith(" …")


def settled(interaction: Interaction) -> bool:
    """Answered for good: the finished passage posted, refused privately, or never
    acknowledged in time. Progress lines and a passage still streaming in are not answers."""
    refused = any(message.ephemeral for message in interaction.messages)
    return interaction.failed or refused or posted(interaction)


def database_settings(database: str) -> dict[str, str]:
    """The environment that points `automuse` at `database` (a SQLite path or a URL)."""
    if database.startswith("postgresql://"):
        return {"AUTOMUSE_DATABASE_URL": database}
    return {"AUTOMUSE_DB": database.removeprefix("sqlite:///")}


async def fill_database(database: str, channels: list[Channel], extra: int) -> float:
    """One story of 50 passages per channel, plus `extra` in other servers; the seconds taken."""
    started = time.perf_counter()
    scenes = [row["completion"].removesuffix(" END").strip() for row in scene_rows()]
    store = await Store.open(database)
    try:
        targets = [(channel.guild.id, channel.id) for channel in channels]
        others = [(10_000 + n, n) for n in range(extra)]
        for number, (guild, channel) in enumerate(targets + others):
            passages = [
                NewPassage(text=scenes[(number + k) % len(scenes)], summary="So far.")
                for k in range(PASSAGES)
            ]
            await store.import_story(
                guild_id=guild,
                channel_id=channel,
                title=f"Story {number}",
                started_by=None,
                settings={"mode": "solo"},
                passages=passages,
            )
    finally:
        await store.close()
    return time.perf_counter() - started


def sharded_discord(shards: int, channels_per_shard: int) -> tuple[FakeDiscord, list[Channel]]:
    """A fake recommending `shards` shards, with one guild per shard, holding the channels, and
    a member GUILD-CHANNEL for each channel (a member's /next has a cooldown)."""
    fake = FakeDiscord(shard_count=shards)
    per_guild = []
    for shard in range(shards):
        guild = fake.add_guild(f"shard{shard}", owner=f"owner-{shard}", shard=shard)
        channels = [fake.add_channel(guild, f"story-{n}") for n in range(channels_per_shard)]
        for channel in channels:
            fake.add_member(guild, f"{guild.name}-{channel.name}")
        per_guild.append(channels)
    channels = [channel for group in zip(*per_guild, strict=True) for channel in group]
    return fake, channels


@asynccontextmanager
async def running_bots(
    fake: FakeDiscord, channels: list[Channel], database: str, shards: int, logs: Path
) -> AsyncIterator[Bots]:
    """Start the fake, the model server and one bot process per shard; stop them all after."""
    model = ScriptedOpenAI()
    await fake.start()
    await model.start()
    env = {
        **database_settings(database),
        "OPENAI_BASE_URL": model.base_url,
        "AUTOMUSE_MODEL": "scripted",
        "AUTOMUSE_NEXT_COOLDOWN": "0",
        "AUTOMUSE_DAILY_TOKENS": "0",
        "AUTOMUSE_MODE": "solo",
        "AUTOMUSE_LOG_LEVEL": "warning",
    }
    processes = [
        BotProcess(
            fake,
            env,
            ("--shard-count", str(shards), "--shards", str(shard)) if shards > 1 else (),
            logs / f"shard{shard}.log",
        )
        for shard in range(shards)
    ]
    try:
        for process in processes:
            process.start()
        await asyncio.gather(
            *(p.connected({(n, shards)}, timeout=120) for n, p in enumerate(processes))
        )
        yield Bots(fake, channels, model, processes, database)
    finally:
        for process in processes:
            await process.stop()
        await model.stop()
        await fake.stop()
