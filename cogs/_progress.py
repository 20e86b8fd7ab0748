"""A deferred reply that shows what AutoMuse is doing while it writes, then the result."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.client import NO_PINGS, send_pieces
from bot.progress import Step
from bot.split import DISCORD_LIMIT, split_under
from cogs._throttle import Throttled

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


class LiveReply(Throttled):
    """Edits a deferred interaction's reply as work goes on, at most once every `interval`
    seconds however often it is told, and always ends showing the final text. The first
    edit waits one interval too, so work done within it goes straight to its result."""

    def __init__(self, interaction: discord.Interaction, interval: float, header: str = "") -> None:
        super().__init__(interval)
        self.interaction = interaction
        self.header = header
        self.latest = ""
        self.shown = ""
        self.last_edit = asyncio.get_running_loop().time()

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
        self.catch_up_soon(self._catch_up)

    async def _catch_up(self) -> None:
        while not self.closed and self.latest != self.shown:
            await self.wait_turn()
            await self._edit(self.latest)

    async def _edit(self, text: str) -> discord.Message | None:
        self.last_edit = asyncio.get_running_loop().time()
        self.shown = text
        with self.changing():
            try:
                return await self.interaction.edit_original_response(
                    content=text, allowed_mentions=NO_PINGS
                )
            except discord.HTTPException as error:
                log.warning("progress could not be shown (%s)", error)
                return None

    async def finish(self, text: str, header: str = "") -> list[discord.Message]:
        """Replace the progress with `text` under `header` (split under Discord's limit, the
        header with the first piece, the rest following up), still keeping to the interval."""
        await self.stop()
        pieces = split_under(header, text)
        if not self.shown:
            return await send_pieces(self.interaction, pieces)
        first, *rest = pieces
        await self.wait_turn()
        message = await self._edit(first)
        if message is None:
            return await send_pieces(self.interaction, pieces)
        return [message, *await send_pieces(self.interaction, rest)]
