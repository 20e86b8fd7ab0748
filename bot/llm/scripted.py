"""A model that answers from a script: queued responses for tests and benchmarks."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence

from bot.llm.base import (
    Generation,
    ModelError,
    Prompt,
    Sampling,
    TextSink,
    concurrently,
    prompt_text,
)

Responder = Callable[[Prompt, Sampling], str]


class ScriptedModel:
    """Answers with queued responses in order, then with `fallback` if one is given.

    A queued exception is raised instead of answered. Every prompt received is kept in
    `prompts`, so tests can check what the model was actually sent.
    """

    def __init__(
        self,
        responses: Iterable[str | BaseException] = (),
        *,
        fallback: Responder | None = None,
        latency: float = 0.0,
        name: str = "scripted",
    ) -> None:
        self.name = name
        self.queue: deque[str | BaseException] = deque(responses)
        self.fallback = fallback
        self.latency = latency
        self.prompts: list[Prompt] = []
        self.samplings: list[Sampling] = []
        self.batches: list[int] = []
        """How many prompts each `generate_many` call was given."""

    def add(self, *responses: str | BaseException) -> None:
        self.queue.extend(responses)

    async def generate(
        self, prompt: Prompt, sampling: Sampling, on_text: TextSink | None = None
    ) -> Generation:
        """The next scripted answer, after `latency` seconds; streamed word by word over that
        time when `on_text` is given."""
        self.prompts.append(prompt)
        self.samplings.append(sampling)
        if self.latency and on_text is None:
            await asyncio.sleep(self.latency)
        if self.queue:
            response = self.queue.popleft()
        elif self.fallback is not None:
            response = self.fallback(prompt, sampling)
        else:
            raise ModelError("The scripted model has no response left.")
        if isinstance(response, BaseException):
            raise response
        for stop in sampling.stop:
            response = response.split(stop, 1)[0]
        if on_text is not None:
            await self._stream(response, on_text)
        return Generation(
            text=response,
            model=self.name,
            prompt_tokens=len(prompt_text(prompt).split()),
            completion_tokens=len(response.split()),
            finish_reason="stop",
        )

    async def generate_many(
        self,
        prompts: Sequence[Prompt],
        samplings: Sequence[Sampling],
        on_texts: Sequence[TextSink | None] = (),
    ) -> list[Generation]:
        """The next scripted answers, one per prompt in order, written at the same time."""
        self.batches.append(len(prompts))
        return await concurrently(self, prompts, samplings, on_texts)

    async def _stream(self, text: str, on_text: TextSink) -> None:
        words = re.findall(r"\S+\s*", text)
        for count in range(1, len(words) + 1):
            await asyncio.sleep(self.latency / len(words))
            on_text("".join(words[:count]))
