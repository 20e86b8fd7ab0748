"""The SQLite backend through aiosqlite: one connection, serialised by a lock."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from bot.store.base import (
    SCHEMA_VERSION,
    Conflict,
    Connection,
    Database,
    StoreError,
    newer_schema,
)
from bot.store.migrations.sqlite import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000
"""How long a connection waits for another's write lock: long enough for a migration."""


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


@contextmanager
def undamaged(name: str) -> Iterator[None]:
    """Turns SQLite's report of a damaged file ("database disk image is malformed") into one
    sentence that names the file."""
    try:
        yield
    except sqlite3.DatabaseError as error:
        if type(error) is not sqlite3.DatabaseError:
            raise
        raise damaged(name, error) from None


def damaged(name: str, error: sqlite3.DatabaseError) -> StoreError:
    return StoreError(
        f"The database {name} is damaged ({error}); nothing was changed. Restore it from a backup."
    )


@contextmanager
def conflicts() -> Iterator[None]:
    """Turns SQLite's constraint violations into the store's Conflict."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise Conflict(str(error)) from error


class SQLiteConnection:
    """Statements inside a transaction on the one connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with conflicts():
            cursor = await self._db.execute(sql, params)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with conflicts():
            await self._db.executemany(sql, rows)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self._db.execute_fetchall(sql, params)]

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        with conflicts():
            cursor = await self._db.execute(sql, params)
        assert cursor.lastrowid is not None
        return cursor.lastrowid


class SQLiteDatabase(Database):
    """One SQLite file. Every operation is serialised through one lock: a change of several
    statements is one transaction that no other coroutine can see half-done, and a single
    statement is atomic on its own."""

    def __init__(self, db: aiosqlite.Connection, name: str) -> None:
        self._db = db
        self.name = name
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path | str, *, version: int = SCHEMA_VERSION, create: bool = True
    ) -> SQLiteDatabase:
        """Open the file and migrate it up to `version`; create it (and its folder) only if
        `create` is true.

        Raises StoreError, with everything it opened closed again, if the file is missing and
        not to be created, cannot be opened, is not an AutoMuse database, or is newer than
        this code. A newer database is not written to.
        """
        db = await connect(path, create)
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            database = cls(db, str(path))
            found = await database.schema_version()
            if found > SCHEMA_VERSION:
                raise newer_schema(str(path), found)
            await use_wal(db)
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA cache_size = -32000")
            await db.execute("PRAGMA mmap_size = 268435456")
            await db.execute("PRAGMA foreign_keys = ON")
            if found < version:
                await database.migrate(version)
        except sqlite3.OperationalError as error:
            await db.close()
            raise StoreError(f"The database {path} cannot be used ({error}).") from None
        except sqlite3.DatabaseError as error:
            await db.close()
            if "malformed" in str(error):
                raise damaged(str(path), error) from None
            raise StoreError(f"{path} is not an AutoMuse database ({error}).") from None
        except BaseException:
            await db.close()
            raise
        return database

    async def close(self) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def columns(self) -> dict[str, list[str]]:
        tables = await self.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        return {
            table: [
                row[0] for row in await self.fetch(f"SELECT name FROM pragma_table_info('{table}')")
            ]
            for (table,) in tables
        }

    async def after_copy(self, connection: Connection, tables: Sequence[str]) -> None:
        """Nothing to do: a new row's id is one past the largest."""

    async def migrate(self, version: int = SCHEMA_VERSION) -> None:
        async with self.transaction() as connection:
            current = await self.schema_version()
            if current > SCHEMA_VERSION:
                raise newer_schema(self.name, current)
            for number in sorted(n for n in MIGRATIONS if current < n <= version):
                for statement in statements(MIGRATIONS[number]):
                    await connection.execute(statement)
            if version > current:
                await connection.execute(f"PRAGMA user_version = {version}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLiteConnection]:
        async with self._lock:
            with undamaged(self.name):
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield SQLiteConnection(self._db)
                except BaseException:
                    await self._db.execute("ROLLBACK")
                    raise
                await self._db.execute("COMMIT")

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._lock:
            with undamaged(self.name):
                return [tuple(row) for row in await self._db.execute_fetchall(sql, params)]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._lock:
            with undamaged(self.name):
                return await SQLiteConnection(self._db).execute(sql, params)
