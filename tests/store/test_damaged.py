"""A SQLite file damaged under an open store: reading it is one sentence naming it."""

import re

import pytest

from bot.store import Store, StoreError
from tests.store.filled import fill


async def test_a_file_damaged_while_open_is_reported_in_one_sentence(tmp_path):
    path = tmp_path / "automuse.db"
    store = await Store.open(path)
    try:
        await fill(store)
        for n in range(40):
            await store.add_lore(1, "thing", f"Filler {n}", ["filler"], "words " * 150)
        await store.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = bytearray(path.read_bytes())
        for start in range(3 * 4096, len(data), 4096):
            data[start : start + 2000] = bytes(b ^ 0xFF for b in data[start : start + 2000])
        path.write_bytes(bytes(data))
        damaged = f"The database {path} is damaged (database disk image is malformed)"
        with pytest.raises(StoreError, match=re.escape(damaged)):
            await store.stories()
        with pytest.raises(StoreError, match=re.escape("Restore it from a backup.")):
            await store.lore(1)
    finally:
        await store.close()
