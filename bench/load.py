"""Bot overhead and load, through the Discord-compatible fake server with the real bot.

Three scenarios, each in its own process so each reports its own peak memory:

- overhead: /next one at a time on a database holding 10,000 stories of 50 passages; the time
  from the interaction to the posted passage, minus the time spent inside the model;
- concurrency: 200 channels issue /next at the same moment, the scripted model answering
  each call after 1 s; wall time, lost or duplicated passages, worst event-loop lag;
- embedded: the embedded model writes while the event loop's lag is measured.

Run: `python -m bench.load` (all) or `python -m bench.load --scenario NAME` (one, JSON out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bench.common import REPO, Timed, machine, plot_path, scene_rows, table, write_results
from bot.client import AutoMuse
from bot.config import load_settings
from bot.llm import Model, Models, Prompt, Sampling, prompt_text
from bot.llm.local import LocalModel
from bot.llm.scripted import ScriptedModel
from bot.prompts import template
from bot.store import NewPassage, Store

sys.path.insert(0, str(REPO / "tests"))
from discord_fake import Channel, FakeDiscord, Interaction

TARGETS = {
    "overhead median (ms)": 5.0,
    "overhead p99 (ms)": 25.0,
    "200-channel wall time (s)": 3.0,
    "lost or duplicated passages": 0,
    "event-loop lag, embedded model (ms)": 100.0,
}


def scripted_writer(latency: float, seed: int = 0) -> ScriptedModel:
    """Answers passage prompts with real scenes from the scenesim data, summaries with their
    first sentences, after `latency` seconds."""
    scenes = [row["completion"].removesuffix(" END").strip() for row in scene_rows()]
    rng = random.Random(seed)
    summary_marker = template("summary_chat").splitlines()[0]

    def answer(prompt: Prompt, sampling: Sampling) -> str:
        scene = rng.choice(scenes)
        if summary_marker in prompt_text(prompt):
            return " ".join(scene.split()[:60])
        return scene

    return ScriptedModel(fallback=answer, latency=latency, name="scripted")


class LagMeter:
    """Measures how late the event loop wakes a task that sleeps for 5 ms at a time."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, loop.time() - before - 0.005)

    def start(self) -> None:
        self.worst = 0.0
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        return self.worst


async def fill_database(path: Path, guild_id: int, channels: list[Channel], extra: int) -> None:
    """`extra` stories of 50 passages in other servers, plus one per fake channel."""
    scenes = [row["completion"].removesuffix(" END").strip() for row in scene_rows()]
    store = await Store.open(path)
    try:
        targets = [(guild_id, channel.id) for channel in channels]
        others = [(10_000 + n, n) for n in range(extra)]
        for number, (guild, channel) in enumerate(targets + others):
            passages = [
                NewPassage(text=scenes[(number + k) % len(scenes)], summary="So far.")
                for k in range(50)
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


def fake_discord(channels: int) -> tuple[FakeDiscord, list[Channel]]:
    """A fake Discord with one server, `channels` channels and a member, alice."""
    fake = FakeDiscord()
    guild = fake.add_guild("Bench")
    made = [fake.add_channel(guild, f"story-{n}") for n in range(channels)]
    fake.add_member(guild, "alice")
    return fake, made


@asynccontextmanager
async def running_bot(fake: FakeDiscord, db: Path, model: Model) -> AsyncIterator[AutoMuse]:
    """The fake Discord started, and the real bot logged into it."""
    await fake.start()
    discord.http.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    settings = load_settings(
        environ={
            "AUTOMUSE_DB": str(db),
            "AUTOMUSE_NEXT_COOLDOWN": "0",
            "AUTOMUSE_DAILY_TOKENS": "0",
            "AUTOMUSE_MODE": "solo",
            "AUTOMUSE_LOG_LEVEL": "warning",
        },
        env_file=None,
    )
    bot = AutoMuse(settings, models=Models(model, model), guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(fake.token))
    await fake.wait_for(bot.is_ready, timeout=60)
    try:
        yield bot
    finally:
        await bot.close()
        await task
        await fake.stop()


async def next_in(fake: FakeDiscord, channel: Channel) -> Interaction:
    return await fake.invoke("next", user=fake.member("alice"), channel=channel)


def posted(interaction: Interaction) -> bool:
    return bool(interaction.messages) and not interaction.messages[0].ephemeral


async def overhead(calls: int, extra_stories: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        fake, channels = fake_discord(20)
        built = time.perf_counter()
        await fill_database(db, channels[0].guild.id, channels, extra=extra_stories)
        build_seconds = time.perf_counter() - built
        model = Timed(scripted_writer(latency=0.0))
        async with running_bot(fake, db, model) as bot:
            samples = []
            for n in range(calls):
                channel = channels[n % len(channels)]
                model.seconds = 0.0
                started = time.perf_counter()
                interaction = await next_in(fake, channel)
                await fake.wait_for(lambda ix=interaction: posted(ix), timeout=30)
                samples.append((time.perf_counter() - started - model.seconds) * 1000)
            stories = len(await bot.engine.store.stories())
    samples.sort()
    return {
        "calls": calls,
        "stories in database": stories,
        "database build seconds": round(build_seconds, 1),
        "overhead median (ms)": samples[len(samples) // 2],
        "overhead p99 (ms)": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "samples (ms)": samples,
        "peak RSS (MB)": peak_rss_mb(),
    }


async def concurrency(channels_count: int, latency: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        fake, channels = fake_discord(channels_count)
        await fill_database(db, channels[0].guild.id, channels, extra=0)
        async with running_bot(fake, db, scripted_writer(latency=latency)) as bot:
            lag = LagMeter()
            lag.start()
            started = time.perf_counter()
            interactions = await asyncio.gather(*(next_in(fake, c) for c in channels))
            await fake.wait_for(lambda: all(posted(ix) for ix in interactions), timeout=120)
            wall = time.perf_counter() - started
            worst = await lag.stop()
            lengths = []
            for channel in channels:
                story = await bot.engine.active_story(channel.guild.id, channel.id)
                lengths.append(await bot.engine.length(story.id))
            unanswered = sum(1 for ix in interactions if not posted(ix))
    return {
        "channels": channels_count,
        "model latency (s)": latency,
        "200-channel wall time (s)": wall,
        "lost or duplicated passages": sum(abs(n - 51) for n in lengths) + unanswered,
        "event-loop lag, concurrency (ms)": worst * 1000,
        "peak RSS (MB)": peak_rss_mb(),
    }


async def embedded() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        fake, channels = fake_discord(1)
        async with running_bot(fake, db, LocalModel()):
            lag = LagMeter()
            lag.start()
            started = time.perf_counter()
            opening = scene_rows()[0]["completion"].removesuffix(" END").strip()
            start = await fake.invoke(
                "story start", {"opening": opening}, user=fake.member("alice"), channel=channels[0]
            )
            await fake.wait_for(lambda: posted(start), timeout=600)
            interaction = await next_in(fake, channels[0])
            await fake.wait_for(lambda: posted(interaction), timeout=600)
            seconds = time.perf_counter() - started
            worst = await lag.stop()
            failed = start.failed or interaction.failed
    return {
        "generation seconds": seconds,
        "event-loop lag, embedded model (ms)": worst * 1000,
        "interaction answered within 3 s": not failed,
        "peak RSS (MB)": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scenario(name: str, quick: bool) -> dict[str, Any]:
    """Run one scenario in a fresh process and return what it measured."""
    command = [sys.executable, "-m", "bench.load", "--scenario", name]
    if quick:
        command.append("--quick")
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if result.returncode != 0:
        raise SystemExit(f"scenario {name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("overhead", "concurrency", "embedded"))
    parser.add_argument("--quick", action="store_true", help="a small run, to try it out")
    args = parser.parse_args()
    if args.scenario:
        scenario = {
            "overhead": lambda: overhead(50 if args.quick else 300, 100 if args.quick else 10_000),
            "concurrency": lambda: concurrency(20 if args.quick else 200, 1.0),
            "embedded": embedded,
        }[args.scenario]
        print(json.dumps(asyncio.run(scenario())))
        return
    started = time.perf_counter()
    names = ("overhead", "concurrency", "embedded")
    results = {name: run_scenario(name, args.quick) for name in names}
    measured = {key: value for r in results.values() for key, value in r.items()}
    rows = []
    for what, target in TARGETS.items():
        value = measured[what]
        met = value < target if "lag" in what else value <= target
        comparison = "<" if "lag" in what else "≤"
        rows.append([what, value, f"{comparison} {target}", "yes" if met else "NO"])
    concurrency_lag = measured["event-loop lag, concurrency (ms)"]
    rows.append(["event-loop lag, 200 channels (ms)", concurrency_lag, "", ""])
    for name, result in results.items():
        rows.append([f"peak RSS, {name} (MB)", result["peak RSS (MB)"], "", ""])
    print(table(["what", "measured", "target", "met"], rows))
    samples = results["overhead"].pop("samples (ms)")
    write_results(
        "load_quick" if args.quick else "load",
        {"machine": machine(), "seconds": time.perf_counter() - started, **results},
    )
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    axis.hist(samples, bins=40)
    axis.set_xlabel("/next overhead, model time excluded (ms)")
    axis.set_ylabel("calls")
    stories = results["overhead"]["stories in database"]
    axis.set_title(f"Bot overhead on a database of {stories:,} stories")
    figure.tight_layout()
    figure.savefig(plot_path("load_quick" if args.quick else "load"))


if __name__ == "__main__":
    main()
