"""Stories made straight in a store, for tests that need one to act on, and the engine
configuration for tests whose scripted model answers in a fixed order."""

from bot.engine import EngineConfig
from bot.settings import StorySettings
from bot.store import NewPassage, Store

SCRIPTED_SETTINGS = StorySettings(planner=False)
"""A scripted model answers passages and summaries in order: no planner call comes between."""
SCRIPTED_CONFIG = EngineConfig(story_defaults=SCRIPTED_SETTINGS)


async def stored_story(store: Store, opening: str = "The lamp went out.") -> int:
    """A new story's id, with the planner off; its opening already has its rolling summary."""
    story = await store.create_story(
        guild_id=1,
        channel_id=2,
        title="T",
        started_by=3,
        settings={"planner": False},
        opening=NewPassage(text=opening, summary=opening),
    )
    return story.id
