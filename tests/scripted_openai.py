"""A scripted OpenAI-compatible chat server on loopback, for bot processes in tests and benchmarks.

It answers `POST /v1/chat/completions` after `latency` seconds: passage prompts get the next
scene of the scenesim data (each call a different one, so no two passages are alike), summary
prompts get a short account of events. Every call is logged with the time it arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

SCENES = Path(__file__).resolve().parents[1] / "data" / "scenesim" / "scenes.jsonl"
SUMMARY_MARKER = "Retell all of these events together"
"""The first line of prompts/summary_chat.txt."""


@dataclass(frozen=True)
class Call:
    """One chat completion request as the server saw it."""

    arrived: float
    kind: str
    """"summary" or "passage"."""
    prompt: str


def scenes() -> list[str]:
    """Every scene of the scenesim data, without its `END` marker."""
    with SCENES.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [row["completion"].removesuffix(" END").strip() for row in rows]


class ScriptedOpenAI:
    """The server. `latency` can be changed while it runs."""

    def __init__(self, latency: float = 0.0, *, offset: int = 0) -> None:
        self.latency = latency
        self.calls: list[Call] = []
        self._scenes = scenes()
        self._next = offset
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def answer(self, prompt: str) -> tuple[str, str]:
        """The kind of request and its scripted answer."""
        scene = self._scenes[self._next % len(self._scenes)]
        self._next += 1
        if SUMMARY_MARKER in prompt:
            return "summary", " ".join(scene.split(". ")[:2]).rstrip(".") + "."
        return "passage", scene

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        kind, text = self.answer(prompt)
        self.calls.append(Call(time.time(), kind, prompt))
        await asyncio.sleep(self.latency)
        completion = _completion(body.get("model", "scripted"), prompt, text)
        if not body.get("stream"):
            return web.json_response(completion)
        return await _stream(request, completion, text)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "scripted"}]})


async def _stream(
    request: web.Request, completion: dict[str, Any], text: str
) -> web.StreamResponse:
    """The answer as server-sent chunks, as the chat API streams: words, the finish, usage."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    base = {key: completion[key] for key in ("id", "created", "model")}
    base["object"] = "chat.completion.chunk"
    words = text.split(" ")
    pieces = [word + (" " if n < len(words) - 1 else "") for n, word in enumerate(words)]
    for piece in pieces:
        delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
        await response.write(_event({**base, "choices": [delta]}))
    finish = {"index": 0, "delta": {}, "finish_reason": "stop"}
    await response.write(_event({**base, "choices": [finish]}))
    await response.write(_event({**base, "choices": [], "usage": completion["usage"]}))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def _event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


def _completion(model: str, prompt: str, text: str) -> dict[str, Any]:
    prompt_tokens, completion_tokens = len(prompt) // 4, len(text) // 4
    return {
        "id": f"chatcmpl-{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
