"""The store: every story operation, its SQL written once for both backends.

Passages form a tree through `parent_id`; a story's `head_id` is the passage the story
currently ends at. Undo, retry and unchosen candidates move the head and never delete text.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from bot.store.ballots import BallotRecords
from bot.store.base import SCHEMA_VERSION, Connection, Database, StaleHead
from bot.store.calls import CallRecords
from bot.store.coordination import Coordination
from bot.store.ledger import LedgerRecords
from bot.store.lore import LoreRecords
from bot.store.postgres import PostgresDatabase, is_postgres_url
from bot.store.records import (
    PASSAGE_COLUMNS,
    STORY_COLUMNS,
    LedgerEntry,
    ModelCall,
    NewPassage,
    Passage,
    Story,
    now,
    passage_from_row,
    story_from_row,
)
from bot.store.sqlite import SQLiteDatabase
from bot.store.threads import ThreadRecords


class Store(BallotRecords, CallRecords, Coordination, LedgerRecords, LoreRecords, ThreadRecords):
    """Story operations over one database backend."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @classmethod
    async def open(
        cls, target: Path | str, *, version: int = SCHEMA_VERSION, create: bool = True
    ) -> Store:
        """Open the database at `target` and migrate it up to `version`; create it only if
        `create` is true. `target` is a `postgresql://` URL, a `sqlite:///` URL or a SQLite
        path. Raises StoreError with one sentence if it cannot be used, having closed
        whatever it opened."""
        target = str(target)
        if is_postgres_url(target):
            return cls(await PostgresDatabase.open(target, version=version, create=create))
        path = target.removeprefix("sqlite:///") if target.startswith("sqlite:///") else target
        return cls(await SQLiteDatabase.open(path, version=version, create=create))

    @property
    def name(self) -> str:
        """The database's path or URL, without a password."""
        return self.database.name

    async def close(self) -> None:
        await self.database.close()

    async def schema_version(self) -> int:
        return await self.database.schema_version()

    async def migrate(self, version: int = SCHEMA_VERSION) -> None:
        await self.database.migrate(version)

    def _transaction(self) -> AbstractAsyncContextManager[Connection]:
        return self.database.transaction()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self.database.fetch(sql, params)

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement, atomic on its own."""
        return await self.database.execute(sql, params)

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    # Stories

    async def create_story(
        self,
        *,
        guild_id: int | None,
        channel_id: int | None,
        title: str,
        started_by: int | None,
        settings: dict[str, Any],
        opening: NewPassage,
        memory: str = "",
        calls: Sequence[ModelCall] = (),
    ) -> Story:
        """Store a new active story with its opening passage as head.

        Raises Conflict if the channel already has an active story.
        """
        async with self._transaction() as db:
            story_id = await self._insert_story(
                db, guild_id, channel_id, title, started_by, settings, memory
            )
            passage_id = await self._insert_passage(db, story_id, None, opening)
            await db.execute("UPDATE stories SET head_id = ? WHERE id = ?", (passage_id, story_id))
            await self._insert_calls(db, story_id, passage_id, calls)
            await self._advance_thread(db, story_id, passage_id)
        story = await self.story(story_id)
        assert story is not None
        return story

    async def import_story(
        self,
        *,
        guild_id: int | None,
        channel_id: int | None,
        title: str,
        started_by: int | None,
        settings: dict[str, Any],
        passages: Sequence[NewPassage],
    ) -> Story:
        """Store a whole story at once, its passages in order, in one transaction."""
        async with self._transaction() as db:
            story_id = await self._insert_story(
                db, guild_id, channel_id, title, started_by, settings, ""
            )
            head = None
            for passage in passages:
                head = await self._insert_passage(db, story_id, head, passage)
            await db.execute("UPDATE stories SET head_id = ? WHERE id = ?", (head, story_id))
        story = await self.story(story_id)
        assert story is not None
        return story

    async def _insert_story(
        self,
        db: Connection,
        guild_id: int | None,
        channel_id: int | None,
        title: str,
        started_by: int | None,
        settings: dict[str, Any],
        memory: str,
    ) -> int:
        return await db.insert(
            "INSERT INTO stories (guild_id, channel_id, title, started_by, memory, settings,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (guild_id, channel_id, title, started_by, memory, json.dumps(settings), now()),
        )

    async def story(self, story_id: int) -> Story | None:
        row = await self._one(f"SELECT {STORY_COLUMNS} FROM stories WHERE id = ?", (story_id,))
        return story_from_row(row) if row else None

    async def active_story(self, guild_id: int, channel_id: int) -> Story | None:
        row = await self._one(
            f"SELECT {STORY_COLUMNS} FROM stories"
            " WHERE guild_id = ? AND channel_id = ? AND status = 'active'",
            (guild_id, channel_id),
        )
        return story_from_row(row) if row else None

    async def active_stories(self, guild_id: int, channel_id: int | None = None) -> list[Story]:
        """The guild's active stories, or only the one in `channel_id`."""
        rows = await self._all(
            f"SELECT {STORY_COLUMNS} FROM stories WHERE guild_id = ? AND status = 'active'"
            " AND (? IS NULL OR channel_id = ?) ORDER BY id",
            (guild_id, channel_id, channel_id),
        )
        return [story_from_row(row) for row in rows]

    async def stories(self) -> list[tuple[Story, int]]:
        """Every story, newest first, with the number of passages on its current line."""
        rows = await self._all(
            f"SELECT {STORY_COLUMNS} FROM stories ORDER BY id DESC",
        )
        result = []
        for row in rows:
            story = story_from_row(row)
            result.append((story, len(await self.line(story.head_id))))
        return result

    async def update_story(self, story_id: int, **changes: Any) -> None:
        """Set some of: title, status, memory, note, settings, pending_direction."""
        allowed = {"title", "status", "memory", "note", "settings", "pending_direction"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot update {', '.join(sorted(unknown))}")
        if "settings" in changes:
            changes["settings"] = json.dumps(changes["settings"])
        assignments = ", ".join(f"{name} = ?" for name in changes)
        await self._write(
            f"UPDATE stories SET {assignments} WHERE id = ?", (*changes.values(), story_id)
        )

    # Passages

    async def _insert_passage(
        self, db: Connection, story_id: int, parent_id: int | None, new: NewPassage
    ) -> int:
        return await db.insert(
            "INSERT INTO passages (story_id, parent_id, text, summary, author_id, direction,"
            " model, created_at, context, requested_by, looped, faults, beat, thread_id, resolves,"
            " depth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " coalesce((SELECT depth + 1 FROM passages WHERE id = ?), 0))",
            (
                story_id,
                parent_id,
                new.text,
                new.summary,
                new.author_id,
                new.direction,
                new.model,
                now(),
                json.dumps(new.context) if new.context is not None else None,
                new.requested_by,
                int(new.looped),
                ",".join(new.faults),
                new.beat,
                new.thread_id,
                int(new.resolves),
                parent_id,
            ),
        )

    async def _check_head(self, db: Connection, story_id: int, head_id: int) -> None:
        """Raise StaleHead unless the active story ends at `head_id`. A conditional update,
        so that it also locks the story's row until the transaction ends: a concurrent writer
        waits, then finds the head moved."""
        held = await db.execute(
            "UPDATE stories SET head_id = head_id"
            " WHERE id = ? AND head_id = ? AND status = 'active'",
            (story_id, head_id),
        )
        if held != 1:
            raise StaleHead(story_id)

    @asynccontextmanager
    async def _at_head(
        self, story_id: int, head_id: int, calls: Sequence[ModelCall]
    ) -> AsyncIterator[Connection]:
        """A transaction that first checks the story still ends at `head_id`. If it does not,
        only `calls` are logged, since they were paid for, and StaleHead is raised."""
        try:
            async with self._transaction() as db:
                await self._check_head(db, story_id, head_id)
                yield db
        except StaleHead:
            await self.log_calls(story_id, calls)
            raise

    async def append_passage(
        self,
        story_id: int,
        head_id: int,
        new: NewPassage,
        calls: Sequence[ModelCall] = (),
        *,
        parent_id: int | None = None,
    ) -> Passage:
        """Add `new` after `parent_id` (default: the head) and make it the head, with its
        calls, in one transaction.

        Raises StaleHead, logging only the calls, if the head is no longer `head_id`.
        """
        async with self._at_head(story_id, head_id, calls) as db:
            parent = head_id if parent_id is None else parent_id
            if parent != head_id:
                await self._retract_thread(db, story_id, head_id)
            passage_id = await self._insert_passage(db, story_id, parent, new)
            await self._advance_thread(db, story_id, passage_id)
            await db.execute(
                "UPDATE stories SET head_id = ?, pending_direction = '' WHERE id = ?",
                (passage_id, story_id),
            )
            await self._insert_calls(db, story_id, passage_id, calls)
        passage = await self.passage(passage_id)
        assert passage is not None
        return passage

    async def add_branches(
        self,
        story_id: int,
        head_id: int,
        news: Sequence[NewPassage],
        calls: Sequence[ModelCall] = (),
    ) -> list[Passage]:
        """Store alternatives after `head_id` without moving the head."""
        async with self._at_head(story_id, head_id, calls) as db:
            ids = [await self._insert_passage(db, story_id, head_id, new) for new in news]
            await db.execute("UPDATE stories SET pending_direction = '' WHERE id = ?", (story_id,))
            await self._insert_calls(db, story_id, None, calls)
        return [p for p in [await self.passage(i) for i in ids] if p is not None]

    async def choose_branch(
        self,
        story_id: int,
        head_id: int,
        passage_id: int,
        summary: str | None,
        calls: Sequence[ModelCall] = (),
    ) -> Passage:
        """Make a stored alternative the head, recording its rolling summary (None: pending)."""
        async with self._at_head(story_id, head_id, calls) as db:
            await db.execute(
                "UPDATE passages SET summary = ? WHERE id = ? AND parent_id = ?",
                (summary, passage_id, head_id),
            )
            await db.execute("UPDATE stories SET head_id = ? WHERE id = ?", (passage_id, story_id))
            await self._insert_calls(db, story_id, passage_id, calls)
            await self._advance_thread(db, story_id, passage_id)
        passage = await self.passage(passage_id)
        assert passage is not None
        return passage

    async def set_summary(
        self,
        story_id: int,
        passage_id: int,
        summary: str,
        calls: Sequence[ModelCall] = (),
        ledger: Sequence[LedgerEntry] = (),
    ) -> bool:
        """Record the pending rolling summary of a passage, with the calls that wrote it and
        what the continuity ledger found in the passage; False, writing nothing, if it
        already has one."""
        async with self._transaction() as db:
            changed = await db.execute(
                "UPDATE passages SET summary = ? WHERE id = ? AND story_id = ? AND summary IS NULL",
                (summary, passage_id, story_id),
            )
            if changed != 1:
                return False
            await self._insert_calls(db, story_id, passage_id, calls)
            await self._record_ledger(db, story_id, passage_id, ledger)
        return True

    async def move_head(self, story_id: int, head_id: int, new_head_id: int) -> None:
        """Point the story at another passage it already has (undo); what the old head did
        to a thread is taken back."""
        async with self._transaction() as db:
            await self._check_head(db, story_id, head_id)
            await self._retract_thread(db, story_id, head_id)
            await db.execute("UPDATE stories SET head_id = ? WHERE id = ?", (new_head_id, story_id))

    async def passage(self, passage_id: int) -> Passage | None:
        row = await self._one(f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE id = ?", (passage_id,))
        return passage_from_row(row) if row else None

    async def line(self, head_id: int | None, last: int | None = None) -> list[Passage]:
        """The passages from the story's opening to `head_id`, oldest first.

        With `last`, only that many passages ending at the head.
        """
        if head_id is None:
            return []
        limit = -1 if last is None else last
        rows = await self._all(
            f"""
            WITH RECURSIVE line (id, depth) AS (
                SELECT CAST(? AS BIGINT), 0
                UNION ALL
                SELECT passages.parent_id, line.depth + 1
                FROM passages JOIN line ON passages.id = line.id
                WHERE passages.parent_id IS NOT NULL AND (? < 0 OR line.depth + 1 < ?)
            )
            SELECT {", ".join("p." + c.strip() for c in PASSAGE_COLUMNS.split(","))}
            FROM line JOIN passages p ON p.id = line.id
            ORDER BY line.depth
            """,
            (head_id, limit, limit),
        )
        return [passage_from_row(row) for row in reversed(rows)]

    async def opening(self, story_id: int) -> Passage | None:
        """The story's first passage."""
        row = await self._one(
            f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE story_id = ? AND parent_id IS NULL",
            (story_id,),
        )
        return passage_from_row(row) if row else None

    async def children(self, passage_id: int) -> list[Passage]:
        rows = await self._all(
            f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE parent_id = ? ORDER BY id",
            (passage_id,),
        )
        return [passage_from_row(row) for row in rows]
