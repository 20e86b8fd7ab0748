"""What the writer, the judge and the planner read of a story: the labelled context within
its token budget, the judge's view of the story so far, and the planner's. The story's lore and
ledger are read once per passage and handed on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.ballots.tones import tone_request
from bot.beats import PlanView
from bot.judge import StoryView, story_person
from bot.ledger import animals, ledger_text, narrators
from bot.narration import tense
from bot.prompts import Context, fit, relevant_lore
from bot.settings import StorySettings
from bot.store import LedgerEntry, LoreEntry, Passage, Store, Story


def named(kind: str, lore: Sequence[LoreEntry], ledger: Sequence[LedgerEntry]) -> tuple[str, ...]:
    """The names of the story's characters or places: members' lore first, then the
    continuity ledger's, most mentioned first; the narrator's own names are no one else."""
    names = [e.name for e in lore if e.kind == kind] + [e.name for e in ledger if e.kind == kind]
    narrator = narrators(ledger)
    return tuple(name for name in dict.fromkeys(names) if name not in narrator)


class StoryReader:
    """Reads a story up to a passage for whoever writes, judges or plans the next one."""

    def __init__(self, store: Store, recent_passages: int, context_tokens: int) -> None:
        self.store = store
        self.recent_passages = recent_passages
        """How many of the latest passages the context shows."""
        self.context_tokens = context_tokens

    async def context(
        self,
        story: Story,
        line: Sequence[Passage],
        direction: str = "",
        lore: Sequence[LoreEntry] | None = None,
        ledger: str = "",
    ) -> Context:
        """The labelled context for the passage after `line[-1]`, fitted to the budget;
        `lore` is the story's lore when it has been read already, `ledger` the continuity
        ledger as the context shows it."""
        settings = StorySettings.of(story)
        recent = tuple(p.text for p in line[-self.recent_passages :])
        summary = line[-1].summary or ""
        if settings.chain == "original":
            return Context(passages=recent[-1:], summary=summary)
        if lore is None:
            lore = await self.store.lore(story.id)
        entries = [(e.kind, e.name, e.keywords, e.text) for e in lore]
        notes = relevant_lore(entries, " ".join((*recent, direction, story.note)))
        context = Context(
            passages=recent,
            summary=summary,
            memory=story.memory,
            lore=notes,
            ledger=ledger,
            note=story.note,
            direction=direction,
            nudges=tone_request(await self.store.nudges(line[-1].id)),
            title=story.title,
            opening=await self._opening_for(settings.style, line, story),
        )
        return fit(context, self.context_tokens)

    async def _opening_for(self, style: str, line: Sequence[Passage], story: Story) -> str:
        """The story's opening as the context of `style` shows it: always in the chat style's
        frame, in the prose style unless it is among the last passages shown, never in the
        completion style."""
        if style == "completion" or (
            style == "prose" and line[-self.recent_passages :][0].parent_id is None
        ):
            return ""
        if line[0].parent_id is None:
            return line[0].text
        opening = await self.store.opening(story.id)
        return opening.text if opening else ""

    async def story_so_far(
        self, story: Story, line: Sequence[Passage], direction: str = "", avoid: Sequence[str] = ()
    ) -> tuple[Context, StoryView, PlanView]:
        """What the writer, the judge and the planner read of the story up to `line[-1]`."""
        lore = await self.store.lore(story.id)
        original = StorySettings.of(story).chain == "original"
        ledger = [] if original else await self.store.ledger(story.id)
        shown = ledger_text(ledger, [entry.name for entry in lore])
        base = await self.context(story, line, direction, lore, shown)
        view = replace(await self.story_view(story, line, avoid), ledger=tuple(ledger))
        plan = PlanView(
            summary=base.summary,
            opening=base.opening,
            passage=line[-1].text,
            ledger=base.ledger,
            lore=base.lore,
            memory=base.memory,
            beats=tuple(filter(None, (p.beat for p in line))),
            person=story_person(view),
            tense=tense(" ".join(view.told)),
            depth=line[-1].depth + 1,
            lore_entries=tuple(lore),
            threads=() if original else tuple(await self.store.threads(story.id)),
            cast=named("character", lore, ledger),
            places=named("place", lore, ledger),
            animals=tuple(sorted(animals(ledger))),
        )
        return base, view, plan

    async def story_view(
        self, story: Story, line: Sequence[Passage], avoid: Sequence[str] = ()
    ) -> StoryView:
        """What the judge knows of the story up to `line[-1]`."""
        opening = line[0] if line[0].parent_id is None else await self.store.opening(story.id)
        shown = self.recent_passages
        older = [p.text for p in line[:-shown] if p.parent_id is not None]
        return StoryView(
            opening=opening.text if opening else "",
            summary=line[-1].summary or "",
            recent=(*(p.text for p in line[-shown:]), *avoid),
            earlier=tuple(older),
        )
