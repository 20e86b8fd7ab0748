"""One writer per story across processes: a lease row in the store, renewed while held, and
the other waits and refusals around writing a story (`StoryLocks`).

A process that dies stops renewing, so its lease lapses after `seconds` and the story can be
written again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from bot.errors import Busy, CoolingDown, NotFound
from bot.settings import LARGEST_ID
from bot.store import StaleHead, Store
from bot.wording import plural

log = logging.getLogger(__name__)


BUSY = {
    "next": "A passage is already being written for this story.",
    "retry": "The latest passage is being written again; try again in a moment.",
    "undo": "The story is being changed (undo); try again in a moment.",
    "candidates": "Candidates are being written for this story; try again in a moment.",
    "commit": "A chosen candidate is being added to the story; try again in a moment.",
    "summary": "The story's summary is being written; try again in a moment.",
}
"""What members are told when the story is busy, by what holds its write lease."""


def new_holder(what: str) -> str:
    """A name for one hold of a lease: this machine, this process, a fresh id, and what it
    is held for (a key of BUSY)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}:{what}"


def busy(holder: str | None) -> Busy:
    """The refusal for a story whose lease `holder` holds: what it is doing."""
    what = (holder or "").rsplit(":", 1)[-1]
    return Busy(BUSY.get(what, BUSY["next"]))


@asynccontextmanager
async def story_lease(
    store: Store, story_id: int, seconds: float, what: str = "next"
) -> AsyncIterator[bool]:
    """Hold the story's write lease for the block, renewing it every third of `seconds`;
    `what` says what it is held for.

    Yields False, holding nothing, if another writer holds it."""
    holder = new_holder(what)
    if not await store.take_lease(story_id, holder, time.time(), seconds):
        yield False
        return
    renewing = asyncio.create_task(renew(store, story_id, holder, seconds))
    try:
        yield True
    finally:
        renewing.cancel()
        with suppress(asyncio.CancelledError):
            await renewing
        await store.release_lease(story_id, holder)


async def renew(store: Store, story_id: int, holder: str, seconds: float) -> None:
    """Keep renewing until cancelled; stop if the lease was lost (the head check still
    protects the story then)."""
    while True:
        await asyncio.sleep(seconds / 3)
        if not await store.renew_lease(story_id, holder, time.time(), seconds):
            log.warning("lost the write lease on story %d", story_id)
            return


def known_id(story_id: int) -> None:
    """Raise NotFound for an id no story can have, before any lease is taken on it."""
    if not 0 < story_id <= LARGEST_ID:
        raise NotFound(f"There is no story with id {story_id}.")


class StoryLocks:
    """Who may write a story now: a rolling summary this process is writing after a posted
    passage is waited for, any process's write lease refuses at once, and a member's
    cooldown spaces out their requests."""

    def __init__(self, store: Store, lease_seconds: float) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self._summaries: dict[int, asyncio.Event] = {}
        """Stories whose pending rolling summary this process is writing, set when done."""

    async def ensure_idle(self, story_id: int) -> None:
        """Raise Busy if any process is writing something for the story right now (a summary
        this process is writing after a posted passage is waited for instead)."""
        known_id(story_id)
        if story_id in self._summaries:
            return
        holder = await self.store.lease_holder(story_id, time.time())
        if holder is not None:
            raise busy(holder)

    @asynccontextmanager
    async def writing(
        self, story_id: int, what: str = "next", waiting: Callable[[], None] | None = None
    ) -> AsyncIterator[None]:
        """Wait for a summary this process is writing after a posted passage (calling
        `waiting` first, if given); then refuse at once, before any model call, if any process
        is writing the story (saying what it is doing); otherwise hold its write lease while we
        do `what` (a key of BUSY)."""
        known_id(story_id)
        summary = self._summaries.get(story_id)
        if summary is not None:
            if waiting is not None:
                waiting()
            await summary.wait()
        async with story_lease(self.store, story_id, self.lease_seconds, what) as held:
            if not held:
                raise busy(await self.store.lease_holder(story_id, time.time()))
            try:
                yield
            except StaleHead:
                raise Busy(
                    "The story changed while this passage was written; nothing was added."
                ) from None

    @asynccontextmanager
    async def summarizing(self, story_id: int) -> AsyncIterator[bool]:
        """Hold the story's write lease to write its pending summary, so that writing
        operations arriving meanwhile wait for it. Yields False, holding nothing, if this
        process is summarising it already or another writer holds it."""
        known_id(story_id)
        if story_id in self._summaries:
            yield False
            return
        done = self._summaries[story_id] = asyncio.Event()
        try:
            async with story_lease(self.store, story_id, self.lease_seconds, "summary") as held:
                yield held
        finally:
            del self._summaries[story_id]
            done.set()

    @asynccontextmanager
    async def cooldown(
        self, guild_id: int, member_id: int, seconds: float, now: float
    ) -> AsyncIterator[None]:
        """Refuse a member's request within `seconds` of their last one, in every process;
        a request that fails does not count. With no cooldown (`seconds` 0) nothing is kept."""
        if seconds <= 0:
            yield
            return
        wait, previous = await self.store.take_cooldown(guild_id, member_id, now, seconds)
        if wait > 0:
            left = plural(math.ceil(wait), "more second")
            raise CoolingDown(f"Please wait {left} before asking for another passage.")
        try:
            yield
        except BaseException:
            await self.store.restore_cooldown(guild_id, member_id, now, previous)
            raise
