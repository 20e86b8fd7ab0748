"""A PostgreSQL server that goes away after start-up: one sentence, never a stack trace."""

from __future__ import annotations

import pytest

from bot.store import Store, StoreError
from tests.postgres_server import PostgresServer


async def test_a_server_gone_after_start_up_is_one_sentence() -> None:
    server = PostgresServer().start()
    try:
        store = await Store.open(await server.new_database())
        assert await store.stories() == []
        server.stop()
        with pytest.raises(StoreError) as lost:
            await store.stories()
        with pytest.raises(StoreError):
            await store.remove_lore(1, "Lamp")
    finally:
        server.stop()
    assert str(lost.value).startswith("The database ")
    assert "cannot be reached" in str(lost.value) and "\n" not in str(lost.value)
    await store.close()
