"""The planner: what happens in the next passage, as one sentence (its beat).

With no direction from members, a small model either wanders or tells the last passage
again. The planner reads the rolling summary, the latest passage, the lore, the continuity
ledger and the story's recent beats, and proposes something new that follows from them: an
event, a complication, a discovery, a new or returning character, a change of place or time
(`prompts/plan_kinds.txt`, taken in turn), or every few passages a step toward answering one
of the story's open threads (bot/threads.py). With a direction, it writes the sentence in
which that direction begins to happen.

The beat is written as the passage's first sentence, in the story's person and tense, so a
base model, which takes no instructions, can simply go on from it; a chat model is given it
as what happens next.
"""

from __future__ import annotations

from bot import threads
from bot.beats import (
    Beat,
    PlanView,
    first_sentence,
    kinds,
    plan_labels,
    present,
    stock_beat,
    usable,
)
from bot.calls import CallLog
from bot.inert import inert_chat, tagged_section
from bot.llm import Models, Sampling
from bot.prompts import Context, fill, labels, story_chat
from bot.writer import Writer

BEAT_TOKENS = 60
THREAD_TOKENS = 90
ATTEMPTS = 2
AHEAD_ATTEMPTS = 3
"""A beat planned ahead, while members read the latest passage, may take one call more before
a stock event stands in: nobody waits for it."""


def frame_of(view: PlanView) -> Context:
    """The part of the story every chat prompt starts with (bot/prompts.render_frame)."""
    return Context(
        passages=(),
        summary=view.summary,
        memory=view.memory,
        lore=view.lore,
        ledger=view.ledger,
        opening=view.opening,
    )


SHOWN_BEATS = 4
"""How many of the recent beats the planner's prompt shows."""


def render_view(view: PlanView) -> str:
    """What the planner reads besides the frame: the latest passage and the recent beats, each
    between tags member text cannot close."""
    block = labels("plan_context")

    def inert(text: str) -> str:
        return inert_chat(text, plan_labels())

    parts = [("passage", block["passage"].format(text=inert(view.passage)))]
    if view.beats:
        beats = " ".join(inert(beat) for beat in view.beats[-SHOWN_BEATS:])
        parts.append(("beats", block["beats"].format(text=beats)))
    return "\n\n".join(tagged_section(name, text) for name, text in parts)


def who_it_happens_to(view: PlanView) -> str:
    """The sentence that keeps the next beat with the latest passage's people, so the story
    does not leave them for new ones (in a first-person story, beside the narrator); empty
    when it names none."""
    here = present(view)
    if not here:
        return ""
    prompt = "plan_who_narrator" if view.person == "first" else "plan_who"
    return " " + fill(prompt, names=inert_chat(", ".join(here), plan_labels()))


class Planner:
    """Proposes each passage's beat, and a story's first threads, with the planner's model."""

    def __init__(self, models: Models, writer: Writer) -> None:
        self.models = models
        self.writer = writer

    async def beat(
        self,
        view: PlanView,
        log: CallLog,
        *,
        direction: str = "",
        variant: int = 0,
        attempts: int = ATTEMPTS,
    ) -> Beat:
        """The beat for the next passage, or an empty one if the model gave none that can be
        used. With `direction`, the sentence in which it begins to happen; `variant` picks
        another kind of event (a ballot's candidates each get their own, and only the first
        may be a thread's turn, which every attempt keeps to). When the model gives nothing
        usable in `attempts` calls, a stock event fits in the story's cast."""
        step = None if direction or variant else threads.due(view.threads, view.depth)
        for attempt in range(attempts):
            kind = kinds()[(view.depth + variant + attempt * 3) % len(kinds())]
            if direction:
                prompt_text = fill(
                    "plan_direction",
                    context=render_view(view),
                    direction=inert_chat(direction, plan_labels()),
                    person=view.person,
                    tense=view.tense,
                )
            else:
                prompt_text = fill(
                    "plan_beat",
                    context=render_view(view),
                    kind=inert_chat(step.kind, plan_labels()) if step else kind,
                    person=view.person,
                    tense=view.tense,
                    who=who_it_happens_to(view),
                )
            answer = await self.writer.generate(
                self.models.planner,
                "plan",
                story_chat(frame_of(view), prompt_text),
                self._sampling(BEAT_TOKENS, 100 * variant + attempt),
                log,
            )
            beat = first_sentence(answer)
            if usable(beat, view):
                if step is None:
                    return Beat(beat)
                return Beat(beat, step.thread.id, step.resolves)
        return Beat("" if direction else stock_beat(view, variant))

    async def threads(self, opening: str, log: CallLog) -> list[str]:
        """The questions `opening` leaves open, to be the story's first threads."""
        prompt_text = fill("find_threads", opening=inert_chat(opening, ("opening",)))
        answer = await self.writer.generate(
            self.models.planner,
            "threads",
            [{"role": "user", "content": prompt_text}],
            self._sampling(THREAD_TOKENS, 0),
            log,
        )
        return threads.questions(answer)

    def _sampling(self, max_tokens: int, offset: int) -> Sampling:
        seed = self.writer.config.seed
        return Sampling(
            temperature=0.8,
            top_p=self.writer.config.top_p,
            max_tokens=max_tokens,
            seed=None if seed is None else seed + offset,
        )
