"""Drafting passages toward their beats: what the writer is asked for, once the story so far
is read (bot/reading.py) and each passage's beat chosen (bot/planning.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.beats import Beat, PlanView
from bot.calls import CallLog
from bot.drafts import Draft, Job
from bot.judge import StoryView
from bot.planning import Plans
from bot.progress import Report
from bot.prompts import Context, fit
from bot.reading import StoryReader
from bot.settings import StorySettings
from bot.store import Passage, Story
from bot.writer import LEADS, Writer


class Drafter:
    """Drafts a story's next passage, or a ballot's candidates, with the writer."""

    def __init__(
        self, reader: StoryReader, plans: Plans, writer: Writer, context_tokens: int
    ) -> None:
        self.reader = reader
        self.plans = plans
        self.writer = writer
        self.context_tokens = context_tokens

    async def one(
        self,
        story: Story,
        line: Sequence[Passage],
        direction: str,
        log: CallLog,
        *,
        avoid: Sequence[str] = (),
        beats: Sequence[str] = (),
        progress: Report | None = None,
    ) -> Draft:
        """Write one passage after `line[-1]` toward its beat (bot/planning.py). `avoid` holds
        texts it must not copy (the passage retried), `beats` beats it must not repeat."""
        settings = StorySettings.of(story)
        base, view, plan = await self.reader.story_so_far(story, line, direction, avoid)
        plan = replace(plan, beats=(*plan.beats, *filter(None, beats)))
        job, planned = await self._job(
            settings, base, view, plan, line[-1], direction, log, fresh=bool(beats)
        )
        draft = await self.writer.passage(
            settings, job.base, job.story, plan.lore_entries, log, progress=progress
        )
        return self._with_thread(draft, planned, direction)

    async def candidates(
        self,
        story: Story,
        line: Sequence[Passage],
        direction: str,
        log: CallLog,
        k: int,
        progress: Report | None = None,
    ) -> list[Draft]:
        """Write k candidates after `line[-1]`, each toward a beat of its own (planned in turn,
        each told the beats before it), all written together (bot/writer.py)."""
        settings = StorySettings.of(story)
        base, view, plan = await self.reader.story_so_far(story, line, direction)
        jobs: list[Job] = []
        beats: list[Beat] = []
        for variant in range(k):
            planned_view = replace(plan, beats=(*plan.beats, *(b.text for b in beats)))
            job, planned = await self._job(
                settings, base, view, planned_view, line[-1], direction, log, variant
            )
            jobs.append(job)
            beats.append(planned)
        drafts = await self.writer.passages(
            settings, jobs, plan.lore_entries, log, progress=progress
        )
        return [
            self._with_thread(draft, planned, direction)
            for draft, planned in zip(drafts, beats, strict=True)
        ]

    async def _job(
        self,
        settings: StorySettings,
        base: Context,
        view: StoryView,
        plan: PlanView,
        after: Passage,
        direction: str,
        log: CallLog,
        variant: int = 0,
        fresh: bool = False,
    ) -> tuple[Job, Beat]:
        """The passage to write after `after`: its context and judge's view, led by its beat
        (a member's direction, else the planner's), and the planner's beat; `fresh` asks for
        a new beat rather than the one planned ahead (bot/planning.py)."""
        planned = await self.plans.beat(
            settings,
            plan,
            after,
            log,
            direction=direction,
            variant=variant,
            fresh=fresh,
        )
        lead, beat = planned.text, direction or planned.text
        if lead and settings.style in LEADS:
            base = replace(base, lead=f"{lead} " if settings.style == "prose" else lead)
        elif beat:
            base = fit(replace(base, direction=beat), self.context_tokens)
        return Job(base, replace(view, beat=beat), variant), planned

    @staticmethod
    def _with_thread(draft: Draft, planned: Beat, direction: str) -> Draft:
        """`draft` moving on the thread its planned beat belongs to (none under a direction)."""
        if not direction:
            draft.thread_id, draft.resolves = planned.thread_id, planned.resolves
        return draft
