"""A scripted OpenAI-compatible chat server on loopback, for bot processes in tests and benchmarks.

It answers `POST /v1/chat/completions` (whole, or streamed as server-sent chunks) after
`latency` seconds: passage prompts get the next scene of the scenesim data (each call a
different one, so no two passages are alike), summary prompts get a short account of events. Every call is logged with the time it arrived.
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
SUMMARY_MARKER = "Story summary so far:"
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
        model = body.get("model", "scripted")
        if body.get("stream"):
            return await _streamed(request, model, prompt, text, body.get("stream_options"))
        return web.json_response(_completion(model, prompt, text))

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "scripted"}]})


async def _streamed(
    request: web.Request, model: str, prompt: str, text: str, options: Any
) -> web.StreamResponse:
    """The answer as server-sent chat completion chunks, a few words each, then `[DONE]`."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    whole = _completion(model, prompt, text)
    words = text.split(" ")
    pieces = [" ".join(words[i : i + 8]) + " " for i in range(0, len(words), 8)]
    pieces[-1] = pieces[-1].rstrip(" ")
    for number, piece in enumerate(pieces):
        last = number == len(pieces) - 1
        chunk = {
            "id": whole["id"],
            "object": "chat.completion.chunk",
            "created": whole["created"],
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": piece, **({"role": "assistant"} if number == 0 else {})},
                    "finish_reason": "stop" if last else None,
                }
            ],
        }
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    if isinstance(options, dict) and options.get("include_usage"):
        usage = {**{k: whole[k] for k in ("id", "created", "model")}, "choices": []}
        usage |= {"object": "chat.completion.chunk", "usage": whole["usage"]}
        await response.write(f"data: {json.dumps(usage)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


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
