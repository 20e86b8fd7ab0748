"""The store package: one interface over SQLite (aiosqlite) and PostgreSQL (asyncpg), and the
only place with SQL."""

from bot.store.base import SCHEMA_VERSION, Conflict, StaleHead, StoreError
from bot.store.records import (
    Ballot,
    LedgerEntry,
    LoreEntry,
    ModelCall,
    NewPassage,
    Option,
    Passage,
    Reaction,
    Story,
    Thread,
    now,
)
from bot.store.store import Store
from bot.store.transfer import transfer

__all__ = [
    "SCHEMA_VERSION",
    "Ballot",
    "Conflict",
    "LedgerEntry",
    "LoreEntry",
    "ModelCall",
    "NewPassage",
    "Option",
    "Passage",
    "Reaction",
    "StaleHead",
    "Store",
    "StoreError",
    "Story",
    "Thread",
    "now",
    "transfer",
]
