"""Rolling summaries: after each passage, what has happened so far, rewritten once if the
judge finds it talks about the text instead of the story."""

from __future__ import annotations

from dataclasses import replace

from bot import repetition
from bot.calls import CallLog, generate
from bot.inert import inert_chat, tagged_section
from bot.judge import StoryView, judge_summary
from bot.llm import Models, Prompt, Sampling
from bot.prompts import Context, chat_labels, fill, labelled, shorten, story_chat, template
from bot.repair import repair_summary
from bot.store import Passage
from bot.voice import Voice, WriterConfig

FRAME = Context(passages=())
"""No memory, lore or ledger."""
SUMMARY_REGENERATE = frozenset({"meta", "assistant", "debris", "repetition"})
"""Summary faults worth one rewrite; a summary cut short is completed for free instead."""


class Summarizer:
    """Writes a story's rolling summary with the summary model."""

    def __init__(self, models: Models, config: WriterConfig | None = None) -> None:
        self.models = models
        self.config = config or WriterConfig()

    async def after(
        self, voice: Voice, previous: Passage, text: str, log: CallLog, frame: Context = FRAME
    ) -> str:
        """The rolling summary to store with a new passage `text` that follows `previous`.

        Ours covers the new passage. The original chain summarised the text it had just sent
        (the summary and the previous passage), so its summary lags one passage behind.
        """
        covered = previous.text if voice.chain == "original" else text
        return await self.summary(previous.summary or "", covered, voice, log, frame)

    async def summary(
        self, summary: str, passage: str, voice: Voice, log: CallLog, frame: Context = FRAME
    ) -> str:
        """The rolling summary after `passage`, given the summary before it. Ours is cleared of
        repeated sentences and of talk about the text, capped, judged, and rewritten once if a
        fault remains; the original chain's is the model's answer as it is.

        `frame` holds the memory, lore and ledger the passage was written with: a chat prompt
        starts with them and the summary, as the writer's did (bot/prompts.render_frame)."""
        if voice.chain == "original":
            return await self._attempt(summary, passage, voice, log, "", frame)
        story = StoryView(opening="", summary=summary, recent=(passage,))
        attempts: list[tuple[float, str]] = []
        warning = ""
        for attempt in range(2):
            text = await self._attempt(summary, passage, voice, log, warning, frame)
            text = self._tidy(text)
            verdict = judge_summary(text, story)
            attempts.append((verdict.score, text))
            if not SUMMARY_REGENERATE.intersection(verdict.faults) or attempt == 1:
                break
            warning = template("counter_summary")
        return min(attempts, key=lambda scored: scored[0])[1]

    def _tidy(self, text: str) -> str:
        """A summary without repeated sentences or talk about the text, within its length."""
        text = repair_summary(repetition.drop_repeated_sentences(text))
        return shorten(text, self.config.summary_words * 2, keep_end=False) or text

    async def _attempt(
        self, summary: str, passage: str, voice: Voice, log: CallLog, warning: str, frame: Context
    ) -> str:
        words = self.config.summary_words
        style = self.config.summary_style or voice.style
        prompt: Prompt
        if style == "chat" and voice.chain != "original":
            text = labelled("direction", text=inert_chat(passage, chat_labels()))
            task = fill("summary_chat", passage=tagged_section("passage", text), words=words)
            content = "\n\n".join(filter(None, (task, warning)))
            prompt = story_chat(replace(frame, summary=summary), content)
        else:
            text = " ".join(filter(None, (summary, passage)))
            prompt = fill("summary_completion", text=text)
        sampling = Sampling(
            temperature=0.3 if not warning else 0.5,
            top_p=self.config.top_p,
            max_tokens=words * 3 // 2,
            seed=self.config.seed
            if not warning or self.config.seed is None
            else self.config.seed + 1,
        )
        return await generate(
            self.models.summary,
            "summary",
            prompt,
            sampling,
            log,
            retries=self.config.empty_retries,
        )
