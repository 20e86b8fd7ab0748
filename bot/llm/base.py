"""The one small interface every model backend implements."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypedDict


class Message(TypedDict):
    role: str
    content: str


Prompt = str | Sequence[Message]
"""A plain string is sent as a completion; a list of messages as a chat. A chat that ends on
an assistant message asks for that message to be continued (its words are already written);
a backend that cannot continue one answers the messages before it."""


def prefill(prompt: Sequence[Message]) -> tuple[Sequence[Message], str]:
    """A chat's messages before its closing assistant message, and that message's words
    ("" when the chat ends on another role)."""
    if prompt and prompt[-1]["role"] == "assistant":
        return prompt[:-1], prompt[-1]["content"]
    return prompt, ""


def prompt_text(prompt: Prompt) -> str:
    """The whole prompt as one string, whatever its form."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(message["content"] for message in prompt)


TextSink = Callable[[str], None]
"""Called with the whole text generated so far, each time it grows (streaming)."""


class ModelError(Exception):
    """Any failure to get text from a model, told in one plain sentence."""


@dataclass(frozen=True)
class Sampling:
    """How to sample one generation."""

    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 300
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    repeat_penalty: float = 1.0
    """llama.cpp's multiplicative penalty; only the embedded backend applies it."""
    min_p: float = 0.05
    """Drop tokens less likely than this share of the likeliest one; only the embedded
    backend applies it (llama.cpp's default is 0.05)."""
    no_repeat: int = 0
    """Never choose a token that repeats a run of this many tokens from the prompt or the
    answer; only the embedded backend applies it (bot/llm/steering.py)."""
    narration_avoid: tuple[str, ...] = ()
    """Words never chosen outside quotation marks (the embedded backend only)."""
    min_tokens: int = 0
    """The fewest tokens before the answer may end (the embedded backend only)."""
    prose_only: bool = False
    """Never choose a token that writes markup: `<`, `>`, a bullet, `#`, a backslash or a link
    (the embedded backend only)."""
    scripts_avoid: tuple[str, ...] = ()
    """Writing systems (bot/llm/steering.SCRIPTS) none of whose letters is ever chosen: those a
    story does not use (the embedded backend only)."""
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)

    def but(self, **changes: object) -> Sampling:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Generation:
    """One model answer and what it cost."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""


class Model(Protocol):
    """A text generator. `name` is what gets logged with each call."""

    name: str

    async def generate(
        self, prompt: Prompt, sampling: Sampling, on_text: TextSink | None = None
    ) -> Generation:
        """Generate one text; raise ModelError on any failure. With `on_text`, the text is
        streamed: `on_text` gets the text so far as it grows, on the event loop's thread."""
        ...


async def generate_together(
    model: Model,
    prompts: Sequence[Prompt],
    samplings: Sequence[Sampling],
    on_texts: Sequence[TextSink | None] = (),
) -> list[Generation]:
    """One answer to each prompt, in order. A backend that writes several answers at once has
    a `generate_many` with these arguments (the embedded one decodes them in one batch, the
    OpenAI-compatible one sends concurrent requests); any other model is asked concurrently.
    The first failure is raised."""
    many = getattr(model, "generate_many", None)
    if many is not None:
        return list(await many(prompts, samplings, on_texts))
    return await concurrently(model, prompts, samplings, on_texts)


async def concurrently(
    model: Model,
    prompts: Sequence[Prompt],
    samplings: Sequence[Sampling],
    on_texts: Sequence[TextSink | None] = (),
) -> list[Generation]:
    """One `generate` call per prompt, all at once, their answers in order."""
    sinks = list(on_texts) or [None] * len(prompts)
    return list(
        await asyncio.gather(
            *(
                model.generate(prompt, sampling, sink)
                for prompt, sampling, sink in zip(prompts, samplings, sinks, strict=True)
            )
        )
    )
