"""A model that answers from a script: queued responses for tests and benchmarks."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable

from bot.llm.base import Generation, ModelError, Prompt, Sampling, prompt_text

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

    def add(self, *responses: str | BaseException) -> None:
        self.queue.extend(responses)

    async def generate(self, prompt: Prompt, sampling: Sampling) -> Generation:
        self.prompts.append(prompt)
        self.samplings.append(sampling)
        if self.latency:
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
        return Generation(
            text=response,
            model=self.name,
            prompt_tokens=len(prompt_text(prompt).split()),
            completion_tokens=len(response.split()),
            finish_reason="stop",
        )
