"""Which beat a passage is written toward, and planning it ahead.

The beat is a member's direction (or the one members voted for), else the planner's. Once a
passage and its rolling summary are stored, the planner proposes the beat of the passage
after it, so that `/next` waits only for the writing; when the passage is a story's opening,
the questions it leaves open become the story's threads first.

Planning ahead is a saving, not a step a story depends on: when the model fails, the beat is
planned when the next passage is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.beats import Beat, PlanView, still_usable
from bot.calls import CallLog, collected
from bot.errors import GenerationFailed
from bot.planner import AHEAD_ATTEMPTS, Planner
from bot.reading import StoryReader
from bot.settings import StorySettings
from bot.store import Passage, Store, Story
from bot.writer import LEADS


class Plans:
    """Chooses each passage's beat, finds an opening's threads and plans ahead, over a
    Store."""

    def __init__(self, store: Store, planner: Planner, reader: StoryReader) -> None:
        self.store = store
        self.planner = planner
        self.reader = reader

    def wanted(self, story: Story) -> bool:
        """Whether the story's next beat is the planner's: it has the planner on and no
        direction from members is waiting."""
        settings = StorySettings.of(story)
        return settings.planner and settings.chain != "original" and not story.pending_direction

    async def beat(
        self,
        settings: StorySettings,
        view: PlanView,
        after: Passage,
        log: CallLog,
        *,
        direction: str = "",
        variant: int = 0,
        fresh: bool = False,
    ) -> Beat:
        """The planner's beat for the passage after `after`: the one planned ahead if it
        still holds, unless `fresh` (a retry) or another candidate (`variant`) asks for a new
        one. With `direction`, the sentence in which it begins, which the passage opens with
        (with the planner off, only in prose, since a base model takes no instructions). Empty
        when the story has the planner off, is on the original chain, or is in a style whose
        passages cannot open with words already written (completion)."""
        if settings.chain == "original" or (direction and settings.style not in LEADS):
            return Beat()
        if not settings.planner and (not direction or settings.style != "prose"):
            return Beat()
        ahead = Beat.from_json(after.planned)
        if not (direction or variant or fresh) and still_usable(ahead, view):
            return ahead
        return await self.planner.beat(view, log, direction=direction, variant=variant)

    async def ahead(self, story: Story, line: Sequence[Passage]) -> list[Passage]:
        """`line` with the beat planned after its last passage kept with it (stored too), and
        the opening's threads stored when `line` is the opening alone."""
        try:
            async with collected(self.store, story.id) as log:
                if len(line) == 1 and not await self.store.threads(story.id, closed=True):
                    for question in await self.planner.threads(line[0].text, log):
                        await self.store.add_thread(story.id, question)
                _, _, view = await self.reader.story_so_far(story, line)
                beat = await self.planner.beat(view, log, attempts=AHEAD_ATTEMPTS)
        except GenerationFailed:
            return list(line)
        await self.store.log_calls(story.id, log.calls)
        await self.store.set_plan(line[-1].id, beat.to_json())
        return [*line[:-1], replace(line[-1], planned=beat.to_json())]
