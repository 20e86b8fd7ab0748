"""Writing with the models: drafting a passage, checking it, regenerating with counter-measures
and keeping the best attempt; openings, rolling summaries and asides.

The writer knows nothing of stories' storage: the engine hands it the context, the latest
passages and the lore, and stores what it returns. Every model call goes into a `CallLog`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bot import loops
from bot.llm import Model, ModelError, Models, Prompt, Sampling, prompt_text
from bot.prompts import COMPLETION_STOP, Context, fill, fit, render, shorten, template, words_for
from bot.split import complete_sentences
from bot.store import LoreEntry, ModelCall, Passage


class Voice(Protocol):
    """The per-story choices that shape the writing (a story's settings provide them)."""

    style: str
    length: int
    temperature: float
    chain: str


@dataclass(frozen=True)
class WriterConfig:
    """The writing knobs shared by every story."""

    context_tokens: int = 1200
    top_p: float = 0.95
    seed: int | None = None
    summary_words: int = 120
    attempts: int = 3
    """Loop-guard attempts per passage: the first try plus regenerations."""
    empty_retries: int = 2


@dataclass
class Draft:
    """A generated passage before it is stored."""

    text: str
    context: Context
    model: str
    check: loops.LoopCheck


@dataclass
class CallLog:
    """The model calls of one operation, kept to be stored with its result or its failure."""

    calls: list[ModelCall] = field(default_factory=list)

    def add(self, purpose: str, model: str, prompt: Prompt, **details: Any) -> None:
        self.calls.append(
            ModelCall(purpose=purpose, model=model, prompt=prompt_text(prompt), **details)
        )


def clean(text: str) -> str:
    """Model output without surrounding space, a trailing END, a repeated marker, or a short
    first line that only announces the text ("Here is the next passage:")."""
    text = text.split("NEXT PARAGRAPH:")[0].strip()
    text = re.sub(rf"\s*\b{COMPLETION_STOP}\s*$", "", text).strip()
    first, _, rest = text.partition("\n")
    if first.rstrip().endswith(":") and len(first.split()) <= 12 and rest.strip():
        text = rest.strip()
    return "" if text == COMPLETION_STOP else text


def tidy(text: str) -> str:
    """A passage without sentences it already said and without a last sentence cut off by the
    length limit: the cheapest cure for a small model's repetition."""
    return complete_sentences(loops.drop_repeated_sentences(text)) or text


class Writer:
    """Drafts passages, openings and summaries with the models, checking what they write."""

    def __init__(self, models: Models, config: WriterConfig | None = None) -> None:
        self.models = models
        self.config = config or WriterConfig()

    async def passage(
        self,
        voice: Voice,
        base: Context,
        line: Sequence[Passage],
        lore: Sequence[LoreEntry],
        log: CallLog,
        *,
        avoid: Sequence[str] = (),
        variant: int = 0,
    ) -> Draft:
        """Generate one passage after `line[-1]` from the context `base`, regenerating with
        counter-measures while it loops; keep the least repetitive attempt."""
        recent = [p.text for p in line[-loops.RECENT :]] + [line[-1].summary or "", *avoid]
        sampling = self.passage_sampling(voice, variant)
        attempts = 1 if voice.chain == "original" else self.config.attempts
        drafts: list[Draft] = []
        context = base
        for attempt in range(attempts):
            prompt = render(context, voice.style, words_for(voice.length))
            text = await self.generate(self.models.passage, "passage", prompt, sampling, log)
            if voice.chain != "original":
                text = tidy(text)
            verdict = loops.check(text, recent)
            drafts.append(Draft(text, context, self.models.passage.name, verdict))
            if not verdict.loops or attempt + 1 == attempts:
                break
            context, sampling = self._counter_measures(
                base, lore, text, recent, sampling, attempt + 1
            )
        return min(drafts, key=lambda d: d.check.badness)

    def passage_sampling(self, voice: Voice, variant: int) -> Sampling:
        """How a passage is sampled; `variant` varies the seed between ballot candidates."""
        seed = None if self.config.seed is None else self.config.seed + variant
        if voice.chain == "original":
            return Sampling(
                temperature=0.7, max_tokens=voice.length, stop=(COMPLETION_STOP,), seed=seed
            )
        return Sampling(
            temperature=voice.temperature,
            top_p=self.config.top_p,
            max_tokens=voice.length,
            frequency_penalty=0.2,
            presence_penalty=0.2,
            repeat_penalty=1.15,
            stop=(COMPLETION_STOP,) if voice.style == "completion" else (),
            seed=seed,
        )

    def _counter_measures(
        self,
        base: Context,
        lore: Sequence[LoreEntry],
        looping_text: str,
        recent: Sequence[str],
        sampling: Sampling,
        round_: int,
    ) -> tuple[Context, Sampling]:
        """Say what was repeated and raise temperature and penalties; from the second round
        also bring in something new: an unused lore entry, or else an unexpected event."""
        phrase = " ".join(loops.repeated_phrase(looping_text, recent).split()[:20])
        warning = fill("counter_repeat", phrase=phrase) if phrase else ""
        if round_ >= 2:
            twist = twist_for(base, lore)
            warning = " ".join(filter(None, [warning, fill("counter_twist", twist=twist)]))
        context = fit(replace(base, warning=warning), self.config.context_tokens)
        sampling = sampling.but(
            temperature=min(1.5, sampling.temperature + 0.2 * round_),
            frequency_penalty=min(2.0, sampling.frequency_penalty + 0.5 * round_),
            presence_penalty=min(2.0, sampling.presence_penalty + 0.3 * round_),
            repeat_penalty=sampling.repeat_penalty + 0.1 * round_,
            seed=None if sampling.seed is None else sampling.seed + 1000 * round_,
        )
        return context, sampling

    async def opening(self, premise: str, voice: Voice, log: CallLog) -> str:
        """The opening passage of a story written from `premise`."""
        words = words_for(voice.length)
        if voice.style == "chat":
            prompt: Prompt = [
                {"role": "user", "content": fill("opening_chat", premise=premise, words=words)}
            ]
        else:
            prompt = fill("opening_completion", premise=premise)
        sampling = self.passage_sampling(voice, 0)
        return await self.generate(self.models.passage, "opening", prompt, sampling, log)

    async def summary_after(self, voice: Voice, previous: Passage, text: str, log: CallLog) -> str:
        """The rolling summary to store with a new passage `text` that follows `previous`.

        Ours covers the new passage. The original chain summarised the text it had just sent
        (the summary and the previous passage), so its summary lags one passage behind.
        """
        covered = previous.text if voice.chain == "original" else text
        return await self.summary(previous.summary or "", covered, voice, log)

    async def summary(self, summary: str, passage: str, voice: Voice, log: CallLog) -> str:
        """The rolling summary after `passage`, given the summary before it. Ours is cleared of
        repeated sentences and capped; the original chain's is the model's answer as it is."""
        words = self.config.summary_words
        values = {
            "summary": summary,
            "passage": passage,
            "words": words,
            "text": " ".join(filter(None, (summary, passage))),
        }
        if voice.style == "chat" and voice.chain != "original":
            prompt: Prompt = [{"role": "user", "content": fill("summary_chat", **values)}]
        else:
            prompt = fill("summary_completion", **values)
        sampling = Sampling(
            temperature=0.3,
            top_p=self.config.top_p,
            max_tokens=words * 3 // 2,
            seed=self.config.seed,
        )
        text = await self.generate(self.models.summary, "summary", prompt, sampling, log)
        if voice.chain == "original":
            return text
        text = loops.drop_repeated_sentences(text)
        return shorten(text, words * 2, keep_end=False) or text

    async def aside(self, purpose: str, prompt: Prompt, max_tokens: int, log: CallLog) -> str:
        """One answer from the summary model that is shown but not stored in the story."""
        sampling = Sampling(
            temperature=0.7, top_p=self.config.top_p, max_tokens=max_tokens, seed=self.config.seed
        )
        return await self.generate(self.models.summary, purpose, prompt, sampling, log)

    async def generate(
        self, model: Model, purpose: str, prompt: Prompt, sampling: Sampling, log: CallLog
    ) -> str:
        """One text from `model`, retrying empty answers; every call goes into `log`."""
        for attempt in range(1 + self.config.empty_retries):
            started = time.perf_counter()
            try:
                generation = await model.generate(prompt, sampling)
            except ModelError as error:
                log.add(purpose, model.name, prompt, error=str(error), latency_ms=_ms(started))
                raise
            text = clean(generation.text)
            log.add(
                purpose,
                generation.model,
                prompt,
                response=generation.text,
                prompt_tokens=generation.prompt_tokens,
                completion_tokens=generation.completion_tokens,
                latency_ms=_ms(started),
                error="" if text else "empty answer",
            )
            if text:
                return text
            if sampling.seed is not None:
                sampling = sampling.but(seed=sampling.seed + attempt + 1)
        raise ModelError("The model returned no text.")


def twist_for(context: Context, lore: Sequence[LoreEntry]) -> str:
    """Something new to bring in: the first lore entry the context does not use, or else an
    unexpected event."""
    used = {note.name for note in context.lore}
    for entry in lore:
        if entry.name not in used:
            return fill("twist_lore", kind=entry.kind, name=entry.name, text=entry.text)
    return template("twist_event")


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
