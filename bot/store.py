"""SQLite storage through aiosqlite: numbered migrations, and the only place with SQL.

Passages form a tree through `parent_id`; a story's `head_id` is the passage the story
currently ends at. Undo, retry and unchosen candidates move the head and never delete text.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

MIGRATIONS: tuple[str, ...] = (
    # 1: stories, the passage tree, lore.
    """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER,
        channel_id INTEGER,
        title TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
        head_id INTEGER REFERENCES passages (id),
        started_by INTEGER,
        memory TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX one_active_story_per_channel
        ON stories (guild_id, channel_id) WHERE status = 'active';
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        parent_id INTEGER REFERENCES passages (id),
        text TEXT NOT NULL CHECK (length(trim(text)) > 0),
        summary TEXT,
        author_id INTEGER,
        direction TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX passages_by_parent ON passages (parent_id);
    CREATE TABLE lore (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        kind TEXT NOT NULL CHECK (kind IN ('character', 'place', 'thing', 'event')),
        name TEXT NOT NULL,
        keywords TEXT NOT NULL,
        text TEXT NOT NULL,
        UNIQUE (story_id, name COLLATE NOCASE)
    );
    """,
    # 2: the model-call log, and what each passage was generated from.
    """
    CREATE TABLE model_calls (
        id INTEGER PRIMARY KEY,
        story_id INTEGER REFERENCES stories (id),
        passage_id INTEGER REFERENCES passages (id),
        purpose TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt TEXT NOT NULL,
        response TEXT NOT NULL DEFAULT '',
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        latency_ms INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE INDEX model_calls_by_story ON model_calls (story_id);
    ALTER TABLE passages ADD COLUMN context TEXT;
    ALTER TABLE passages ADD COLUMN requested_by INTEGER;
    ALTER TABLE passages ADD COLUMN looped INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: ballots, their options and every vote; tone nudges on posted passages.
    """
    UPDATE stories SET settings = json_set(settings, '$.mode', 'solo');
    ALTER TABLE stories ADD COLUMN pending_direction TEXT NOT NULL DEFAULT '';
    CREATE TABLE ballots (
        id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        kind TEXT NOT NULL CHECK (kind IN ('passage', 'direction')),
        head_id INTEGER REFERENCES passages (id),
        opened_by INTEGER,
        opened_at REAL NOT NULL,
        deadline REAL NOT NULL,
        quorum INTEGER NOT NULL DEFAULT 0,
        channel_id INTEGER,
        message_id INTEGER,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        closed_at REAL,
        outcome TEXT NOT NULL DEFAULT '',
        winner_id INTEGER REFERENCES ballot_options (id)
    );
    CREATE UNIQUE INDEX one_open_ballot_per_kind ON ballots (story_id, kind)
        WHERE status = 'open';
    CREATE INDEX ballots_by_message ON ballots (message_id);
    CREATE TABLE ballot_options (
        id INTEGER PRIMARY KEY,
        ballot_id INTEGER NOT NULL REFERENCES ballots (id),
        emoji TEXT NOT NULL,
        passage_id INTEGER REFERENCES passages (id),
        text TEXT NOT NULL DEFAULT '',
        proposed_by INTEGER,
        UNIQUE (ballot_id, emoji)
    );
    CREATE TABLE votes (
        id INTEGER PRIMARY KEY,
        ballot_id INTEGER NOT NULL REFERENCES ballots (id),
        member_id INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        added INTEGER NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX votes_by_ballot ON votes (ballot_id);
    CREATE TABLE passage_messages (
        message_id INTEGER PRIMARY KEY,
        passage_id INTEGER NOT NULL REFERENCES passages (id)
    );
    CREATE TABLE nudges (
        id INTEGER PRIMARY KEY,
        passage_id INTEGER NOT NULL REFERENCES passages (id),
        member_id INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        added INTEGER NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX nudges_by_passage ON nudges (passage_id);
    """,
    # 4: each passage's depth in its story (the opening is 0), and calls by story and time.
    """
    ALTER TABLE passages ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
    WITH RECURSIVE tree (id, depth) AS (
        SELECT id, 0 FROM passages WHERE parent_id IS NULL
        UNION ALL
        SELECT passages.id, tree.depth + 1 FROM passages JOIN tree ON passages.parent_id = tree.id
    )
    UPDATE passages SET depth = (SELECT depth FROM tree WHERE tree.id = passages.id);
    DROP INDEX model_calls_by_story;
    CREATE INDEX model_calls_by_story ON model_calls (story_id, created_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_MS = 30_000
"""How long a connection waits for another's write lock: long enough for a migration."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class StaleHead(Exception):
    """The story moved on while a change was being prepared; only its model calls were logged."""


class StoreError(Exception):
    """The database cannot be used; the message is one sentence for the operator."""


def statements(script: str) -> list[str]:
    """The SQL statements of a migration script, one by one."""
    found, current = [], ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                found.append(current.strip())
            current = ""
    return found


def newer_schema(path: Path | str, found: int) -> StoreError:
    return StoreError(
        f"{path} is from a newer AutoMuse (schema version {found});"
        f" this one knows up to version {SCHEMA_VERSION}, so it was left untouched."
    )


@dataclass(frozen=True)
class Story:
    id: int
    guild_id: int | None
    channel_id: int | None
    title: str
    status: str
    head_id: int | None
    started_by: int | None
    memory: str
    note: str
    settings: dict[str, Any]
    created_at: str
    pending_direction: str = ""
    """A direction members voted for, waiting to steer the next passage."""


@dataclass(frozen=True)
class Passage:
    id: int
    story_id: int
    parent_id: int | None
    text: str
    summary: str | None
    author_id: int | None
    """The member who wrote it, or None when the model did."""
    direction: str
    model: str
    created_at: str
    context: dict[str, Any] | None = None
    """The labelled context the passage was generated from, for exports."""
    requested_by: int | None = None
    looped: bool = False
    """True when every attempt looped and the least repetitive one was kept."""
    depth: int = 0
    """How many passages come before it in its story; its number is depth + 1."""


@dataclass(frozen=True)
class NewPassage:
    """A passage about to be stored."""

    text: str
    summary: str | None = None
    author_id: int | None = None
    direction: str = ""
    model: str = ""
    context: dict[str, Any] | None = None
    requested_by: int | None = None
    looped: bool = False


@dataclass(frozen=True)
class LoreEntry:
    id: int
    story_id: int
    kind: str
    name: str
    keywords: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Option:
    """One choice on a ballot: a candidate passage, a direction, or "none of these"."""

    id: int
    ballot_id: int
    emoji: str
    passage_id: int | None
    text: str
    proposed_by: int | None


@dataclass(frozen=True)
class Ballot:
    id: int
    story_id: int
    kind: str
    """"passage" or "direction"."""
    head_id: int | None
    opened_by: int | None
    opened_at: float
    deadline: float
    quorum: int
    channel_id: int | None
    message_id: int | None
    status: str
    closed_at: float | None
    outcome: str
    """"chosen", "reroll", "no votes" or "void" once closed."""
    winner_id: int | None
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Reaction:
    """A member adding or withdrawing a reaction: a vote on a ballot, or a tone nudge."""

    member_id: int
    emoji: str
    added: bool
    at: float


@dataclass(frozen=True)
class ModelCall:
    """One call to a model, as logged."""

    purpose: str
    model: str
    prompt: str
    response: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    error: str = ""
    created_at: str = field(default_factory=now)


STORY_COLUMNS = (
    "id, guild_id, channel_id, title, status, head_id, started_by, memory, note, settings,"
    " created_at, pending_direction"
)
PASSAGE_COLUMNS = (
    "id, story_id, parent_id, text, summary, author_id, direction, model, created_at, context,"
    " requested_by, looped, depth"
)


def _story(row: Sequence[Any]) -> Story:
    return Story(*row[:9], json.loads(row[9]), *row[10:])


def _passage(row: Sequence[Any]) -> Passage:
    context = json.loads(row[9]) if row[9] else None
    return Passage(*row[:9], context, row[10], bool(row[11]), row[12])


def _lore(row: Sequence[Any]) -> LoreEntry:
    keywords = tuple(k for k in row[4].split("\n") if k)
    return LoreEntry(row[0], row[1], row[2], row[3], keywords, row[5])


async def connect(path: Path | str, create: bool) -> aiosqlite.Connection:
    """A connection in autocommit mode to the database at `path`, created only if `create`."""
    if str(path) == ":memory:":
        return await aiosqlite.connect(":memory:", isolation_level=None)
    file = Path(path)
    try:
        if not create:
            if not file.is_file():
                raise StoreError(f"There is no database at {path}.")
            uri = f"file:{quote(str(file.absolute()))}?mode=rw"
            return await aiosqlite.connect(uri, uri=True, isolation_level=None)
        file.parent.mkdir(parents=True, exist_ok=True)
        return await aiosqlite.connect(file, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise StoreError(f"The database {path} cannot be opened ({reason}).") from None


async def use_wal(db: aiosqlite.Connection) -> None:
    """Switch to write-ahead logging. SQLite refuses the switch at once, without waiting,
    while another connection is switching the same new file, so this retries until the busy
    timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.02)


class Store:
    """One SQLite database. Every operation is serialised through one lock: a change of
    several statements is one transaction that no other coroutine can see half-done, and a
    single statement is atomic on its own."""

    def __init__(self, db: aiosqlite.Connection, name: str = "the database") -> None:
        self._db = db
        self._name = name
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path | str, *, version: int = SCHEMA_VERSION, create: bool = True
    ) -> Store:
        """Open the database and migrate it up to `version`; create it (and its folder) only
        if `create` is true.

        Raises StoreError, with everything it opened closed again, if the database is missing
        and not to be created, cannot be opened, is not an AutoMuse database, or is newer
        than this code. A newer database is not written to.
        """
        db = await connect(path, create)
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            store = cls(db, str(path))
            found = await store.schema_version()
            if found > SCHEMA_VERSION:
                raise newer_schema(path, found)
            await use_wal(db)
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA cache_size = -32000")
            await db.execute("PRAGMA mmap_size = 268435456")
            await db.execute("PRAGMA foreign_keys = ON")
            if found < version:
                await store.migrate(version)
        except sqlite3.OperationalError as error:
            await db.close()
            raise StoreError(f"The database {path} cannot be used ({error}).") from None
        except sqlite3.DatabaseError as error:
            await db.close()
            raise StoreError(f"{path} is not an AutoMuse database ({error}).") from None
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, version: int = SCHEMA_VERSION) -> None:
        """Apply the numbered migrations after the current one in one write transaction that
        reads the current version inside it, so that processes opening a new database at once
        take turns and each migration runs once."""
        async with self._transaction() as db:
            current = await self.schema_version()
            if current > SCHEMA_VERSION:
                raise newer_schema(self._name, current)
            for number in range(current + 1, version + 1):
                for statement in statements(MIGRATIONS[number - 1]):
                    await db.execute(statement)
            if version > current:
                await db.execute(f"PRAGMA user_version = {version}")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._lock:
            return list(await self._db.execute_fetchall(sql, params))

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Cursor:
        """One statement, atomic on its own (the connection is in autocommit mode)."""
        async with self._lock:
            return await self._db.execute(sql, params)

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

        Raises sqlite3.IntegrityError if the channel already has an active story.
        """
        async with self._transaction() as db:
            story_id = await self._insert_story(
                db, guild_id, channel_id, title, started_by, settings, memory
            )
            passage_id = await self._insert_passage(db, story_id, None, opening)
            await db.execute("UPDATE stories SET head_id = ? WHERE id = ?", (passage_id, story_id))
            await self._insert_calls(db, story_id, passage_id, calls)
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
        db: aiosqlite.Connection,
        guild_id: int | None,
        channel_id: int | None,
        title: str,
        started_by: int | None,
        settings: dict[str, Any],
        memory: str,
    ) -> int:
        cursor = await db.execute(
            "INSERT INTO stories (guild_id, channel_id, title, started_by, memory, settings,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (guild_id, channel_id, title, started_by, memory, json.dumps(settings), now()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def story(self, story_id: int) -> Story | None:
        row = await self._one(f"SELECT {STORY_COLUMNS} FROM stories WHERE id = ?", (story_id,))
        return _story(row) if row else None

    async def active_story(self, guild_id: int, channel_id: int) -> Story | None:
        row = await self._one(
            f"SELECT {STORY_COLUMNS} FROM stories"
            " WHERE guild_id = ? AND channel_id = ? AND status = 'active'",
            (guild_id, channel_id),
        )
        return _story(row) if row else None

    async def stories(self) -> list[tuple[Story, int]]:
        """Every story, newest first, with the number of passages on its current line."""
        rows = await self._all(
            f"SELECT {STORY_COLUMNS} FROM stories ORDER BY id DESC",
        )
        result = []
        for row in rows:
            story = _story(row)
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
        self, db: aiosqlite.Connection, story_id: int, parent_id: int | None, new: NewPassage
    ) -> int:
        cursor = await db.execute(
            "INSERT INTO passages (story_id, parent_id, text, summary, author_id, direction,"
            " model, created_at, context, requested_by, looped, depth)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
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
                parent_id,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def _check_head(self, db: aiosqlite.Connection, story_id: int, head_id: int) -> None:
        async with db.execute(
            "SELECT head_id FROM stories WHERE id = ? AND status = 'active'", (story_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row[0] != head_id:
            raise StaleHead(story_id)

    @asynccontextmanager
    async def _at_head(
        self, story_id: int, head_id: int, calls: Sequence[ModelCall]
    ) -> AsyncIterator[aiosqlite.Connection]:
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
            passage_id = await self._insert_passage(db, story_id, parent, new)
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
        summary: str,
        calls: Sequence[ModelCall] = (),
    ) -> Passage:
        """Make a stored alternative the head, recording its rolling summary."""
        async with self._at_head(story_id, head_id, calls) as db:
            await db.execute(
                "UPDATE passages SET summary = ? WHERE id = ? AND parent_id = ?",
                (summary, passage_id, head_id),
            )
            await db.execute("UPDATE stories SET head_id = ? WHERE id = ?", (passage_id, story_id))
            await self._insert_calls(db, story_id, passage_id, calls)
        passage = await self.passage(passage_id)
        assert passage is not None
        return passage

    async def move_head(self, story_id: int, head_id: int, new_head_id: int) -> None:
        """Point the story at another passage it already has (undo)."""
        async with self._transaction() as db:
            await self._check_head(db, story_id, head_id)
            await db.execute("UPDATE stories SET head_id = ? WHERE id = ?", (new_head_id, story_id))

    async def passage(self, passage_id: int) -> Passage | None:
        row = await self._one(f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE id = ?", (passage_id,))
        return _passage(row) if row else None

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
                SELECT ?, 0
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
        return [_passage(row) for row in reversed(rows)]

    async def children(self, passage_id: int) -> list[Passage]:
        rows = await self._all(
            f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE parent_id = ? ORDER BY id",
            (passage_id,),
        )
        return [_passage(row) for row in rows]

    # Lore

    async def add_lore(
        self, story_id: int, kind: str, name: str, keywords: Sequence[str], text: str
    ) -> LoreEntry:
        """Add an entry. Raises sqlite3.IntegrityError if the name is taken in this story."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO lore (story_id, kind, name, keywords, text) VALUES (?, ?, ?, ?, ?)",
                (story_id, kind, name, "\n".join(keywords), text),
            )
            lore_id = cursor.lastrowid
        return LoreEntry(lore_id, story_id, kind, name, tuple(keywords), text)  # type: ignore[arg-type]

    async def remove_lore(self, story_id: int, name: str) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "DELETE FROM lore WHERE story_id = ? AND name = ? COLLATE NOCASE", (story_id, name)
            )
            return cursor.rowcount > 0

    async def lore(self, story_id: int) -> list[LoreEntry]:
        rows = await self._all(
            "SELECT id, story_id, kind, name, keywords, text FROM lore"
            " WHERE story_id = ? ORDER BY kind, name",
            (story_id,),
        )
        return [_lore(row) for row in rows]

    # Model calls

    async def _insert_calls(
        self,
        db: aiosqlite.Connection,
        story_id: int | None,
        passage_id: int | None,
        calls: Sequence[ModelCall],
    ) -> None:
        await db.executemany(
            "INSERT INTO model_calls (story_id, passage_id, purpose, model, prompt, response,"
            " prompt_tokens, completion_tokens, latency_ms, error, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    story_id,
                    passage_id,
                    call.purpose,
                    call.model,
                    call.prompt,
                    call.response,
                    call.prompt_tokens,
                    call.completion_tokens,
                    call.latency_ms,
                    call.error,
                    call.created_at,
                )
                for call in calls
            ],
        )

    async def log_calls(self, story_id: int | None, calls: Sequence[ModelCall]) -> None:
        """Log calls that produced nothing stored, such as failed attempts or recaps."""
        async with self._transaction() as db:
            await self._insert_calls(db, story_id, None, calls)

    async def calls(self, story_id: int) -> list[ModelCall]:
        rows = await self._all(
            "SELECT purpose, model, prompt, response, prompt_tokens, completion_tokens,"
            " latency_ms, error, created_at FROM model_calls WHERE story_id = ? ORDER BY id",
            (story_id,),
        )
        return [ModelCall(*row) for row in rows]

    async def tokens_used(self, guild_id: int, since: str) -> int:
        """Prompt and completion tokens of every call for the guild's stories since `since`."""
        row = await self._one(
            "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM model_calls"
            " JOIN stories ON stories.id = model_calls.story_id"
            " WHERE stories.guild_id = ? AND model_calls.created_at >= ?",
            (guild_id, since),
        )
        return int(row[0])

    # Ballots

    async def create_ballot(
        self,
        story_id: int,
        kind: str,
        *,
        head_id: int | None,
        opened_by: int | None,
        opened_at: float,
        deadline: float,
        quorum: int,
        options: Sequence[tuple[str, int | None, str, int | None]],
    ) -> Ballot:
        """Open a ballot with its options (emoji, passage id, text, proposed by).

        Raises sqlite3.IntegrityError if the story already has an open ballot of this kind.
        """
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO ballots (story_id, kind, head_id, opened_by, opened_at, deadline,"
                " quorum) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (story_id, kind, head_id, opened_by, opened_at, deadline, quorum),
            )
            ballot_id = cursor.lastrowid
            await db.executemany(
                "INSERT INTO ballot_options (ballot_id, emoji, passage_id, text, proposed_by)"
                " VALUES (?, ?, ?, ?, ?)",
                [(ballot_id, *option) for option in options],
            )
        ballot = await self.ballot(ballot_id)
        assert ballot is not None
        return ballot

    async def ballot(self, ballot_id: int) -> Ballot | None:
        return await self._ballot_where("id = ?", ballot_id)

    async def open_ballot(self, story_id: int, kind: str) -> Ballot | None:
        return await self._ballot_where(
            "story_id = ? AND kind = ? AND status = 'open'", story_id, kind
        )

    async def ballot_by_message(self, message_id: int) -> Ballot | None:
        return await self._ballot_where("message_id = ?", message_id)

    async def open_ballots(self) -> list[Ballot]:
        rows = await self._all("SELECT id FROM ballots WHERE status = 'open' ORDER BY deadline")
        return [b for b in [await self.ballot(row[0]) for row in rows] if b is not None]

    async def closed_passage_ballots(self, story_id: int) -> list[Ballot]:
        rows = await self._all(
            "SELECT id FROM ballots WHERE story_id = ? AND kind = 'passage'"
            " AND status = 'closed' AND outcome = 'chosen' ORDER BY id",
            (story_id,),
        )
        return [b for b in [await self.ballot(row[0]) for row in rows] if b is not None]

    async def _ballot_where(self, condition: str, *params: Any) -> Ballot | None:
        row = await self._one(
            "SELECT id, story_id, kind, head_id, opened_by, opened_at, deadline, quorum,"
            f" channel_id, message_id, status, closed_at, outcome, winner_id FROM ballots"
            f" WHERE {condition} ORDER BY id DESC LIMIT 1",
            params,
        )
        if row is None:
            return None
        options = await self._all(
            "SELECT id, ballot_id, emoji, passage_id, text, proposed_by FROM ballot_options"
            " WHERE ballot_id = ? ORDER BY id",
            (row[0],),
        )
        return Ballot(*row, options=tuple(Option(*option) for option in options))

    async def add_option(
        self, ballot_id: int, emoji: str, text: str, proposed_by: int | None
    ) -> Option:
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO ballot_options (ballot_id, emoji, text, proposed_by)"
                " VALUES (?, ?, ?, ?)",
                (ballot_id, emoji, text, proposed_by),
            )
            option_id = cursor.lastrowid
        assert option_id is not None
        return Option(option_id, ballot_id, emoji, None, text, proposed_by)

    async def set_ballot_message(self, ballot_id: int, channel_id: int, message_id: int) -> None:
        await self._write(
            "UPDATE ballots SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, ballot_id),
        )

    async def add_votes(self, ballot_id: int, votes: Sequence[Reaction]) -> None:
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO votes (ballot_id, member_id, emoji, added, at) VALUES (?, ?, ?, ?, ?)",
                [(ballot_id, v.member_id, v.emoji, int(v.added), v.at) for v in votes],
            )

    async def votes(self, ballot_id: int) -> list[Reaction]:
        rows = await self._all(
            "SELECT member_id, emoji, added, at FROM votes WHERE ballot_id = ? ORDER BY id",
            (ballot_id,),
        )
        return [Reaction(member, emoji, bool(added), at) for member, emoji, added, at in rows]

    async def close_ballot(
        self,
        ballot_id: int,
        *,
        closed_at: float,
        outcome: str,
        winner_id: int | None,
        pending_direction: str | None = None,
    ) -> bool:
        """Close an open ballot, and set the story's pending direction if one is given.

        Returns False, changing nothing, if the ballot was not open.
        """
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE ballots SET status = 'closed', closed_at = ?, outcome = ?, winner_id = ?"
                " WHERE id = ? AND status = 'open'",
                (closed_at, outcome, winner_id, ballot_id),
            )
            if cursor.rowcount and pending_direction is not None:
                await db.execute(
                    "UPDATE stories SET pending_direction = ?"
                    " WHERE id = (SELECT story_id FROM ballots WHERE id = ?)",
                    (pending_direction, ballot_id),
                )
            return cursor.rowcount > 0

    # Posted passages and tone nudges

    async def add_passage_message(self, message_id: int, passage_id: int) -> None:
        await self._write(
            "INSERT OR REPLACE INTO passage_messages (message_id, passage_id) VALUES (?, ?)",
            (message_id, passage_id),
        )

    async def passage_for_message(self, message_id: int) -> int | None:
        row = await self._one(
            "SELECT passage_id FROM passage_messages WHERE message_id = ?", (message_id,)
        )
        return row[0] if row else None

    async def add_nudge(self, passage_id: int, nudge: Reaction) -> None:
        await self._write(
            "INSERT INTO nudges (passage_id, member_id, emoji, added, at) VALUES (?, ?, ?, ?, ?)",
            (passage_id, nudge.member_id, nudge.emoji, int(nudge.added), nudge.at),
        )

    async def nudges(self, passage_id: int) -> list[Reaction]:
        rows = await self._all(
            "SELECT member_id, emoji, added, at FROM nudges WHERE passage_id = ? ORDER BY id",
            (passage_id,),
        )
        return [Reaction(member, emoji, bool(added), at) for member, emoji, added, at in rows]
