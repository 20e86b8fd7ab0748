"""Processes starting at once on a new PostgreSQL database: exactly one migrates it."""

import asyncio

from bot.store import Store
from tests.postgres_server import PostgresServer


async def test_stores_opening_a_new_database_at_once_all_succeed(postgres: PostgresServer):
    url = await postgres.new_database()
    stores = await asyncio.gather(*(Store.open(url) for _ in range(4)))
    try:
        assert [await store.stories() for store in stores] == [[]] * 4
    finally:
        for store in stores:
            await store.close()
