"""Asides: what the model writes for members to read that is not stored in the story, a
recap of the story so far and options for what could happen next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.calls import collected
from bot.errors import GenerationFailed, InvalidInput
from bot.llm import Prompt
from bot.lookups import find_story
from bot.planner import Planner
from bot.prompts import directions_prompt, recap_prompt
from bot.reading import StoryReader
from bot.settings import LIMITS, StorySettings, numbered_items
from bot.store import Passage, Store, Story
from bot.writer import Writer


class Asides:
    """Recaps and plot options, each call logged with the story's model calls."""

    def __init__(
        self,
        store: Store,
        writer: Writer,
        planner: Planner,
        reader: StoryReader,
        judged_passages: int,
    ) -> None:
        self.store = store
        self.writer = writer
        self.planner = planner
        self.reader = reader
        self.judged_passages = judged_passages
        """How many of the latest passages the planner reads for its options."""

    async def recap(self, story_id: int) -> str:
        """A short "previously on…" of the story so far."""
        story = await find_story(self.store, story_id)
        head = (await self.store.line(story.head_id, 1))[0]
        prompt = recap_prompt(story.title, head.summary or "", head.text)
        return await self._aside(story, "recap", prompt, 200)

    async def directions(self, story_id: int, k: int = 3) -> list[str]:
        """k short, different plot options for what could happen next: beats from the
        planner, or, for a story with the planner off, a list the model suggests."""
        if not 2 <= k <= 5:
            raise InvalidInput("Ask for between 2 and 5 directions.")
        story = await find_story(self.store, story_id)
        line = await self.store.line(story.head_id, self.judged_passages)
        if StorySettings.of(story).planner and StorySettings.of(story).chain != "original":
            found = await self._planned_directions(story, line, k)
            if len(found) >= 2:
                return found
        prompt = directions_prompt(line[-1].summary or "", line[-1].text, k)
        for _ in range(2):
            items = [
                item[: LIMITS.direction]
                for item in numbered_items(await self._aside(story, "directions", prompt, 60 * k))
            ]
            if len(items) >= 2:
                return items[:k]
        raise GenerationFailed("The model did not suggest any usable directions.")

    async def _planned_directions(self, story: Story, line: Sequence[Passage], k: int) -> list[str]:
        """Up to k beats from the planner, each of another kind and none repeating another."""
        _, _, plan = await self.reader.story_so_far(story, line)
        found: list[str] = []
        async with collected(self.store, story.id) as log:
            for variant in range(k):
                beats = (*plan.beats, *found)
                beat = await self.planner.beat(replace(plan, beats=beats), log, variant=variant)
                if beat.text:
                    found.append(beat.text[: LIMITS.direction])
        await self.store.log_calls(story.id, log.calls)
        return found

    async def _aside(self, story: Story, purpose: str, prompt: Prompt, max_tokens: int) -> str:
        """One logged call whose answer is shown but not stored in the story."""
        async with collected(self.store, story.id) as log:
            text = await self.writer.aside(purpose, prompt, max_tokens, log)
        await self.store.log_calls(story.id, log.calls)
        return text
