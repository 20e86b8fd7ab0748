"""Writing with the models: drafting a passage, judging it, regenerating with counter-measures
and keeping the best attempt; openings and asides. Rolling summaries are bot/summaries.py's.

The guard: every passage (solo, ballot candidate, opening) is judged (bot/judge.py). A fault
is first repaired where that costs no model call (bot/repair.py); a fault that remains is
answered by a new attempt with counter-measures aimed at it, and the best attempt by the
judge's score is kept, with its remaining faults. A draft and how attempts are compared are
bot/drafts.py's; the counter-measures bot/counters.py's.

The writer knows nothing of stories' storage: the engine hands it the context, the story so
far and the lore, and stores what it returns. Every model call goes into a `CallLog`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import repetition
from bot.calls import CallLog, generate, generate_many
from bot.counters import counter_measures
from bot.drafts import Draft, Job, best
from bot.judge import StoryView, judge_passage, story_person
from bot.llm import Model, Models, Prompt, Sampling, TextSink
from bot.llm.steering import unused_scripts
from bot.narration import FIRST, SECOND
from bot.progress import Report, Step
from bot.prompts import (
    COMPLETION_STOP,
    Context,
    fill,
    inert_for,
    one_line,
    render,
    template,
    words_for,
)
from bot.repair import clean, repair_passage, tidy
from bot.store import LoreEntry
from bot.voice import Voice, WriterConfig

NO_REPEAT_TOKENS = 8
"""Steering: no run of this many tokens (about six words) is copied from the prompt or
repeated within the answer, well under the judge's recycled span."""

MIN_TOKENS = 80
"""Steering: the fewest tokens a passage may end at (about 60 words, over a stub's 40)."""

LEADS = ("prose", "chat")
"""The styles whose passages can begin with words already written (the context's lead)."""
AVOIDED_IN_NARRATION = {
    "third": tuple(sorted(FIRST | SECOND)),
    "first": tuple(sorted(SECOND)),
}
"""Steering: the pronouns a story's narration never uses outside dialogue, by its person."""


class Writer:
    """Drafts passages, openings and summaries with the models, checking what they write."""

    def __init__(self, models: Models, config: WriterConfig | None = None) -> None:
        self.models = models
        self.config = config or WriterConfig()

    async def passage(
        self,
        voice: Voice,
        base: Context,
        story: StoryView,
        lore: Sequence[LoreEntry],
        log: CallLog,
        *,
        progress: Report | None = None,
    ) -> Draft:
        """Generate one passage that continues `story` from the context `base` (see
        `passages`)."""
        jobs = [Job(base, story)]
        return (await self.passages(voice, jobs, lore, log, progress=progress))[0]

    async def passages(
        self,
        voice: Voice,
        jobs: Sequence[Job],
        lore: Sequence[LoreEntry],
        log: CallLog,
        *,
        progress: Report | None = None,
    ) -> list[Draft]:
        """Generate each job's passage: write the first attempts together, judge each on its
        own (against the story and, for a ballot's candidates, the candidates before it),
        repair it for free, regenerate with counter-measures while a fault remains (the
        rewrites of a round together too), and keep each job's best attempt. The original
        chain takes its one attempt as it is. With `progress`, the attempts are streamed to it
        and each check and rewrite reported."""
        original = voice.chain == "original"
        attempts = 1 if original else self.config.attempts
        contexts = [job.base for job in jobs]
        samplings = [
            self.passage_sampling(
                voice, job.variant, story_person(job.story), " ".join(job.story.told)
            )
            for job in jobs
        ]
        drafts: list[list[Draft]] = [[] for _ in jobs]
        pending = list(range(len(jobs)))
        for attempt in range(attempts):
            if attempt and progress is not None:
                progress(Step("rewriting", attempt + 1, attempts))
            texts = await self._write(
                voice,
                [(contexts[n], samplings[n], jobs[n].variant) for n in pending],
                log,
                progress,
            )
            if progress is not None:
                progress(Step("checking", jobs[pending[0]].variant + 1))
            for n, text in zip(pending, texts, strict=True):
                rivals = tuple(best(drafts[m]).text for m in range(n) if drafts[m])
                story = replace(jobs[n].story, rivals=rivals)
                recent = [*story.recent[-repetition.RECENT :], *rivals, story.summary]
                if not original:
                    text = repair_passage(tidy(text), story)
                draft = Draft(
                    text,
                    contexts[n],
                    self.models.passage.name,
                    repetition.check(text, recent),
                    judge_passage(text, story),
                    story.beat,
                )
                drafts[n].append(draft)
                if not draft.passes(voice.style):
                    contexts[n], samplings[n] = counter_measures(
                        jobs[n].base,
                        lore,
                        draft,
                        story,
                        recent,
                        samplings[n],
                        attempt + 1,
                        voice.style,
                        self.config.context_tokens,
                    )
            pending = [n for n in pending if not drafts[n][-1].passes(voice.style)]
            if not pending:
                break
        return [best(attempted) for attempted in drafts]

    async def _write(
        self,
        voice: Voice,
        attempts: Sequence[tuple[Context, Sampling, int]],
        log: CallLog,
        progress: Report | None,
    ) -> list[str]:
        """One text for each (context, sampling, variant), written together when there are
        several, each streamed to `progress` and led by its context's lead."""
        prompts = [
            render(context, voice.style, words_for(voice.length)) for context, _, _ in attempts
        ]
        leads = [context.lead if voice.style in LEADS else "" for context, _, _ in attempts]
        sinks = [
            streaming_to(progress, variant, lead)
            for (_, _, variant), lead in zip(attempts, leads, strict=True)
        ]
        for sink, lead in zip(sinks, leads, strict=True):
            if sink is not None and lead:
                sink("")  # the passage's first words are its lead: shown before the model reads
        samplings = [sampling for _, sampling, _ in attempts]
        if len(attempts) == 1:
            texts = [
                await self.generate(
                    self.models.passage, "passage", prompts[0], samplings[0], log, on_text=sinks[0]
                )
            ]
        else:
            texts = await generate_many(
                self.models.passage,
                "passage",
                prompts,
                samplings,
                log,
                retries=self.config.empty_retries,
                on_texts=sinks,
            )
        return [led(lead, text) if lead else text for lead, text in zip(leads, texts, strict=True)]

    def passage_sampling(
        self, voice: Voice, variant: int, person: str = "", told: str = ""
    ) -> Sampling:
        """How a passage is sampled; `variant` varies the seed between ballot candidates.

        Ours keeps the penalties mild (strong ones push a small model into broken words) and
        leaves copying, the story's `person`, the writing systems of what it `told` and
        early endings to steering, which the embedded model enforces token by token
        (bot/llm/steering.py)."""
        seed = None if self.config.seed is None else self.config.seed + variant
        if voice.chain == "original":
            return Sampling(
                temperature=0.7, max_tokens=voice.length, stop=(COMPLETION_STOP,), seed=seed
            )
        return Sampling(
            temperature=voice.temperature,
            top_p=self.config.top_p,
            max_tokens=voice.length,
            frequency_penalty=0.3,
            repeat_penalty=1.1,
            no_repeat=NO_REPEAT_TOKENS,
            narration_avoid=AVOIDED_IN_NARRATION.get(person, ()),
            prose_only=True,
            scripts_avoid=unused_scripts(told),
            min_tokens=min(MIN_TOKENS, voice.length // 2),
            stop=(COMPLETION_STOP,) if voice.style == "completion" else (),
            seed=seed,
        )

    async def opening(self, premise: str, voice: Voice, log: CallLog) -> Draft:
        """The opening passage of a story written from `premise`, judged and repaired like any
        passage; a fault that remains is answered by one more attempt."""
        story = StoryView(opening="", summary="", recent=())
        sampling = self.passage_sampling(voice, 0, told=premise)
        drafts: list[Draft] = []
        warning = ""
        for attempt in range(2):
            prompt = opening_prompt(premise, voice, warning)
            text = await self.generate(self.models.passage, "opening", prompt, sampling, log)
            text = repair_passage(tidy(text), story)
            verdict = judge_passage(text, story)
            drafts.append(
                Draft(
                    text,
                    Context(passages=()),
                    self.models.passage.name,
                    repetition.check(text, [premise]),
                    verdict,
                )
            )
            if drafts[-1].passes(voice.style) or attempt == 1:
                break
            warning = template("counter_meta")
            sampling = sampling.but(seed=None if sampling.seed is None else sampling.seed + 1000)
        return best(drafts)

    async def generate(
        self,
        model: Model,
        purpose: str,
        prompt: Prompt,
        sampling: Sampling,
        log: CallLog,
        *,
        on_text: TextSink | None = None,
    ) -> str:
        """One text from `model`, logged in `log`, with this writer's retries of empty
        answers (bot/calls.py)."""
        return await generate(
            model,
            purpose,
            prompt,
            sampling,
            log,
            retries=self.config.empty_retries,
            on_text=on_text,
        )

    async def aside(self, purpose: str, prompt: Prompt, max_tokens: int, log: CallLog) -> str:
        """One answer from the summary model that is shown but not stored in the story."""
        sampling = Sampling(
            temperature=0.7, top_p=self.config.top_p, max_tokens=max_tokens, seed=self.config.seed
        )
        return await self.generate(self.models.summary, purpose, prompt, sampling, log)


def streaming_to(progress: Report | None, variant: int, lead: str = "") -> TextSink | None:
    """A text sink that reports a passage being written, cleaned as it will be stored."""
    if progress is None:
        return None
    return lambda text: progress(Step("writing", variant + 1, text=led(lead, clean(text))))


def opening_prompt(premise: str, voice: Voice, warning: str = "") -> Prompt:
    """The prompt for an opening from `premise` in the story's style; the premise is made inert
    for that style and kept on one line, so it cannot start a chapter or a section."""
    premise = one_line(inert_for(voice.style)(premise))
    if voice.style == "chat":
        content = fill("opening_chat", premise=premise, words=words_for(voice.length))
        return [{"role": "user", "content": "\n\n".join(filter(None, (content, warning)))}]
    if voice.style == "prose":
        return fill("opening_prose", premise=premise) + "\n\n"
    return fill("opening_completion", premise=premise)


def led(lead: str, text: str) -> str:
    """`text` as written after the `lead` words it was asked to go on from; a model that
    wrote the lead again (a server that cannot continue an answer) is not given it twice."""
    if " ".join(text.split()).startswith(" ".join(lead.split())):
        return text.lstrip()
    if not lead or lead[-1].isspace():
        return lead + text.lstrip()
    if text[:1] in tuple(",.;:!?'’"):
        return lead + text
    return f"{lead} {text.lstrip()}"
