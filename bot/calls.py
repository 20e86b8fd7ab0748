"""Model calls as the project makes them: every call, answer or failure, goes into the
operation's `CallLog`, and empty answers are asked for again."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.errors import GenerationFailed
from bot.llm import Generation, Model, ModelError, Prompt, Sampling, TextSink, prompt_text
from bot.llm.base import generate_together
from bot.repair import clean
from bot.split import PASSAGE_LIMIT, capped
from bot.store import ModelCall, Store

LOGGED_LIMIT = 2 * PASSAGE_LIMIT
"""The most characters of a model's raw answer kept in the model-call log."""


@dataclass
class CallLog:
    """The model calls of one operation, kept to be stored with its result or its failure."""

    calls: list[ModelCall] = field(default_factory=list)

    def add(self, purpose: str, model: str, prompt: Prompt, **details: Any) -> None:
        self.calls.append(
            ModelCall(purpose=purpose, model=model, prompt=prompt_text(prompt), **details)
        )


@asynccontextmanager
async def collected(store: Store, story_id: int | None) -> AsyncIterator[CallLog]:
    """Collect an operation's model calls; if the model fails, log them with the story's and
    raise GenerationFailed, leaving the story as it was."""
    log = CallLog()
    try:
        yield log
    except ModelError as error:
        await store.log_calls(story_id, log.calls)
        raise GenerationFailed(str(error)) from None


async def generate(
    model: Model,
    purpose: str,
    prompt: Prompt,
    sampling: Sampling,
    log: CallLog,
    *,
    retries: int = 2,
    on_text: TextSink | None = None,
) -> str:
    """One text from `model`, asking again up to `retries` times while the answer is empty;
    every call goes into `log`. With `on_text`, the text is streamed to it as the model
    writes."""
    streaming = {"on_text": on_text} if on_text is not None else {}
    for attempt in range(1 + retries):
        started = time.perf_counter()
        try:
            generation = await model.generate(prompt, sampling, **streaming)
        except ModelError as error:
            log.add(purpose, model.name, prompt, error=str(error), latency_ms=_ms(started))
            raise
        text = logged(log, purpose, prompt, generation, started)
        if text:
            return text
        sampling = reseeded(sampling, attempt + 1)
    raise ModelError("The model returned no text.")


async def generate_many(
    model: Model,
    purpose: str,
    prompts: Sequence[Prompt],
    samplings: Sequence[Sampling],
    log: CallLog,
    *,
    retries: int = 2,
    on_texts: Sequence[TextSink | None] = (),
) -> list[str]:
    """One text from `model` for each prompt, written together (`generate_together`); every
    call goes into `log`, and an empty answer is asked for again on its own."""
    started = time.perf_counter()
    try:
        generations = await generate_together(model, prompts, samplings, on_texts)
    except ModelError as error:
        for prompt in prompts:
            log.add(purpose, model.name, prompt, error=str(error), latency_ms=_ms(started))
        raise
    sinks = list(on_texts) or [None] * len(prompts)
    texts = []
    for prompt, sampling, sink, generation in zip(
        prompts, samplings, sinks, generations, strict=True
    ):
        text = logged(log, purpose, prompt, generation, started)
        if not text and retries:
            again = reseeded(sampling, 1)
            text = await generate(
                model, purpose, prompt, again, log, retries=retries - 1, on_text=sink
            )
        elif not text:
            raise ModelError("The model returned no text.")
        texts.append(text)
    return texts


def logged(
    log: CallLog, purpose: str, prompt: Prompt, generation: Generation, started: float
) -> str:
    """`generation` put into `log`; its text, cleaned and capped ("" when it is empty)."""
    text = capped(clean(generation.text))
    log.add(
        purpose,
        generation.model,
        prompt,
        response=capped(generation.text, LOGGED_LIMIT),
        prompt_tokens=generation.prompt_tokens,
        completion_tokens=generation.completion_tokens,
        latency_ms=_ms(started),
        error="" if text else "empty answer",
    )
    return text


def reseeded(sampling: Sampling, step: int) -> Sampling:
    """`sampling` with its seed moved on by `step`, so that asking again gives another answer."""
    return sampling if sampling.seed is None else sampling.but(seed=sampling.seed + step)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
