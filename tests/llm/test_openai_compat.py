"""OpenAICompatible against a real llama.cpp server, and against servers that misbehave."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from bot.config import load_settings
from bot.engine import Engine, EngineConfig
from bot.errors import GenerationFailed
from bot.llm import ModelError, Models, Sampling, open_models
from bot.llm.openai_compat import OpenAICompatible
from bot.settings import StorySettings
from bot.split import PASSAGE_LIMIT
from bot.store import Store
from tests.servers import HOST, LlamaServer, free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FakeServer = Callable[[Handler], Awaitable[str]]
Connect = Callable[..., OpenAICompatible]

GREEDY = Sampling(temperature=0.0, seed=1, max_tokens=24)
CHAT = [{"role": "user", "content": "Write one sentence about a cat."}]
COMPLETION = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 0,
    "model": "fake",
    "choices": [{"text": " it rained.", "index": 0, "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
}


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Makes OpenAICompatible backends (no retries, short timeout unless told) and closes them."""
    made: list[OpenAICompatible] = []

    def make(base_url: str, model: str = "smollm2", **options: object) -> OpenAICompatible:
        options = {"timeout": 30.0, "max_retries": 0, **options}
        made.append(OpenAICompatible(model, base_url=base_url, **options))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for backend in made:
        await backend.close()


# The real server


async def test_chat_returns_text_and_usage(llama_server: LlamaServer, connect: Connect) -> None:
    generation = await connect(llama_server.base_url).generate(CHAT, GREEDY)
    assert len(generation.text.split()) >= 3
    assert generation.model == llama_server.alias
    assert generation.prompt_tokens > 0
    assert 0 < generation.completion_tokens <= GREEDY.max_tokens
    assert generation.finish_reason in ("stop", "length")


async def test_completion_returns_text_and_usage(
    llama_server: LlamaServer, connect: Connect
) -> None:
    generation = await connect(llama_server.base_url).generate("Once upon a time,", GREEDY)
    assert generation.text.strip()
    assert generation.prompt_tokens > 0
    assert 0 < generation.completion_tokens <= GREEDY.max_tokens


async def test_stop_sequence_is_honoured(llama_server: LlamaServer, connect: Connect) -> None:
    backend = connect(llama_server.base_url)
    counting = GREEDY.but(max_tokens=20)
    free = await backend.generate("1, 2, 3, 4,", counting)
    assert " 7" in free.text, "without a stop the model must count past 7 for this test to work"
    stopped = await backend.generate("1, 2, 3, 4,", counting.but(stop=(" 7",)))
    assert "7" not in stopped.text
    assert stopped.finish_reason == "stop"
    assert free.text.startswith(stopped.text)
    assert stopped.completion_tokens < free.completion_tokens


async def test_server_stopped_mid_story(
    llama_server: LlamaServer, connect: Connect, tmp_path: Path
) -> None:
    """A story survives its model server going away: nothing changes, the failure is logged."""
    backend = connect(llama_server.base_url)
    store = await Store.open(tmp_path / "s.db")
    config = EngineConfig(
        story_defaults=StorySettings(length=50), summary_words=20, attempts=1, seed=3
    )
    engine = Engine(store, Models(backend, backend), config)
    try:
        story = await engine.start(opening="The lighthouse keeper found a letter in a bottle.")
        first = await engine.next(story.id)
        assert len(first.text.split()) >= 3
        before = [(p.id, p.text) for p in await engine.stories.line(story.id)]
        head = (await engine.stories.story(story.id)).head_id
        logged = len(await store.calls(story.id))

        llama_server.stop()
        try:
            started = time.perf_counter()
            with pytest.raises(GenerationFailed) as failure:
                await engine.next(story.id)
            assert time.perf_counter() - started < 5
        finally:
            llama_server.start()

        message = str(failure.value)
        assert message == "The model server could not be reached."
        assert [(p.id, p.text) for p in await engine.stories.line(story.id)] == before
        assert (await engine.stories.story(story.id)).head_id == head == first.id
        failed = (await store.calls(story.id))[logged:]
        assert [(c.purpose, c.error, c.response) for c in failed] == [("plan", message, "")]

        # The same backend carries on once the server is back on its port.
        second = await engine.next(story.id)
        assert second.parent_id == first.id
    finally:
        await store.close()


# Servers that are down, slow, or answer badly


async def test_down_server_fails_quickly(connect: Connect) -> None:
    backend = connect(f"http://{HOST}:{free_port()}/v1")
    started = time.perf_counter()
    with pytest.raises(ModelError, match=r"^The model server could not be reached\.$"):
        await backend.generate(CHAT, GREEDY)
    assert time.perf_counter() - started < 2


async def test_slow_server_times_out(fake_server: FakeServer, connect: Connect) -> None:
    async def never_in_time(request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.json_response(COMPLETION)

    backend = connect(await fake_server(never_in_time), timeout=0.5)
    started = time.perf_counter()
    with pytest.raises(ModelError, match="took too long"):
        await backend.generate("Once upon a time,", GREEDY)
    assert 0.4 < time.perf_counter() - started < 3


GARBAGE = {
    "not json": ("text/plain", "I am a teapot, not a model."),
    "broken json": ("application/json", '{"choices": [{"text": '),
    "no choices": ("application/json", json.dumps({"id": "x", "object": "text_completion"})),
    "empty choices": ("application/json", json.dumps({**COMPLETION, "choices": []})),
    "null text": (
        "application/json",
        json.dumps({**COMPLETION, "choices": [{"index": 0, "text": None, "message": None}]}),
    ),
}
UNREADABLE = r"^The model server sent an answer that could not be read\.$"


@pytest.mark.parametrize("kind", ["completion", "chat"])
@pytest.mark.parametrize("garbage", GARBAGE)
async def test_unreadable_answer(
    fake_server: FakeServer, connect: Connect, garbage: str, kind: str
) -> None:
    content_type, body = GARBAGE[garbage]
    seen: list[str] = []

    async def nonsense(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(status=200, text=body, content_type=content_type)

    backend = connect(await fake_server(nonsense))
    prompt = "Once upon a time," if kind == "completion" else CHAT
    with pytest.raises(ModelError, match=UNREADABLE):
        await backend.generate(prompt, GREEDY)
    assert seen == ["/v1/completions" if kind == "completion" else "/v1/chat/completions"]


def failing_once(status: int, requests: list[int]) -> Handler:
    """A handler that answers `status` to the first request and a good completion after."""

    async def handler(request: web.Request) -> web.Response:
        requests.append(status)
        if len(requests) == 1:
            return web.json_response(
                {"error": {"message": "busy"}}, status=status, headers={"retry-after-ms": "10"}
            )
        return web.json_response(COMPLETION)

    return handler


@pytest.mark.parametrize("status", [503, 429])
async def test_retries_recover(fake_server: FakeServer, connect: Connect, status: int) -> None:
    requests: list[int] = []
    backend = connect(await fake_server(failing_once(status, requests)), max_retries=1)
    generation = await backend.generate("It was late and", GREEDY)
    assert generation.text == " it rained."
    assert (generation.prompt_tokens, generation.completion_tokens) == (3, 4)
    assert len(requests) == 2


@pytest.mark.parametrize("status", [503, 429])
async def test_no_retries_fail(fake_server: FakeServer, connect: Connect, status: int) -> None:
    requests: list[int] = []
    backend = connect(await fake_server(failing_once(status, requests)), max_retries=0)
    with pytest.raises(ModelError, match=rf"\(HTTP {status}\)"):
        await backend.generate("It was late and", GREEDY)
    assert len(requests) == 1


async def test_api_key_is_never_echoed(fake_server: FakeServer, connect: Connect) -> None:
    key = "sk-test-do-not-print-4f1c9a"
    received: list[str] = []

    async def refuse(request: web.Request) -> web.Response:
        received.append(request.headers.get("Authorization", ""))
        return web.json_response({"error": {"message": f"bad key {key}"}}, status=401)

    backend = connect(await fake_server(refuse), api_key=key)
    settings = load_settings(environ={"OPENAI_API_KEY": key}, env_file=None)
    models = open_models(settings)
    try:
        with pytest.raises(ModelError) as failure:
            await backend.generate(CHAT, GREEDY)
        assert received == [f"Bearer {key}"], "the key must really be sent"
        shown = [
            repr(backend),
            str(backend),
            repr(settings),
            str(settings),
            repr(models),
            str(failure.value),
            "".join(traceback.format_exception(failure.value)),
        ]
        assert settings.openai_api_key.reveal() == key
        for text in shown:
            assert key not in text
    finally:
        await models.close()


# The deadline: AUTOMUSE_TIMEOUT bounds a whole call, retries included


def backend_from_env(base_url: str, **env: str) -> Models:
    settings = load_settings(environ={"OPENAI_BASE_URL": base_url, **env}, env_file=None)
    return open_models(settings)


async def test_a_trickling_server_fails_at_the_deadline(fake_server: FakeServer) -> None:
    """One byte every 2 s never trips a read timeout; the call's deadline still holds."""

    async def trickle(request: web.Request) -> web.StreamResponse:
        body = json.dumps(COMPLETION).encode()
        response = web.StreamResponse(
            headers={"Content-Type": "application/json", "Content-Length": str(len(body))}
        )
        await response.prepare(request)
        for index in range(len(body)):
            await response.write(body[index : index + 1])
            await asyncio.sleep(2)
        return response

    models = backend_from_env(await fake_server(trickle), AUTOMUSE_TIMEOUT="5")
    try:
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"^The model server took too long to answer\.$"):
            await models.passage.generate("Once upon a time,", GREEDY)
        assert 4.5 < time.perf_counter() - started < 7
    finally:
        await models.close()


async def test_a_retry_after_longer_than_the_deadline_is_reported_at_once(
    fake_server: FakeServer,
) -> None:
    requests: list[str] = []

    async def rate_limited(request: web.Request) -> web.Response:
        requests.append(request.path)
        return web.json_response(
            {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "120"}
        )

    models = backend_from_env(await fake_server(rate_limited))
    try:
        started = time.perf_counter()
        with pytest.raises(ModelError) as failure:
            await models.passage.generate(CHAT, GREEDY)
        assert time.perf_counter() - started < 2
        assert str(failure.value) == (
            "The model server is busy (HTTP 429) and asked to wait 120 s; try again later."
        )
        assert requests == ["/v1/chat/completions"]
    finally:
        await models.close()


async def test_a_hung_server_is_reported_within_the_timeout(fake_server: FakeServer) -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("never answers")

    models = backend_from_env(
        await fake_server(hang), AUTOMUSE_TIMEOUT="2", AUTOMUSE_MAX_RETRIES="3"
    )
    try:
        started = time.perf_counter()
        with pytest.raises(ModelError, match="took too long"):
            await models.passage.generate(CHAT, GREEDY)
        assert 1.5 < time.perf_counter() - started < 3.5
    finally:
        await models.close()


async def test_retries_and_their_waits_stop_at_the_deadline(fake_server: FakeServer) -> None:
    requests: list[float] = []

    async def unavailable(request: web.Request) -> web.Response:
        requests.append(time.perf_counter())
        return web.json_response(
            {"error": {"message": "down"}}, status=503, headers={"Retry-After": "1"}
        )

    models = backend_from_env(
        await fake_server(unavailable), AUTOMUSE_TIMEOUT="2.5", AUTOMUSE_MAX_RETRIES="10"
    )
    try:
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"\(HTTP 503\)"):
            await models.passage.generate(CHAT, GREEDY)
        assert time.perf_counter() - started < 2.5 + 0.5
        assert len(requests) == 3, "waited 1 s twice as asked, then the third wait did not fit"
    finally:
        await models.close()


@pytest.mark.parametrize("prompt", ["Once upon a time,", CHAT], ids=["completion", "chat"])
async def test_max_tokens_is_sent_on_every_call(
    fake_server: FakeServer, connect: Connect, prompt: object
) -> None:
    bodies: list[dict[str, object]] = []

    async def record(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        chat = {
            **COMPLETION,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "It rained."},
                    "finish_reason": "length",
                }
            ],
        }
        return web.json_response(COMPLETION if request.path.endswith("/v1/completions") else chat)

    backend = connect(await fake_server(record))
    await backend.generate(prompt, GREEDY.but(max_tokens=77))  # type: ignore[arg-type]
    assert [body["max_tokens"] for body in bodies] == [77]


async def test_a_50000_word_answer_is_stored_cut_at_a_sentence_end(
    fake_server: FakeServer, connect: Connect, tmp_path: Path
) -> None:
    words = " ".join(
        f"Wave {n} broke on the rocks below the {colour} lamp."
        for n, colour in zip(range(5000), itertools.cycle(("red", "green", "grey", "white")))
    )
    assert len(words.split()) == 50_000

    async def ramble(request: web.Request) -> web.Response:
        message = {"role": "assistant", "content": words}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return web.json_response({**COMPLETION, "object": "chat.completion", "choices": [choice]})

    backend = connect(await fake_server(ramble))
    store = await Store.open(tmp_path / "s.db")
    try:
        engine = Engine(store, Models(backend, backend), EngineConfig())
        story = await engine.start(opening="The lighthouse keeper counted the waves.")
        passage = await engine.next(story.id)
        [stored] = [p for p in await engine.stories.line(story.id) if p.id == passage.id]
        assert 0 < len(stored.text) <= PASSAGE_LIMIT
        assert stored.text.endswith("lamp.") and stored.text in words
        assert len(stored.summary or "") <= PASSAGE_LIMIT
        logged = [call.response for call in await store.calls(story.id)]
        assert max(len(response) for response in logged) <= 2 * PASSAGE_LIMIT
    finally:
        await store.close()


async def test_a_chat_s_closing_answer_is_not_sent_as_a_finished_turn(
    fake_server: FakeServer, connect: Connect
) -> None:
    bodies: list[dict] = []

    async def answer(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        message = {"role": "assistant", "content": "The lamp went out."}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return web.json_response({**COMPLETION, "object": "chat.completion", "choices": [choice]})

    backend = connect(await fake_server(answer))
    prefilled = [*CHAT, {"role": "assistant", "content": "The cat"}]
    generation = await backend.generate(prefilled, GREEDY)
    assert generation.text == "The lamp went out."
    assert [bodies[0]["messages"]] == [CHAT]


# Several answers at once (a ballot's candidates)


async def test_several_prompts_are_sent_as_concurrent_requests(fake_server: FakeServer) -> None:
    in_flight, most = 0, 0

    async def answer(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        body = await request.json()
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.3)
        in_flight -= 1
        return web.json_response(
            {**COMPLETION, "choices": [{**COMPLETION["choices"][0], "text": body["prompt"]}]}
        )

    models = backend_from_env(await fake_server(answer), AUTOMUSE_TIMEOUT="5")
    try:
        prompts = ["One,", "Two,", "Three,"]
        generations = await models.passage.generate_many(prompts, [GREEDY] * 3)
        assert [g.text for g in generations] == prompts
        assert most == 3
    finally:
        await models.close()


async def test_one_deadline_bounds_all_the_answers_asked_for_together(
    fake_server: FakeServer,
) -> None:
    async def one_hangs(request: web.Request) -> web.Response:
        body = await request.json()
        if body["prompt"] == "Two,":
            await asyncio.Event().wait()
        return web.json_response(COMPLETION)

    models = backend_from_env(await fake_server(one_hangs), AUTOMUSE_TIMEOUT="2")
    try:
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"^The model server took too long to answer\.$"):
            await models.passage.generate_many(["One,", "Two,", "Three,"], [GREEDY] * 3)
        assert 1.5 < time.perf_counter() - started < 3.5
    finally:
        await models.close()


async def test_a_failed_answer_fails_the_whole_batch_at_once(fake_server: FakeServer) -> None:
    async def refuse_two(request: web.Request) -> web.Response:
        body = await request.json()
        if body["prompt"] == "Two,":
            return web.json_response({"error": {"message": "no"}}, status=400)
        await asyncio.sleep(10)
        return web.json_response(COMPLETION)

    models = backend_from_env(await fake_server(refuse_two), AUTOMUSE_TIMEOUT="30")
    try:
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"refused the request \(HTTP 400\)"):
            await models.passage.generate_many(["One,", "Two,", "Three,"], [GREEDY] * 3)
        assert time.perf_counter() - started < 5
    finally:
        await models.close()


async def test_the_planner_and_summariser_may_be_other_models_on_the_server() -> None:
    models = backend_from_env(
        "http://127.0.0.1:9/v1", AUTOMUSE_MODEL="big", AUTOMUSE_PLAN_MODEL="big"
    )
    try:
        assert models.planner is models.passage and models.summary is models.passage
    finally:
        await models.close()
    models = backend_from_env("http://127.0.0.1:9/v1", AUTOMUSE_SUMMARY_MODEL="small")
    try:
        assert models.summary.name == "small" and models.planner is models.summary
        assert models.passage.name == "gpt-4o-mini"
    finally:
        await models.close()
