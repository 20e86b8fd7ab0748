"""Message changes made in the background at most once per interval, as Discord's rate limits
ask, and stopped without an edit landing after what replaces it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Iterator
from typing import Any


class Throttled:
    """One background task that catches messages up with the latest text, at most one change
    every `interval` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last_edit = 0.0
        self.task: asyncio.Task[None] | None = None
        self.editing = False
        self.closed = False

    def catch_up_soon(self, catch_up: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start `catch_up` unless a catch-up is already running (it will see the latest
        text)."""
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(catch_up())

    async def wait_turn(self) -> None:
        """Sleep until the interval since the last change has passed."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self.last_edit + self.interval - loop.time()))

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        """Mark a change on its way to Discord, which `stop` lets through."""
        self.editing = True
        try:
            yield
        finally:
            self.editing = False

    async def stop(self) -> None:
        """Stop changing messages; a change already on its way is let through, so it cannot
        land after what replaces it."""
        self.closed = True
        if self.task is not None:
            if not self.editing:
                self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
