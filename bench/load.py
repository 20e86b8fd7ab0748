"""Bot overhead and load, through the Discord-compatible fake server with the real bot.

Three cases, each run with the bot as OS processes (`automuse run`, one per shard) logged into
the sharded fake Discord, with a scripted OpenAI-compatible model server on loopback:

- 1 process on SQLite; 1 process on PostgreSQL; 2 shard processes on one PostgreSQL.
- overhead: /next one at a time on a database holding 10,000 stories of 50 passages, with a
  model that answers at once; the time from the interaction to the posted passage;
- load: 200 channels per process issue /next at the same moment, the model answering each call
  after 1 s; wall time, and lost or duplicated passages counted in the database.

A fourth scenario, embedded, runs the bot in this process with the embedded model and measures
the event loop's lag while it writes.

Run: `python -m bench.load` (all) or `python -m bench.load --scenario NAME` (one, JSON out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

from bench.common import REPO, machine, plot_path, scene_rows, table, write_results
from bench.processes import fill_database, posted, running_bots, settled, sharded_discord
from bot.client import AutoMuse
from bot.config import load_settings
from bot.llm import Model, Models
from bot.llm.llama import LocalModel

sys.path.insert(0, str(REPO / "tests"))
from discord_fake import Channel, FakeDiscord, Interaction
from postgres_server import PostgresServer

TARGETS = {
    "sqlite, 1 process": {"overhead median (ms)": 5.0, "overhead p99 (ms)": 25.0},
    "postgresql, 1 process": {"overhead median (ms)": 10.0, "overhead p99 (ms)": 40.0},
    "postgresql, 2 shard processes": {"overhead median (ms)": 10.0, "overhead p99 (ms)": 40.0},
}
WALL_TIME_TARGET = 3.0
LAG_TARGET = 100.0
"""Worst event-loop lag (ms) while the embedded model writes."""


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


CASES = {
    "sqlite, 1 process": ("sqlite", 1),
    "postgresql, 1 process": ("postgresql", 1),
    "postgresql, 2 shard processes": ("postgresql", 2),
}
OVERHEAD_CHANNELS = 20


async def case(name: str, calls: int, channels_per_shard: int, extra: int) -> dict[str, Any]:
    """/next overhead one call at a time with a 0-second model, then every load channel's
    /next at once with the 1-second model, with the bot as one process per shard."""
    backend, shards = CASES[name]
    load_before = [round(n, 2) for n in os.getloadavg()]
    with tempfile.TemporaryDirectory() as folder:
        server = PostgresServer().start() if backend == "postgresql" else None
        try:
            database = await server.new_database() if server else f"sqlite:///{folder}/bench.db"
            per_shard = channels_per_shard + OVERHEAD_CHANNELS // shards
            fake, channels = sharded_discord(shards, per_shard)
            build_seconds = await fill_database(database, channels, extra)
            quiet, loaded = channels[:OVERHEAD_CHANNELS], channels[OVERHEAD_CHANNELS:]
            async with running_bots(fake, channels, database, shards, Path(folder)) as bots:
                bots.model.latency = 0.0
                timings = [await bots.next_timed(quiet[n % len(quiet)]) for n in range(calls)]
                bots.model.latency = 1.0
                started = time.perf_counter()
                interactions = await asyncio.gather(*(bots.next(c) for c in loaded))
                await fake.wait_for(lambda: all(settled(ix) for ix in interactions), timeout=300)
                wall = time.perf_counter() - started
                model_calls = len(bots.model.calls)
                wrong = await bots.lost_or_duplicated(loaded, interactions)
                unanswered = sum(1 for ix in interactions if not posted(ix))
                memory = bots.peak_rss_mb()
        finally:
            if server is not None:
                server.stop()
    samples = sorted(timing.total for timing in timings)
    return {
        "case": name,
        "load average before": load_before,
        "load average after": [round(n, 2) for n in os.getloadavg()],
        "processes": shards,
        "calls": calls,
        "stories in database": len(channels) + extra,
        "database build seconds": round(build_seconds, 1),
        "overhead median (ms)": samples[len(samples) // 2],
        "overhead p99 (ms)": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "samples (ms)": samples,
        "median before the model (ms)": median([t.before_model for t in timings]),
        "median between model calls (ms)": median([t.between_calls for t in timings]),
        "median after the model (ms)": median([t.after_model for t in timings]),
        "channels at once": len(loaded),
        "wall time (s)": wall,
        "model calls": model_calls,
        "lost or duplicated passages": wrong,
        "commands not answered with a passage": unanswered,
        "peak RSS per bot process (MB)": memory,
    }


async def answered(fake: FakeDiscord, interaction: Interaction) -> None:
    """Wait for the command's answer; raise with the bot's sentence if it was refused."""
    await fake.wait_for(lambda: settled(interaction), timeout=600)
    if not posted(interaction):
        said = interaction.messages[0].content if interaction.messages else "no answer in time"
        raise RuntimeError(f"{interaction.command} was not posted: {said}")


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
            await answered(fake, start)
            interaction = await next_in(fake, channels[0])
            await answered(fake, interaction)
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


def run_scenario(name: str, quick: bool, stories: int) -> dict[str, Any]:
    """Run one scenario in a fresh process and return what it measured."""
    command = [sys.executable, "-m", "bench.load", "--scenario", name, "--stories", str(stories)]
    if quick:
        command.append("--quick")
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if result.returncode != 0:
        print(f"scenario {name} failed:\n{result.stderr[-3000:]}", file=sys.stderr)
        return {"failed": result.stderr[-3000:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def outcome(result: dict[str, Any]) -> str:
    return "not run" if result["failed"] == "not run" else "failed (see the results file)"


def rows_of(results: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """The summary table: every measure against its target."""
    rows = []

    def add(what: str, value: Any, target: float | None, below: bool = False) -> None:
        if target is None:
            rows.append([what, value, "", ""])
            return
        met = value < target if below else value <= target
        rows.append([what, value, f"{'<' if below else '≤'} {target}", "yes" if met else "NO"])

    for name, targets in TARGETS.items():
        result = results[name]
        if "failed" in result:
            add(f"{name}: {outcome(result)}", "", None)
            continue
        for what, target in targets.items():
            add(f"{name}: {what}", result[what], target)
        add(
            f"{name}: {result['channels at once']} channels, wall time (s)",
            result["wall time (s)"],
            WALL_TIME_TARGET,
        )
        add(f"{name}: lost or duplicated passages", result["lost or duplicated passages"], 0)
        add(
            f"{name}: /next not answered with a passage",
            result["commands not answered with a passage"],
            None,
        )
        add(f"{name}: peak RSS per bot process (MB)", result["peak RSS per bot process (MB)"], None)
        for part in ("before the model", "between model calls", "after the model"):
            add(f"{name}: median {part} (ms)", result[f"median {part} (ms)"], None)
    embedded = results["embedded"]
    if "failed" in embedded:
        add(f"embedded: {outcome(embedded)}", "", None)
        return rows
    add(
        "embedded: event-loop lag (ms)",
        embedded["event-loop lag, embedded model (ms)"],
        LAG_TARGET,
        below=True,
    )
    add("embedded: peak RSS (MB)", embedded["peak RSS (MB)"], None)
    return rows


def plot(results: dict[str, dict[str, Any]], name: str) -> None:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for case in (name for name in TARGETS if "samples (ms)" in results[name]):
        axis.hist(results[case]["samples (ms)"], bins=40, alpha=0.5, label=case)
    axis.set_xlabel("/next overhead, model time excluded (ms)")
    axis.set_ylabel("calls")
    stories = max(r.get("stories in database", 0) for r in results.values())
    axis.set_title(f"Bot overhead on a database of {stories:,} stories")
    axis.legend()
    figure.tight_layout()
    figure.savefig(plot_path(name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=(*TARGETS, "embedded"))
    parser.add_argument("--quick", action="store_true", help="a small run, to try it out")
    parser.add_argument(
        "--only", nargs="+", choices=(*TARGETS, "embedded"), help="run only these scenarios"
    )
    parser.add_argument(
        "--stories", type=int, default=10_000, help="stories of 50 passages in the database"
    )
    args = parser.parse_args()
    if args.scenario == "embedded":
        print(json.dumps(asyncio.run(embedded())))
        return
    if args.scenario:
        calls, channels, extra = (50, 20, 100) if args.quick else (300, 200, args.stories)
        print(json.dumps(asyncio.run(case(args.scenario, calls, channels, extra))))
        return
    started = time.perf_counter()
    chosen = args.only or (*TARGETS, "embedded")
    results = {
        name: run_scenario(name, args.quick, args.stories)
        if name in chosen
        else {"failed": "not run"}
        for name in (*TARGETS, "embedded")
    }
    print(table(["what", "measured", "target", "met"], rows_of(results)))
    name = "load_quick" if args.quick else "load"
    plot(results, name)
    for case_name in TARGETS:
        results[case_name].pop("samples (ms)", None)
    write_results(name, {"machine": machine(), "seconds": time.perf_counter() - started, **results})


if __name__ == "__main__":
    main()
