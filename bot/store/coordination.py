"""What must hold across processes sharing one database: the one-writer-per-story lease and
the members' `/next` cooldown. Times are Unix seconds from the callers' clocks."""

from __future__ import annotations

from bot.store.base import Database


class Coordination:
    """Leases and cooldowns, each a single conditional statement whose row count decides."""

    database: Database

    async def take_lease(self, story_id: int, holder: str, now: float, seconds: float) -> bool:
        """Make `holder` the story's only writer for `seconds`, unless another holder's lease
        has not expired yet. True if taken."""
        taken = await self.database.execute(
            "INSERT INTO leases (story_id, holder, expires) VALUES (?, ?, ?)"
            " ON CONFLICT (story_id) DO UPDATE"
            " SET holder = excluded.holder, expires = excluded.expires"
            " WHERE leases.expires <= ?",
            (story_id, holder, now + seconds, now),
        )
        return taken == 1

    async def renew_lease(self, story_id: int, holder: str, now: float, seconds: float) -> bool:
        """Extend `holder`'s lease; False if it no longer holds it."""
        renewed = await self.database.execute(
            "UPDATE leases SET expires = ? WHERE story_id = ? AND holder = ?",
            (now + seconds, story_id, holder),
        )
        return renewed == 1

    async def release_lease(self, story_id: int, holder: str) -> None:
        await self.database.execute(
            "DELETE FROM leases WHERE story_id = ? AND holder = ?", (story_id, holder)
        )

    async def lease_held(self, story_id: int, now: float) -> bool:
        """True if some writer holds an unexpired lease on the story."""
        return await self.lease_holder(story_id, now) is not None

    async def lease_holder(self, story_id: int, now: float) -> str | None:
        """Who holds an unexpired lease on the story, or None."""
        rows = await self.database.fetch(
            "SELECT holder FROM leases WHERE story_id = ? AND expires > ?", (story_id, now)
        )
        return str(rows[0][0]) if rows else None

    async def take_cooldown(
        self, guild_id: int, member_id: int, now: float, seconds: float
    ) -> tuple[float, float | None]:
        """Start the member's cooldown unless their last one began less than `seconds` ago.

        Returns (seconds still to wait, 0.0 if taken; the start of the cooldown it replaced,
        to give back with `restore_cooldown` if what it was taken for fails).
        """
        select = "SELECT last FROM cooldowns WHERE guild_id = ? AND member_id = ?"
        async with self.database.transaction() as db:
            rows = await db.fetch(select, (guild_id, member_id))
            previous = float(rows[0][0]) if rows else None
            taken = await db.execute(
                "INSERT INTO cooldowns (guild_id, member_id, last) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id, member_id) DO UPDATE SET last = excluded.last"
                " WHERE cooldowns.last <= ?",
                (guild_id, member_id, now, now - seconds),
            )
            if taken != 1:
                [(last,)] = await db.fetch(select, (guild_id, member_id))
                return float(last) + seconds - now, float(last)
        return 0.0, previous

    async def restore_cooldown(
        self, guild_id: int, member_id: int, started: float, previous: float | None
    ) -> None:
        """Undo the cooldown that began at `started`: the member's last one counts again."""
        if previous is None:
            await self.database.execute(
                "DELETE FROM cooldowns WHERE guild_id = ? AND member_id = ? AND last = ?",
                (guild_id, member_id, started),
            )
        else:
            await self.database.execute(
                "UPDATE cooldowns SET last = ? WHERE guild_id = ? AND member_id = ? AND last = ?",
                (previous, guild_id, member_id, started),
            )
