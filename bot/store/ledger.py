"""The continuity ledger: what each story's passages established, kept per story."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.base import Connection, Database
from bot.store.records import LedgerEntry


class LedgerRecords:
    """The ledger's entries: recorded after each passage, read into its context, and removed
    by members when they are wrong."""

    database: Database

    async def _record_ledger(
        self,
        db: Connection,
        story_id: int,
        passage_id: int | None,
        entries: Sequence[LedgerEntry],
    ) -> None:
        """Add `entries`, found in passage `passage_id`; an entry already kept under the same
        key takes the newer text and counts one mention more (a removed one stays removed)."""
        await db.executemany(
            "INSERT INTO ledger (story_id, kind, key, name, text, passage_id)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (story_id, key) DO UPDATE SET text = excluded.text,"
            " kind = excluded.kind, mentions = ledger.mentions + 1,"
            " passage_id = excluded.passage_id",
            [(story_id, e.kind, e.key, e.name, e.text, passage_id) for e in entries],
        )

    async def ledger(self, story_id: int) -> list[LedgerEntry]:
        """The story's ledger, most mentioned first; removed entries left out."""
        rows = await self.database.fetch(
            "SELECT kind, key, name, text, mentions, passage_id FROM ledger"
            " WHERE story_id = ? AND removed = 0 ORDER BY mentions DESC, id",
            (story_id,),
        )
        return [LedgerEntry(*row) for row in rows]

    async def remove_ledger(self, story_id: int, name: str) -> int:
        """Remove every entry about `name` (any case), for good: later passages that name it
        again do not bring it back. Returns how many were removed."""
        async with self.database.transaction() as db:
            return await db.execute(
                "UPDATE ledger SET removed = 1"
                " WHERE story_id = ? AND lower(name) = lower(?) AND removed = 0",
                (story_id, name),
            )
