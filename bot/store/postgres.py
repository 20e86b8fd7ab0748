"""The PostgreSQL backend through asyncpg: a pool of connections, one transaction per change."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bot.store.base import (
    SCHEMA_VERSION,
    Conflict,
    Connection,
    Database,
    StoreError,
    newer_schema,
)
from bot.store.migrations.postgres import MIGRATIONS

MIGRATION_LOCK = 0x6175746F6D757365
"""The advisory lock that serialises migrations across processes ("automuse" in hex)."""


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def public_name(url: str) -> str:
    """The URL without user name or password, fit to print."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{parts.hostname or ''}{port}{parts.path}"


@lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """The store's `?` placeholders as PostgreSQL's `$1, $2, …`."""
    counter = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


def changed(status: str) -> int:
    """The row count of a command status such as "UPDATE 1" or "INSERT 0 3"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


@contextmanager
def conflicts() -> Iterator[None]:
    """Turns PostgreSQL's constraint violations into the store's Conflict."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as error:
        raise Conflict(str(error)) from error


LOST = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
)
"""What asyncpg raises when the server has gone away, is shutting down or cannot be reached."""


@asynccontextmanager
async def reachable(name: str) -> AsyncIterator[None]:
    """Turns a lost or refused connection into one StoreError sentence."""
    try:
        yield
    except LOST as error:
        raise StoreError(
            f"The database {name} cannot be reached ({type(error).__name__}); the change in"
            " progress was not made, try again later."
        ) from None


class PostgresConnection:
    """Statements inside a transaction on one pooled connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with conflicts():
            return changed(await self._connection.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with conflicts():
                await self._connection.executemany(numbered(sql), rows)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self._connection.fetch(numbered(sql), *params)]

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        with conflicts():
            return int(await self._connection.fetchval(numbered(sql) + " RETURNING id", *params))


class PostgresDatabase(Database):
    """One PostgreSQL database through a pool of asyncpg connections."""

    def __init__(self, pool: asyncpg.Pool, name: str) -> None:
        self._pool = pool
        self.name = name

    @classmethod
    async def open(
        cls, url: str, *, version: int = SCHEMA_VERSION, create: bool = True
    ) -> PostgresDatabase:
        """Connect and migrate up to `version`. With `create` false, a database that holds
        no AutoMuse schema yet is refused instead. Raises StoreError, with the pool closed,
        if it cannot be used; the message never shows the password."""
        name = public_name(url)
        pool: asyncpg.Pool | None = None
        try:
            # No connection floor: a pool that keeps one would retry it in the background,
            # logging a traceback each time, once the server has gone away.
            pool = await asyncpg.create_pool(url, min_size=0, max_size=10, timeout=10)
            async with pool.acquire():
                pass
        except (OSError, TimeoutError, asyncpg.PostgresError, ValueError) as error:
            if pool is not None:
                await pool.close()
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise StoreError(f"The database {name} cannot be opened ({reason}).") from None
        database = cls(pool, name)
        try:
            found = await database.schema_version()
            if found > SCHEMA_VERSION:
                raise newer_schema(name, found)
            if not create and found == 0:
                raise StoreError(f"There is no AutoMuse database at {name}.")
            if found < version:
                await database.migrate(version)
        except asyncpg.PostgresError as error:
            await pool.close()
            raise StoreError(f"The database {name} cannot be used ({error}).") from None
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        await self._pool.close()

    async def schema_version(self) -> int:
        async with self._pool.acquire() as connection:
            return await self._version(connection)

    @staticmethod
    async def _version(connection: asyncpg.Connection) -> int:
        # A catalog scan sees tables committed by another migrating process; to_regclass
        # may still answer from this connection's stale catalog cache.
        exists = (
            "SELECT EXISTS (SELECT FROM pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'automuse_schema')"
        )
        if not await connection.fetchval(exists):
            return 0
        return int(await connection.fetchval("SELECT version FROM automuse_schema"))

    async def columns(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for table, column in await self.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name <> 'automuse_schema'"
            " ORDER BY table_name, ordinal_position"
        ):
            found.setdefault(table, []).append(column)
        return found

    async def after_copy(self, connection: Connection, tables: Sequence[str]) -> None:
        """Move each identity column's sequence past the largest copied id."""
        identities = await connection.fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND column_name = 'id' AND is_identity = 'YES'"
        )
        for (table,) in identities:
            if table in tables:
                await connection.fetch(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                )

    async def migrate(self, version: int = SCHEMA_VERSION) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            current = await self._version(connection)
            if current > SCHEMA_VERSION:
                raise newer_schema(self.name, current)
            if current == 0:
                await connection.execute(
                    "CREATE TABLE automuse_schema (version INTEGER NOT NULL);"
                    " INSERT INTO automuse_schema VALUES (0)"
                )
            for number in sorted(n for n in MIGRATIONS if current < n <= version):
                await connection.execute(MIGRATIONS[number])
            if version > current:
                await connection.execute("UPDATE automuse_schema SET version = $1", version)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        async with (
            reachable(self.name),
            self._pool.acquire() as connection,
            connection.transaction(),
        ):
            yield PostgresConnection(connection)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with reachable(self.name), self._pool.acquire() as connection:
            return await PostgresConnection(connection).fetch(sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with reachable(self.name), self._pool.acquire() as connection:
            return await PostgresConnection(connection).execute(sql, params)
