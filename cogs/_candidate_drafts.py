"""A ballot's candidates streamed as they are written, each into a message of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord

from bot.ballots.tally import NUMBERS
from bot.client import NO_PINGS
from bot.progress import Step
from bot.split import DISCORD_LIMIT
from cogs._throttle import Throttled

log = logging.getLogger(__name__)


def draft_text(number: int, text: str) -> str:
    """What candidate `number` (from 1) shows while it is written, under Discord's limit."""
    shown = f"**{NUMBERS[number - 1]}** ✍️\n{text.strip()} …"
    return shown if len(shown) <= DISCORD_LIMIT else shown[: DISCORD_LIMIT - 2] + " …"


class CandidateDrafts(Throttled):
    """Posts each candidate's first words in a message of its own and edits it as the
    candidate grows. Discord limits how often a channel's messages may change, so there is at
    most one post or edit every `interval` seconds across all the candidates, each time for the
    candidate that waited longest. A draft that cannot be shown is let go: the ballot posts the
    candidates whole anyway."""

    def __init__(self, channel: discord.abc.Messageable, interval: float) -> None:
        super().__init__(interval)
        self.channel = channel
        self.latest: dict[int, str] = {}
        self.shown: dict[int, str] = {}
        self.messages: dict[int, discord.Message] = {}

    def report(self, step: Step) -> None:
        """Note a candidate's text so far (the engine's progress callback)."""
        if self.closed or step.stage != "writing" or not step.text.strip():
            return
        if step.number > len(NUMBERS):
            return
        self.latest[step.number] = draft_text(step.number, step.text)
        self.catch_up_soon(self._catch_up)

    async def _catch_up(self) -> None:
        while not self.closed:
            behind = [n for n, text in sorted(self.latest.items()) if self.shown.get(n) != text]
            if not behind:
                return
            waiting = min(behind, key=lambda n: (n in self.messages, n))
            await self.wait_turn()
            if self.closed:
                return
            await self._show(waiting, self.latest[waiting])
            self.last_edit = asyncio.get_running_loop().time()

    async def _show(self, number: int, text: str) -> None:
        self.shown[number] = text
        with self.changing():
            try:
                if number in self.messages:
                    await self.messages[number].edit(content=text, allowed_mentions=NO_PINGS)
                else:
                    self.messages[number] = await self.channel.send(text, allowed_mentions=NO_PINGS)
            except discord.HTTPException as error:
                log.warning("a candidate's draft could not be shown (%s)", error)

    async def settle(self, finals: list[str]) -> bool:
        """Turn the drafts into the candidates' final messages, `finals` in order. When they
        cannot all be edited in place (a candidate too long for one message, a draft missing),
        the drafts are deleted instead and False is returned, for the candidates to be posted
        afresh in order."""
        await self.stop()
        drafted = [self.messages[n + 1] for n in range(len(finals)) if n + 1 in self.messages]
        fits = all(len(text) <= DISCORD_LIMIT for text in finals)
        if finals and len(drafted) == len(finals) == len(self.messages) and fits:
            try:
                for message, text in zip(drafted, finals, strict=True):
                    await message.edit(content=text, allowed_mentions=NO_PINGS)
                return True
            except discord.HTTPException as error:
                log.warning("a candidate's draft could not be finished (%s)", error)
        for message in self.messages.values():
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
        self.messages.clear()
        return False
