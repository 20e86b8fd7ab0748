"""Timing a `next` as the benchmarks do."""

import asyncio
from types import SimpleNamespace

from bench.common import timed_next
from bot.progress import Step


class Streaming:
    """An engine whose `next` shows each of `shown` in turn, a moment apart."""

    def __init__(self, *shown: str) -> None:
        self.shown = shown

    async def next(self, story_id: int, *, summarize: bool, progress) -> SimpleNamespace:
        for text in self.shown:
            await asyncio.sleep(0.01)
            progress(Step("writing", text=text))
        return SimpleNamespace(text=self.shown[-1])

    async def summarize(self, story_id: int) -> None:
        return None


class NoCalls:
    async def calls(self, story_id: int) -> list:
        return []


async def test_the_models_first_words_are_timed_after_the_lead():
    lead = "The lamp went out."
    timing = await timed_next(
        Streaming(lead, lead, lead + " Tom", lead + " Tom ran."), NoCalls(), 1, 0
    )
    assert 0 < timing.first_words < timing.model_words <= timing.waited
    assert timing.text == lead + " Tom ran."


async def test_a_passage_shown_whole_at_once_never_grew():
    timing = await timed_next(Streaming("", "Tom ran."), NoCalls(), 1, 0)
    assert timing.first_words > 0
    assert timing.model_words == 0
