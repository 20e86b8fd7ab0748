"""A story's threads: the questions it has raised and not yet answered, which the planner
comes back to (bot/planner.py) and members see, add and close."""

from __future__ import annotations

from bot.store.base import Connection, Database
from bot.store.records import THREAD_COLUMNS, Thread, now


class ThreadRecords:
    """Threads found in a story's opening or added by members, moved on by its passages."""

    database: Database

    async def add_thread(self, story_id: int, text: str, opened_by: int | None = None) -> Thread:
        created = now()
        async with self.database.transaction() as db:
            thread_id = await db.insert(
                "INSERT INTO threads (story_id, text, opened_by, created_at) VALUES (?, ?, ?, ?)",
                (story_id, text, opened_by, created),
            )
        return Thread(thread_id, story_id, text, "open", opened_by, 0, created)

    async def threads(self, story_id: int, *, closed: bool = False) -> list[Thread]:
        """The story's open threads, oldest first; with `closed`, the closed ones too."""
        rows = await self.database.fetch(
            f"SELECT {THREAD_COLUMNS} FROM threads WHERE story_id = ?"
            + ("" if closed else " AND status = 'open'")
            + " ORDER BY id",
            (story_id,),
        )
        return [Thread(*row) for row in rows]

    async def close_thread(self, story_id: int, thread_id: int) -> bool:
        """Close an open thread of the story; False if it has none open with that id."""
        async with self.database.transaction() as db:
            closed = await db.execute(
                "UPDATE threads SET status = 'closed', closed_at = ?"
                " WHERE id = ? AND story_id = ? AND status = 'open'",
                (now(), thread_id, story_id),
            )
            return closed > 0

    async def _advance_thread(self, db: Connection, story_id: int, passage_id: int) -> None:
        """Count passage `passage_id`, now part of the story, on the open thread its beat was
        about, and close the thread if the passage resolves it."""
        await db.execute(
            "UPDATE threads SET advanced = advanced + 1,"
            " status = CASE WHEN (SELECT resolves FROM passages WHERE id = ?) = 1"
            " THEN 'closed' ELSE status END,"
            " closed_at = CASE WHEN (SELECT resolves FROM passages WHERE id = ?) = 1"
            " THEN ? ELSE closed_at END"
            " WHERE id = (SELECT thread_id FROM passages WHERE id = ?)"
            " AND story_id = ? AND status = 'open'",
            (passage_id, passage_id, now(), passage_id, story_id),
        )

    async def _retract_thread(self, db: Connection, story_id: int, passage_id: int) -> None:
        """Take back what passage `passage_id`, no longer part of the story (undone or
        retried), did to its thread: one step fewer, and open again if it answered it."""
        await db.execute(
            "UPDATE threads SET advanced = CASE WHEN advanced > 0 THEN advanced - 1 ELSE 0 END,"
            " status = 'open', closed_at = NULL"
            " WHERE id = (SELECT thread_id FROM passages WHERE id = ? AND resolves = 1)"
            " AND story_id = ?",
            (passage_id, story_id),
        )
        await db.execute(
            "UPDATE threads SET advanced = CASE WHEN advanced > 0 THEN advanced - 1 ELSE 0 END"
            " WHERE id = (SELECT thread_id FROM passages WHERE id = ? AND resolves = 0)"
            " AND story_id = ? AND status = 'open'",
            (passage_id, story_id),
        )

    async def set_plan(self, passage_id: int, planned: str) -> None:
        """Keep the beat planned for the passage after `passage_id` (JSON, or "")."""
        async with self.database.transaction() as db:
            await db.execute("UPDATE passages SET planned = ? WHERE id = ?", (planned, passage_id))
