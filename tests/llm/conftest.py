"""Fixtures for the model backends: a real llama.cpp server and tiny misbehaving ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp import web

from bot.llm.llama import default_gguf_path
from tests.servers import HOST, LlamaServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FakeServer = Callable[[Handler], Awaitable[str]]


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """The shipped SmolLM2 GGUF behind llama-cpp-python's server; `.base_url`, `.alias`.

    A test may stop it, but must start it again (same port) before it ends.
    """
    with LlamaServer(default_gguf_path(), alias="smollm2") as server:
        yield server


@pytest.fixture
async def fake_server() -> AsyncIterator[FakeServer]:
    """Starts aiohttp servers on loopback answering every path with `handler`; gives `/v1` URLs."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        port = runner.addresses[0][1]
        return f"http://{HOST}:{port}/v1"

    yield start
    for runner in runners:
        await runner.cleanup()
