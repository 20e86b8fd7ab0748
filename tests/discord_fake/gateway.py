"""Gateway sessions: numbered dispatches to a bot's websocket, kept for RESUME replay."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .state import Intent

HEARTBEAT_INTERVAL_MS = 41_250
CLEAN_CLOSE_CODES = (1000, 1001)
"""A bot closing with these ends its session; any other close leaves it resumable."""

EVENT_INTENTS = {
    "MESSAGE_CREATE": Intent.GUILD_MESSAGES,
    "MESSAGE_UPDATE": Intent.GUILD_MESSAGES,
    "MESSAGE_DELETE": Intent.GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": Intent.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": Intent.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_ALL": Intent.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_EMOJI": Intent.GUILD_MESSAGE_REACTIONS,
    "CHANNEL_DELETE": Intent.GUILDS,
    "GUILD_DELETE": Intent.GUILDS,
    "THREAD_UPDATE": Intent.GUILDS,
    "THREAD_DELETE": Intent.GUILDS,
}


class WrongShard(AssertionError):
    """A guild event was about to reach a session whose shard does not own the guild."""


def owning_shard(guild_id: int, shard_count: int) -> int:
    """Discord's routing rule: ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


def frame(op: int, data: Any, sequence: int | None = None, event: str | None = None) -> str:
    """A gateway payload as a text frame (the fake never compresses)."""
    return json.dumps({"op": op, "d": data, "s": sequence, "t": event})


class GatewaySession:
    """An identified session of one shard; dispatches while disconnected are kept and replayed
    on RESUME. A session identified without a shard is shard 0 of 1 and sees every guild."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        session_id: str,
        intents: int,
        shard: tuple[int, int] = (0, 1),
    ) -> None:
        self.ws = ws
        self.session_id = session_id
        self.intents = intents
        self.shard = shard
        self.dropped = False
        """Set when the fake closed the connection, which leaves the session resumable."""
        self._sent: list[tuple[int, str]] = []
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return not self.ws.closed

    def ended_by_bot(self) -> bool:
        """Whether the bot closed its connection cleanly, ending the session."""
        return not self.dropped and self.ws.close_code in CLEAN_CLOSE_CODES

    def owns(self, guild_id: int) -> bool:
        """Whether ``guild_id``'s events belong to this session's shard."""
        shard_id, shard_count = self.shard
        return owning_shard(guild_id, shard_count) == shard_id

    def wants(self, event: str) -> bool:
        """Whether this session's intents subscribe it to ``event``."""
        needed = EVENT_INTENTS.get(event)
        return needed is None or bool(self.intents & needed)

    def sees_content(self) -> bool:
        return bool(self.intents & Intent.MESSAGE_CONTENT)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send (or keep, while disconnected) one event; a guild event must be this shard's."""
        guild_id = data.get("guild_id") or (data.get("id") if event == "GUILD_CREATE" else None)
        if guild_id is not None and not self.owns(int(guild_id)):
            raise WrongShard(f"{event} for guild {guild_id} sent to shard {list(self.shard)}")
        async with self._lock:
            sequence = len(self._sent) + 1
            text = frame(0, data, sequence, event)
            self._sent.append((sequence, text))
            if self.connected:
                await self.ws.send_str(text)

    async def resume(self, ws: web.WebSocketResponse, after: int) -> None:
        """Continue on a new websocket: replay dispatches after sequence ``after``, then RESUMED."""
        async with self._lock:
            self.ws = ws
            self.dropped = False
            for sequence, text in self._sent:
                if sequence > after:
                    await ws.send_str(text)
        await self.dispatch("RESUMED", {})
