"""Finding a story and reading its passages, for whoever shows or continues it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.errors import NotFound
from bot.settings import LARGEST_ID
from bot.store import Passage, Store, Story


async def find_story(store: Store, story_id: int) -> Story:
    """The story with this id, or NotFound (also for ids no database column can hold)."""
    story = await store.story(story_id) if 0 < story_id <= LARGEST_ID else None
    if story is None:
        raise NotFound(f"There is no story with id {story_id}.")
    return story


class Stories:
    """Stories and their passages, over a Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def story(self, story_id: int) -> Story:
        return await find_story(self.store, story_id)

    async def active_story(self, guild_id: int, channel_id: int) -> Story:
        story = await self.store.active_story(guild_id, channel_id)
        if story is None:
            raise NotFound("There is no story here yet.")
        return story

    async def tokens_used_today(self, guild_id: int) -> int:
        """Model tokens spent on the guild's stories since midnight UTC."""
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return await self.store.tokens_used(guild_id, midnight.isoformat(timespec="milliseconds"))

    async def length(self, story_id: int) -> int:
        """How many passages the story has, opening included; the head's number."""
        [head] = await self.line(story_id, 1)
        return head.depth + 1

    async def line(self, story_id: int, last: int | None = None) -> list[Passage]:
        """The story's passages from its opening to its head (or only the `last` few)."""
        story = await find_story(self.store, story_id)
        return await self.store.line(story.head_id, last)
