"""Copying a whole AutoMuse database to another backend (`automuse migrate-db`): every table,
ids and heads kept, row counts checked on both sides, all in one transaction on the target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.store.base import Connection, StoreError
from bot.store.store import Store

ORDER = (
    "stories",
    "passages",
    "lore",
    "model_calls",
    "ballots",
    "ballot_options",
    "votes",
    "passage_messages",
    "nudges",
    "leases",
    "cooldowns",
    "ledger",
    "threads",
)
"""Tables in an order that satisfies their references; tables not named here come last."""
LATER = {"stories": "head_id", "ballots": "winner_id"}
"""Columns that point forward (a story's head, a ballot's winner): set once all rows exist."""
PAGE = 500


async def transfer(source: Store, target: Store) -> dict[str, int]:
    """Copy every row of `source` into the empty `target`; the number of rows per table.

    Raises StoreError, writing nothing, if the schemas differ, the target holds data, or a
    row count differs after the copy.
    """
    columns = await source.database.columns()
    if columns != await target.database.columns():
        raise StoreError(
            f"{source.name} and {target.name} have different schemas; open both with this"
            " version of AutoMuse first."
        )
    tables = [t for t in ORDER if t in columns] + sorted(set(columns) - set(ORDER))
    for table in tables:
        [(rows,)] = await target.database.fetch(f"SELECT count(*) FROM {table}")
        if rows:
            raise StoreError(
                f"{target.name} already holds data ({rows} rows in {table});"
                " migrate-db only fills an empty database."
            )
    counts = {
        table: int((await source.database.fetch(f"SELECT count(*) FROM {table}"))[0][0])
        for table in tables
    }
    async with target.database.transaction() as db:
        for table in tables:
            await copy_table(source, db, table, columns[table])
        for table, column in LATER.items():
            if table in columns:
                await copy_column(source, db, table, column)
        await target.database.after_copy(db, tables)
        for table in tables:
            [(copied,)] = await db.fetch(f"SELECT count(*) FROM {table}")
            if int(copied) != counts[table]:
                raise StoreError(
                    f"Copying {table} gave {copied} rows instead of {counts[table]};"
                    f" nothing was written to {target.name}."
                )
    return counts


async def copy_table(source: Store, db: Connection, table: str, columns: Sequence[str]) -> None:
    """Copy one table, page by page in id order where it has ids, leaving forward-pointing
    columns empty."""
    names = ", ".join(columns)
    later = LATER.get(table)
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    paged = columns[0] == "id"
    last: Any = None
    while True:
        after = "" if last is None else " WHERE id > ?"
        page = f" ORDER BY id LIMIT {PAGE}" if paged else ""
        rows = await source.database.fetch(
            f"SELECT {names} FROM {table}{after}{page}", () if last is None else (last,)
        )
        if not rows:
            return
        if later:
            at = list(columns).index(later)
            rows = [(*row[:at], None, *row[at + 1 :]) for row in rows]
        await db.executemany(insert, rows)
        if not paged:
            return
        last = rows[-1][0]


async def copy_column(source: Store, db: Connection, table: str, column: str) -> None:
    rows = await source.database.fetch(
        f"SELECT {column}, id FROM {table} WHERE {column} IS NOT NULL"
    )
    await db.executemany(f"UPDATE {table} SET {column} = ? WHERE id = ?", rows)
