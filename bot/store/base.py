"""What every database backend provides to the store: statements, transactions, migrations.

A backend is one connection (SQLite) or one pool (PostgreSQL). The store's SQL is written
once, with `?` placeholders, in the dialect both backends share; each backend runs it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

SCHEMA_VERSION = 8
"""The latest numbered migration; every backend has the same numbers, and both schemas are
equal at each. Numbers are reserved in advance, so one may be missing for a while."""


class StaleHead(Exception):
    """The story moved on while a change was being prepared; only its model calls were logged."""


class Conflict(Exception):
    """The change breaks a rule of the schema (a unique name, one active story per channel,
    one open ballot per kind, a required value); nothing was written."""


class StoreError(Exception):
    """The database cannot be used; the message is one sentence for the operator."""


def newer_schema(name: str, found: int) -> StoreError:
    return StoreError(
        f"{name} is from a newer AutoMuse (schema version {found});"
        f" this one knows up to version {SCHEMA_VERSION}, so it was left untouched."
    )


class Connection(Protocol):
    """Statements inside one transaction."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT of one row; the new row's id."""
        ...


class Database(ABC):
    """One backend: statements on their own, transactions, the schema version."""

    name: str

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query."""

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement, atomic on its own; the number of rows it changed."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def columns(self) -> dict[str, list[str]]:
        """Every AutoMuse table and its columns, in order."""

    @abstractmethod
    async def after_copy(self, connection: Connection, tables: Sequence[str]) -> None:
        """Make rows copied with their ids count: new ids continue after the largest."""

    @abstractmethod
    async def migrate(self, version: int = SCHEMA_VERSION) -> None:
        """Apply the numbered migrations after the current one, in one transaction that reads
        the current version inside it, so that processes opening a database at once take turns."""
