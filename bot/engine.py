"""The AutoMuse chain: a story's operations, with no knowledge of Discord.

Each step has the writer (bot/writer.py) draft and check a passage toward its beat from a
labelled context (bot/drafting.py), and stores it with its model calls; its rolling summary
follows, and then the next beat is planned ahead (bot/planning.py). A ballot's candidates
are written together, each toward a beat of its own.

Concurrency: one story writes one thing at a time. A second writing operation on a story
that is already writing is refused at once with `Busy`; the store's head check also
refuses a change prepared against a head that has since moved (another process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.asides import Asides
from bot.calls import collected
from bot.config import Settings
from bot.drafting import Drafter
from bot.drafts import Draft
from bot.editing import StoryEdits
from bot.errors import GenerationFailed, InvalidInput, NotFound
from bot.leases import StoryLocks
from bot.ledger import entries_after
from bot.llm import Models
from bot.lookups import Stories, find_story
from bot.planner import Planner
from bot.planning import Plans
from bot.progress import Report, Step
from bot.reading import StoryReader
from bot.settings import LIMITS, StorySettings, beginning, checked, direction_for, title_from
from bot.store import Conflict, NewPassage, Passage, Store, Story
from bot.summaries import Summarizer
from bot.voice import WriterConfig
from bot.writer import Writer


@dataclass(frozen=True)
class EngineConfig(WriterConfig):
    """Engine-wide knobs, the writer's among them; defaults for new stories come from
    `story_defaults`."""

    story_defaults: StorySettings = field(default_factory=StorySettings)
    recent_passages: int = 2
    """How many of the latest passages go into the context."""
    judged_passages: int = 8
    """How many of the latest passages the judge reads for refrains and retellings."""
    lease_seconds: float = 30.0
    """How long a story stays locked for writing after its writer's process dies."""

    @classmethod
    def from_settings(
        cls, settings: Settings, style: str | None = None, models: Models | None = None
    ) -> EngineConfig:
        """The engine's knobs from the settings; `style` overrides the prompt style, and an
        "auto" style is the one the `models` take."""
        auto = models.style if models else "chat"
        return cls(
            story_defaults=StorySettings(
                style=style or (auto if settings.style == "auto" else settings.style),
                length=settings.max_tokens,
                temperature=settings.temperature,
                mode=settings.mode,
                candidates=settings.candidates,
                ballot_seconds=settings.ballot_seconds,
                quorum=settings.quorum,
                planner=settings.planner,
            ),
            context_tokens=settings.context_tokens,
            top_p=settings.top_p,
            seed=settings.seed,
            summary_style=models.summary_style if models else "",
        )


class Engine:
    """Story operations over a Store and the models. Ids are plain ints."""

    def __init__(self, store: Store, models: Models, config: EngineConfig | None = None) -> None:
        self.store = store
        self.models = models
        self.config = config or EngineConfig()
        self.writer = Writer(models, self.config)
        self.summarizer = Summarizer(models, self.config)
        self.planner = Planner(models, self.writer)
        self.stories = Stories(store)
        self.edits = StoryEdits(store)
        self.locks = StoryLocks(store, self.config.lease_seconds)
        self.reader = StoryReader(store, self.config.recent_passages, self.config.context_tokens)
        self.plans = Plans(store, self.planner, self.reader)
        self.drafter = Drafter(self.reader, self.plans, self.writer, self.config.context_tokens)
        self.asides = Asides(
            store, self.writer, self.planner, self.reader, self.config.judged_passages
        )

    async def _active(self, story_id: int) -> tuple[Story, list[Passage]]:
        story = await find_story(self.store, story_id)
        if story.status != "active":
            raise InvalidInput("This story has ended.")
        return story, await self.store.line(story.head_id, self.config.judged_passages)

    # Starting and ending

    async def start(
        self,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        opening: str = "",
        premise: str = "",
        title: str = "",
        memory: str = "",
        started_by: int | None = None,
        settings: StorySettings | None = None,
        summarize: bool = True,
        progress: Report | None = None,
    ) -> Story:
        """Start a story from an opening, or from a premise the model writes the opening for.

        The premise is kept as the story's memory, unless a memory is given. The opening's
        rolling summary is written after the story is stored; with `summarize` False it is
        left pending, for `summarize()` once the opening has been shown. `progress` is told
        when the model starts writing the opening.
        """
        opening, premise, title, memory = beginning(opening, premise, title, memory)
        settings = (settings or self.config.story_defaults).validated()
        if guild_id is not None and await self.store.active_story(guild_id, channel_id or 0):
            raise InvalidInput("This channel already has a story; end it before starting another.")
        author: int | None = started_by
        model_name = ""
        faults: tuple[str, ...] = ()
        async with collected(self.store, None) as log:
            if not opening:
                if progress is not None:
                    progress(Step("writing"))
                draft = await self.writer.opening(premise, settings, log)
                opening, faults = draft.text, draft.faults
                author, model_name = None, draft.model
        summary = "" if settings.chain == "original" else None
        try:
            story = await self.store.create_story(
                guild_id=guild_id,
                channel_id=channel_id,
                title=title or title_from(premise or opening),
                started_by=started_by,
                settings=settings.__dict__,
                opening=NewPassage(
                    text=opening,
                    summary=summary,
                    author_id=author,
                    model=model_name,
                    requested_by=started_by,
                    faults=faults,
                ),
                calls=log.calls,
                memory=memory or premise,
            )
        except Conflict:
            raise InvalidInput(
                "This channel already has a story; end it before starting another."
            ) from None
        if summarize:
            await self.summarize(story.id)
        return story

    async def end(self, story_id: int) -> Story:
        story = await find_story(self.store, story_id)
        if story.status != "active":
            raise InvalidInput("This story has already ended.")
        await self.store.update_story(story_id, status="ended")
        return await find_story(self.store, story_id)

    # Writing

    async def next(
        self,
        story_id: int,
        *,
        direction: str = "",
        requested_by: int | None = None,
        progress: Report | None = None,
        summarize: bool = True,
    ) -> Passage:
        """Write the next passage and append it. It is steered by `direction`, or else by the
        direction members voted for, if one is waiting. `progress` is told each step and
        the passage as it streams. The new rolling summary is written once the passage is
        stored; with `summarize` False it is left pending for `summarize()`."""
        direction = checked(direction, "direction", LIMITS.direction, required=False)
        async with self.locks.writing(story_id, waiting=catching_up(progress)):
            story, line = await self._settled(story_id, progress)
            direction = direction_for(story, direction)
            async with collected(self.store, story_id) as log:
                draft = await self.drafter.one(story, line, direction, log, progress=progress)
            passage = await self.store.append_passage(
                story.id,
                story.head_id,
                self._new_passage(draft, direction, requested_by),
                log.calls,
            )
        return await self._summarized(passage, summarize, progress)

    async def retry(
        self,
        story_id: int,
        *,
        requested_by: int | None = None,
        progress: Report | None = None,
        summarize: bool = True,
    ) -> Passage:
        """Write the latest passage again; the old one stays in the tree as a branch."""
        async with self.locks.writing(story_id, "retry"):
            story, line = await self._active(story_id)
            if len(line) < 2:
                raise InvalidInput("The opening cannot be retried.")
            rejected, before = line[-1], line[:-1]
            async with collected(self.store, story_id) as log:
                draft = await self.drafter.one(
                    story,
                    before,
                    rejected.direction,
                    log,
                    avoid=[rejected.text],
                    beats=[rejected.beat],
                    progress=progress,
                )
            passage = await self.store.append_passage(
                story.id,
                story.head_id,
                self._new_passage(draft, rejected.direction, requested_by),
                log.calls,
                parent_id=before[-1].id,
            )
        return await self._summarized(passage, summarize, progress)

    async def undo(self, story_id: int) -> Passage:
        """Step back one passage. The undone passage is kept in the tree. Returns the new head."""
        async with self.locks.writing(story_id, "undo"):
            story, line = await self._active(story_id)
            if len(line) < 2:
                raise InvalidInput("There is nothing to undo: the story is at its opening.")
            await self.store.move_head(story.id, line[-1].id, line[-2].id)
            return line[-2]

    async def candidates(
        self,
        story_id: int,
        k: int,
        *,
        direction: str = "",
        requested_by: int | None = None,
        progress: Report | None = None,
    ) -> list[Passage]:
        """Write k alternative next passages and store them as branches, not committed."""
        if not 1 <= k <= 5:
            raise InvalidInput("Ask for between 1 and 5 candidates.")
        direction = checked(direction, "direction", LIMITS.direction, required=False)
        async with self.locks.writing(story_id, "candidates", catching_up(progress)):
            story, line = await self._settled(story_id, progress)
            direction = direction_for(story, direction)
            if progress is not None:
                progress(Step("writing", 1, k))
            async with collected(self.store, story_id) as log:
                drafts = await self.drafter.candidates(story, line, direction, log, k, progress)
            return await self.store.add_branches(
                story.id,
                story.head_id,
                [self._new_passage(d, direction, requested_by) for d in drafts],
                log.calls,
            )

    async def commit(self, story_id: int, candidate_id: int, *, summarize: bool = True) -> Passage:
        """Make a candidate the story's next passage, then write its rolling summary (with
        `summarize` False it is left pending for `summarize()`)."""
        async with self.locks.writing(story_id, "commit"):
            story, _ = await self._settled(story_id)
            candidate = await self.store.passage(candidate_id)
            if candidate is None or candidate.story_id != story_id:
                raise NotFound(f"There is no candidate with id {candidate_id} in this story.")
            if candidate.parent_id != story.head_id:
                raise InvalidInput("That candidate no longer follows the end of the story.")
            passage = await self.store.choose_branch(story.id, story.head_id, candidate.id, None)
        return await self._summarized(passage, summarize)

    async def summarize(self, story_id: int, progress: Report | None = None) -> bool:
        """Write the rolling summary of the story's latest passage if it is pending. A model
        failure leaves it pending (it is written before the next passage) and returns False,
        as does a story busy writing something else. Writing operations that arrive meanwhile
        wait for it rather than being refused."""
        try:
            async with self.locks.summarizing(story_id) as held:
                if not held:
                    return False
                await self._settled(story_id, progress)
        except (GenerationFailed, InvalidInput):
            return False
        return True

    async def _summarized(
        self, passage: Passage, summarize: bool, progress: Report | None = None
    ) -> Passage:
        """`passage`, just appended, with its rolling summary written now if asked for."""
        if summarize and await self.summarize(passage.story_id, progress):
            return await self.store.passage(passage.id) or passage
        return passage

    async def _settled(
        self, story_id: int, progress: Report | None = None
    ) -> tuple[Story, list[Passage]]:
        """The active story and its latest passages, first writing the latest passage's
        rolling summary (and planning ahead) if it is still pending."""
        story, line = await self._active(story_id)
        head = line[-1]
        if head.summary is not None:
            return story, line
        if progress is not None:
            progress(Step("summarising"))
        settings = StorySettings.of(story)
        async with collected(self.store, story_id) as log:
            if len(line) > 1:
                frame, _, _ = await self.reader.story_so_far(story, line[:-1])
                summary = await self.summarizer.after(settings, line[-2], head.text, log, frame)
            else:
                summary = await self.summarizer.summary("", head.text, settings, log)
        found = []
        if settings.chain != "original":
            found = entries_after(head.text, await self.store.ledger(story_id))
        await self.store.set_summary(story_id, head.id, summary, log.calls, found)
        line = [*line[:-1], replace(head, summary=summary)]
        return story, await self.plans.ahead(story, line) if self.plans.wanted(story) else line

    def _new_passage(self, draft: Draft, direction: str, requested_by: int | None) -> NewPassage:
        return NewPassage(
            text=draft.text,
            direction=direction,
            model=draft.model,
            context=draft.context.as_dict(),
            requested_by=requested_by,
            looped=draft.check.loops,
            faults=draft.faults,
            beat=draft.beat,
            thread_id=draft.thread_id,
            resolves=draft.resolves,
        )


def catching_up(progress: Report | None) -> Callable[[], None] | None:
    """What tells `progress` that a request waits for the story's pending summary (and the
    next beat planned after it)."""
    if progress is None:
        return None
    return lambda: progress(Step("summarising"))
