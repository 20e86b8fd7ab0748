"""The story write lease as processes see it: renewed while held, lapsing when its holder
dies."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.engine import Engine, EngineConfig
from bot.errors import Busy
from bot.leases import story_lease
from bot.llm import Models
from bot.llm.scripted import ScriptedModel
from bot.settings import StorySettings
from bot.store import Store
from tests.stories import stored_story

ROOT = Path(__file__).resolve().parents[1]
LEASE_SECONDS = 2.0
WRITER = """
import asyncio, sys
from bot.engine import Engine, EngineConfig
from bot.llm import Models
from bot.llm.scripted import ScriptedModel
from bot.settings import StorySettings
from bot.store import Store

async def write(url, story_id):
    store = await Store.open(url)
    model = ScriptedModel(["never sent"], latency=600)
    off = StorySettings(planner=False)
    config = EngineConfig(story_defaults=off, lease_seconds=float(sys.argv[3]))
    engine = Engine(store, Models(model, model), config)
    await engine.next(story_id)

asyncio.run(write(sys.argv[1], int(sys.argv[2])))
"""


async def test_a_held_lease_is_renewed_for_as_long_as_it_is_held(store):
    story = await stored_story(store)
    async with story_lease(store, story, seconds=0.3) as held:
        assert held
        for _ in range(6):
            await asyncio.sleep(0.2)
            assert not await store.take_lease(story, "other", time.time(), 0.3)
    assert await store.take_lease(story, "other", time.time(), 0.3)


async def test_a_lease_held_elsewhere_yields_false_and_is_left_alone(store):
    story = await stored_story(store)
    assert await store.take_lease(story, "elsewhere", time.time(), 30)
    async with story_lease(store, story, seconds=30) as held:
        assert not held
    assert await store.lease_held(story, time.time())


async def test_a_killed_writers_lease_lapses_and_then_another_process_can_write(database_url):
    store = await Store.open(database_url)
    writer = None
    try:
        story = await stored_story(store)
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, str(story), str(LEASE_SECONDS)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not await store.lease_held(story, time.time()):
            assert writer.poll() is None, writer.stderr.read().decode() if writer.stderr else ""
            assert time.monotonic() < deadline, "the writer never took the lease"
            await asyncio.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        killed_at = time.monotonic()

        model = ScriptedModel(["The keeper relit it with a match from her pocket.", "Relit."])
        engine = Engine(
            store,
            Models(model, model),
            EngineConfig(story_defaults=StorySettings(planner=False), lease_seconds=LEASE_SECONDS),
        )
        with pytest.raises(Busy, match="already being written"):
            await engine.next(story)
        assert model.prompts == []
        while await store.lease_held(story, time.time()):
            assert time.monotonic() - killed_at < LEASE_SECONDS + 5, "the lease never lapsed"
            await asyncio.sleep(0.1)
        passage = await engine.next(story)
        assert passage.text == "The keeper relit it with a match from her pocket."
        assert not await store.lease_held(story, time.time())
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
            writer.wait(timeout=10)
        await store.close()


@pytest.mark.parametrize(
    ("what", "told"),
    [
        ("undo", "The story is being changed (undo); try again in a moment."),
        ("retry", "The latest passage is being written again; try again in a moment."),
        ("next", "A passage is already being written for this story."),
    ],
)
async def test_a_refusal_says_what_the_story_is_busy_with(store, what, told):
    story = await stored_story(store)
    model = ScriptedModel()
    config = EngineConfig(story_defaults=StorySettings(planner=False))
    engine = Engine(store, Models(model, model), config)
    async with story_lease(store, story, seconds=30, what=what) as held:
        assert held
        with pytest.raises(Busy) as refused:
            await engine.next(story)
        with pytest.raises(Busy) as refused_early:
            await engine.locks.ensure_idle(story)
    assert str(refused.value) == str(refused_early.value) == told
    assert model.prompts == []
