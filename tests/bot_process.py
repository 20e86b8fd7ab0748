"""The real bot as an OS process (`automuse run`), logged into a fake Discord in the test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from discord_fake import FakeDiscord

REPO = Path(__file__).resolve().parents[1]
STOP_SECONDS = 10.0


def clean_environment(**settings: str) -> dict[str, str]:
    """The process environment without AutoMuse, OpenAI or Discord settings, plus `settings`.
    The planner is off unless `settings` turn it on: scripted servers answer in a fixed order."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTOMUSE_", "OPENAI_", "DISCORD_"))
    }
    return kept | {"AUTOMUSE_PLANNER": "off"} | settings


class BotProcess:
    """`automuse run [args]` in its own process; its output goes to `log`."""

    def __init__(
        self, fake: FakeDiscord, env: Mapping[str, str], args: tuple[str, ...], log: Path
    ) -> None:
        self.fake = fake
        self.env = clean_environment(DISCORD_TOKEN=fake.token, **env)
        self.args = args
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "tests.discord_fake.run_bot", self.fake.url]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*command, "run", *self.args],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def connected(self, shards: set[tuple[int, int]], timeout: float = 60.0) -> None:
        """Wait until the fake sees `shards` connected (and this process still running), and
        the commands registered (by the process running shard 0)."""

        def ready() -> bool:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the bot process stopped:\n{self.output()}")
            return shards <= self.fake.shards_connected() and bool(self.fake.commands)

        await self.fake.wait_for(ready, timeout)

    def kill(self) -> None:
        """SIGKILL: no clean close, no goodbye to the gateway."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_SECONDS)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not gone within a few seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        for _ in range(int(STOP_SECONDS * 10)):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.1)
        self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]
