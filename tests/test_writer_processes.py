"""One story, two processes: the bot's /next and `automuse write --story` on one database."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from bot_process import REPO, BotProcess, clean_environment
from discord_fake import FakeDiscord
from process_fixtures import story_started
from scripted_openai import ScriptedOpenAI
from test_shard_processes import OPENING

from bot.store import Store


async def automuse_write(env: dict[str, str], story_id: int) -> asyncio.subprocess.Process:
    """`automuse write --story ID -n 1` as its own process."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "write",
        "--story",
        str(story_id),
        "-n",
        "1",
        cwd=REPO,
        env=clean_environment(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def summary_written(database_url: str, story_id: int) -> None:
    """Wait until the story's latest passage has its rolling summary and the story's lease is
    free: after posting the passage the bot writes the summary and plans the next beat,
    holding the lease."""
    store = await Store.open(database_url)
    try:
        async with asyncio.timeout(30):
            while True:
                story = await store.story(story_id)
                head = await store.passage(story.head_id)
                summarised = head is not None and head.summary is not None
                if summarised and not await store.lease_held(story_id, time.time()):
                    return
                await asyncio.sleep(0.2)
    finally:
        await store.close()


def passage_calls(model_server: ScriptedOpenAI) -> int:
    return sum(call.kind == "passage" for call in model_server.calls)


async def test_one_story_has_one_writer_across_processes(
    two_shard_discord: FakeDiscord, model_server: ScriptedOpenAI, database_url: str, tmp_path: Path
) -> None:
    fake = two_shard_discord
    env = {
        "AUTOMUSE_DATABASE_URL": database_url,
        "OPENAI_BASE_URL": model_server.base_url,
        "AUTOMUSE_MODEL": "scripted",
        "AUTOMUSE_NEXT_COOLDOWN": "0",
        "AUTOMUSE_DAILY_TOKENS": "0",
        "AUTOMUSE_MODE": "solo",
        "AUTOMUSE_LOG_LEVEL": "warning",
    }
    bot = BotProcess(fake, env, ("--shard-count", "2", "--shards", "0"), tmp_path / "bot.log")
    bot.start()
    try:
        await bot.connected({(0, 2)})
        channel, member = fake.channel("even-story"), fake.member("even-reader0")
        start = await fake.invoke("story start", {"opening": OPENING}, user=member, channel=channel)
        await story_started(fake, start, database_url)
        store = await Store.open(database_url)
        try:
            story = await store.active_story(channel.guild.id, channel.id)
            assert story is not None
        finally:
            await store.close()
        await summary_written(database_url, story.id)
        model_server.latency = 10.0  # longer than a busy machine takes to start `automuse`

        # The bot writes first: the terminal is refused before it calls the model.
        before = passage_calls(model_server)
        by_bot = await fake.invoke("next", user=member, channel=channel)
        await fake.wait_for(lambda: passage_calls(model_server) == before + 1, 10)
        terminal = await automuse_write(env, story.id)
        out, err = await asyncio.wait_for(terminal.communicate(), 60)
        assert terminal.returncode == 2, err.decode()
        refusal = err.decode().strip().splitlines()[-1]
        assert refusal == "automuse: A passage is already being written for this story."
        assert passage_calls(model_server) == before + 1
        await fake.wait_for(lambda: any("§2" in m.content for m in by_bot.messages), 30)
        await summary_written(database_url, story.id)

        # The terminal writes first: the bot is refused, to the member only.
        model_server.latency = 4.0
        before = passage_calls(model_server)
        terminal = await automuse_write(env, story.id)
        await fake.wait_for(lambda: passage_calls(model_server) == before + 1, 30)
        refused = await fake.invoke("next", user=member, channel=channel)
        await fake.wait_for(lambda: refused.messages and not refused.messages[0].loading, 10)
        assert [m.content for m in refused.messages] == [
            "A passage is already being written for this story."
        ]
        assert refused.messages[0].ephemeral and passage_calls(model_server) == before + 1
        out, err = await asyncio.wait_for(terminal.communicate(), 60)
        assert terminal.returncode == 0, err.decode()
        assert "§3" in out.decode()
    finally:
        await bot.stop()

    store = await Store.open(database_url)
    try:
        line = await store.line((await store.story(story.id)).head_id)
        assert len(line) == 3 and len({p.text for p in line}) == 3
        logged = await store.calls(story.id)
        assert len(logged) == len(model_server.calls), (
            "every model call is logged, and no others made"
        )
    finally:
        await store.close()
