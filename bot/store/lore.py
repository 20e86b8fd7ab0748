"""Members' lore: characters, places, things and events a story's passages are held to."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.base import Database
from bot.store.records import LoreEntry, lore_from_row


class LoreRecords:
    """A story's lore entries, each under a name unique in its story."""

    database: Database

    async def add_lore(
        self, story_id: int, kind: str, name: str, keywords: Sequence[str], text: str
    ) -> LoreEntry:
        """Add an entry. Raises Conflict if the name is taken in this story."""
        async with self.database.transaction() as db:
            lore_id = await db.insert(
                "INSERT INTO lore (story_id, kind, name, keywords, text) VALUES (?, ?, ?, ?, ?)",
                (story_id, kind, name, "\n".join(keywords), text),
            )
        return LoreEntry(lore_id, story_id, kind, name, tuple(keywords), text)

    async def remove_lore(self, story_id: int, name: str) -> bool:
        async with self.database.transaction() as db:
            removed = await db.execute(
                "DELETE FROM lore WHERE story_id = ? AND lower(name) = lower(?)", (story_id, name)
            )
            return removed > 0

    async def lore(self, story_id: int) -> list[LoreEntry]:
        rows = await self.database.fetch(
            "SELECT id, story_id, kind, name, keywords, text FROM lore"
            " WHERE story_id = ? ORDER BY kind, name",
            (story_id,),
        )
        return [lore_from_row(row) for row in rows]
