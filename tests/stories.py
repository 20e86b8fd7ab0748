"""Stories made straight in a store, for tests that need one to act on."""

from bot.store import NewPassage, Store


async def stored_story(store: Store, opening: str = "The lamp went out.") -> int:
    """A new story's id; its opening already has its rolling summary."""
    story = await store.create_story(
        guild_id=1,
        channel_id=2,
        title="T",
        started_by=3,
        settings={},
        opening=NewPassage(text=opening, summary=opening),
    )
    return story.id
