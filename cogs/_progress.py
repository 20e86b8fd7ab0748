"""A deferred reply that shows what AutoMuse is doing while it writes, then the result."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.client import NO_PINGS, send_pieces
from bot.progress import Step
from bot.split import DISCORD_LIMIT, split_under

log = logging.getLogger(__name__)


def describe_step(step: Step, header: str = "") -> str:
    """What members see for a step; a passage being written streams in under `header`."""
    if step.stage == "writing" and step.text and header:
        preview = f"{header}\n{step.text.strip()} …"
        return preview if len(preview) <= DISCORD_LIMIT else preview[: DISCORD_LIMIT - 2] + " …"
    if step.stage == "writing":
        if step.total > 1:
            return f"✍️ Writing {step.total} candidates…"
        return "✍️ Writing…"
    if step.stage == "checking":
        return "🔍 Checking it for repetition and other faults…"
    if step.stage == "rewriting":
        return f"🔁 Not good enough yet; writing it again (attempt {step.number} of {step.total})…"
    return "📜 Summarising the story so far and planning what comes next…"


class LiveReply:
    """Edits a deferred interaction's reply as work goes on, at most once every `interval`
    seconds however often it is told, and always ends showing the final text. The first
    edit waits one interval too, so work done within it goes straight to its result."""

    def __init__(self, interaction: discord.Interaction, interval: float, header: str = "") -> None:
        self.interaction = interaction
        self.interval = interval
        self.header = header
        self.latest = ""
        self.shown = ""
        self.last_edit = asyncio.get_running_loop().time()
        self.task: asyncio.Task[None] | None = None
        self.editing = False
        self.closed = False

    async def __aenter__(self) -> LiveReply:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def report(self, step: Step) -> None:
        """Show `step` soon (the engine's progress callback). Streamed text is shown only
        under a header (a single passage); candidates show which one is being written."""
        if self.closed or (step.text and not self.header):
            return
        self.latest = describe_step(step, self.header)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._catch_up())

    async def _catch_up(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed and self.latest != self.shown:
            await asyncio.sleep(max(0.0, self.last_edit + self.interval - loop.time()))
            await self._edit(self.latest)

    async def _edit(self, text: str) -> discord.Message | None:
        self.last_edit = asyncio.get_running_loop().time()
        self.shown = text
        self.editing = True
        try:
            return await self.interaction.edit_original_response(
                content=text, allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as error:
            log.warning("progress could not be shown (%s)", error)
            return None
        finally:
            self.editing = False

    async def finish(self, text: str, header: str = "") -> list[discord.Message]:
        """Replace the progress with `text` under `header` (split under Discord's limit, the
        header with the first piece, the rest following up), still keeping to the interval."""
        await self.stop()
        pieces = split_under(header, text)
        if not self.shown:
            return await send_pieces(self.interaction, pieces)
        first, *rest = pieces
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self.last_edit + self.interval - loop.time()))
        message = await self._edit(first)
        if message is None:
            return await send_pieces(self.interaction, pieces)
        return [message, *await send_pieces(self.interaction, rest)]

    async def stop(self) -> None:
        """Stop showing progress (before the reply turns into a result or an error); an edit
        already on its way is let through, so it cannot land after the result."""
        self.closed = True
        if self.task is not None:
            if not self.editing:
                self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
