"""Streaming: every backend hands the text so far to a callback as it grows, and returns the
same text and usage as without streaming."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from bot.llm import Sampling
from bot.llm.llama import LocalModel
from bot.llm.openai_compat import OpenAICompatible
from bot.llm.scripted import ScriptedModel
from tests.servers import LlamaServer

GREEDY = Sampling(temperature=0.0, seed=1, max_tokens=24)
CHAT = [{"role": "user", "content": "Write one sentence about a cat."}]


class Sink:
    """Collects what a backend streams, and the thread it was called on."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.threads: set[int] = set()

    def __call__(self, text: str) -> None:
        self.texts.append(text)
        self.threads.add(threading.get_ident())

    def check(self, final: str) -> None:
        assert len(self.texts) >= 3
        assert self.texts[-1] == final
        assert all(b.startswith(a) for a, b in itertools.pairwise(self.texts))
        assert self.threads == {threading.get_ident()}


async def warm(generate: Callable[..., Awaitable[object]], prompt: object) -> None:
    """Generate once so that the two calls compared start from the same prompt cache: llama.cpp
    evaluates a cached prefix's last token alone, which can move a close greedy choice."""
    await generate(prompt, GREEDY)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalModel]:
    model = LocalModel(threads=1, context_tokens=1024)
    asyncio.run(model.load())
    yield model
    asyncio.run(model.close())


@pytest.fixture
async def server_model(llama_server: LlamaServer) -> AsyncIterator[OpenAICompatible]:
    model = OpenAICompatible(llama_server.alias, base_url=llama_server.base_url, max_retries=0)
    yield model
    await model.close()


async def test_the_scripted_model_streams_word_by_word_over_its_latency() -> None:
    model = ScriptedModel(["The fog came in at noon and did not leave."], latency=0.2)
    sink = Sink()
    started = asyncio.get_running_loop().time()
    generation = await model.generate("prompt", Sampling(), sink)
    assert asyncio.get_running_loop().time() - started >= 0.2
    assert sink.texts[0] == "The " and len(sink.texts) == 10
    sink.check(generation.text)


@pytest.mark.parametrize("prompt", [CHAT, "The old sailor looked at the sea and said"])
async def test_the_embedded_model_streams_the_text_it_returns(
    local: LocalModel, prompt: object
) -> None:
    await warm(local.generate, prompt)
    whole = await local.generate(prompt, GREEDY)  # type: ignore[arg-type]
    sink = Sink()
    streamed = await local.generate(prompt, GREEDY, sink)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert streamed.text == whole.text
    assert streamed.prompt_tokens > 0 and 0 < streamed.completion_tokens <= GREEDY.max_tokens
    sink.check(streamed.text)


@pytest.mark.parametrize("prompt", [CHAT, "The old sailor looked at the sea and said"])
async def test_an_openai_compatible_server_streams_the_text_it_returns(
    server_model: OpenAICompatible, prompt: object
) -> None:
    await warm(server_model.generate, prompt)
    whole = await server_model.generate(prompt, GREEDY)  # type: ignore[arg-type]
    sink = Sink()
    streamed = await server_model.generate(prompt, GREEDY, sink)  # type: ignore[arg-type]
    assert streamed.text == whole.text
    assert streamed.finish_reason in ("stop", "length")
    sink.check(streamed.text)
