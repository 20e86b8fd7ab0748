"""One writer per story across processes: a lease row in the store, renewed while held.

A process that dies stops renewing, so its lease lapses after `seconds` and the story can be
written again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from bot.store import Store

log = logging.getLogger(__name__)


def new_holder() -> str:
    """A name for one hold of a lease: this machine, this process, and a fresh id."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def story_lease(store: Store, story_id: int, seconds: float) -> AsyncIterator[bool]:
    """Hold the story's write lease for the block, renewing it every third of `seconds`.

    Yields False, holding nothing, if another writer holds it."""
    holder = new_holder()
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
