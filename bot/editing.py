"""Changes members make to a story besides its passages: memory, author's note, settings,
lore, threads, and the automatic entries of its continuity ledger. Each input is checked
before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bot.errors import InvalidInput, NotFound
from bot.lookups import find_story
from bot.settings import LIMITS, LORE_KINDS, StorySettings, checked, parse_keywords
from bot.store import Conflict, LedgerEntry, LoreEntry, Store, Story, Thread


class StoryEdits:
    """A story's memory, note, settings and lore, over a Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def set_memory(self, story_id: int, text: str) -> Story:
        await find_story(self.store, story_id)
        await self.store.update_story(
            story_id, memory=checked(text, "memory", LIMITS.memory, required=False)
        )
        return await find_story(self.store, story_id)

    async def set_note(self, story_id: int, text: str) -> Story:
        await find_story(self.store, story_id)
        await self.store.update_story(
            story_id, note=checked(text, "author's note", LIMITS.note, required=False)
        )
        return await find_story(self.store, story_id)

    async def update_settings(self, story_id: int, **changes: Any) -> StorySettings:
        story = await find_story(self.store, story_id)
        unknown = set(changes) - set(StorySettings.__dataclass_fields__)
        if unknown:
            raise InvalidInput(f"Unknown setting: {', '.join(sorted(unknown))}.")
        settings = replace(StorySettings.of(story), **changes).validated()
        await self.store.update_story(story_id, settings={**story.settings, **settings.__dict__})
        return settings

    async def add_lore(
        self, story_id: int, kind: str, name: str, keywords: str | Sequence[str], text: str
    ) -> LoreEntry:
        await find_story(self.store, story_id)
        kind = kind.strip().lower()
        if kind not in LORE_KINDS:
            raise InvalidInput(f"A lore entry's kind must be one of: {', '.join(LORE_KINDS)}.")
        name = checked(name, "name", LIMITS.lore_name)
        words = parse_keywords(keywords)
        if not words:
            words = (name.lower(),)
        if len(",".join(words)) > LIMITS.lore_keywords:
            raise InvalidInput(
                f"The keywords are too long; the limit is {LIMITS.lore_keywords} characters."
            )
        text = checked(text, "lore text", LIMITS.lore_text)
        try:
            return await self.store.add_lore(story_id, kind, name, words, text)
        except Conflict:
            raise InvalidInput(f"This story already has a lore entry named {name}.") from None

    async def remove_lore(self, story_id: int, name: str) -> str:
        """Remove the members' lore entry called `name`, or else the continuity ledger's
        entries about it (for good: passages that name it again do not bring them back).
        Returns which was removed: "lore" or "ledger"."""
        await find_story(self.store, story_id)
        name = name.strip()
        if await self.store.remove_lore(story_id, name):
            return "lore"
        if name and await self.store.remove_ledger(story_id, name):
            return "ledger"
        raise NotFound(f"This story has no lore or ledger entry named {name}.")

    async def lore(self, story_id: int) -> list[LoreEntry]:
        await find_story(self.store, story_id)
        return await self.store.lore(story_id)

    async def ledger(self, story_id: int) -> list[LedgerEntry]:
        """What the continuity ledger recorded of the story, most mentioned first."""
        await find_story(self.store, story_id)
        return await self.store.ledger(story_id)

    async def threads(self, story_id: int) -> list[Thread]:
        """The story's threads, open and closed, oldest first."""
        await find_story(self.store, story_id)
        return await self.store.threads(story_id, closed=True)

    async def add_thread(self, story_id: int, text: str, opened_by: int | None) -> Thread:
        """Open a thread: a question the story is to come back to and answer."""
        await find_story(self.store, story_id)
        text = " ".join(checked(text, "thread", LIMITS.thread).split())
        open_threads = await self.store.threads(story_id)
        if len(open_threads) >= LIMITS.open_threads:
            raise InvalidInput(
                f"This story already has {LIMITS.open_threads} open threads; close one first."
            )
        if any(t.text.lower() == text.lower() for t in open_threads):
            raise InvalidInput("This story already has that thread open.")
        return await self.store.add_thread(story_id, text, opened_by)

    async def close_thread(self, story_id: int, thread_id: int) -> Thread:
        """Close an open thread: the planner no longer comes back to it."""
        await find_story(self.store, story_id)
        found = [t for t in await self.store.threads(story_id) if t.id == thread_id]
        if not found or not await self.store.close_thread(story_id, found[0].id):
            raise NotFound(f"This story has no open thread #{thread_id}.")
        return replace(found[0], status="closed")
