"""OpenAI itself, or any OpenAI-compatible server (vLLM, llama.cpp, Ollama, LM Studio)."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

import openai

from bot.llm.base import Generation, ModelError, Prompt, Sampling, TextSink, prefill

RETRY_STATUSES = frozenset({408, 409, 429})
"""Besides every 5xx, the statuses worth another try (as the openai SDK decides)."""
BACKOFF_START = 0.5
BACKOFF_LIMIT = 8.0
TOO_SLOW = "The model server took too long to answer."


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, or `retry-after` in seconds or as
    an HTTP date), or None if it did not ask."""
    try:
        return float(headers["retry-after-ms"]) / 1000
    except (KeyError, ValueError):
        pass
    raw = headers.get("retry-after", "")
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def backoff(attempt: int) -> float:
    """Exponential back-off with jitter, for a retry the server gave no delay for."""
    return min(BACKOFF_LIMIT, BACKOFF_START * 2**attempt) * random.uniform(0.75, 1.0)


def worth_retrying(error: openai.APIError) -> bool:
    if isinstance(error, openai.APIStatusError):
        verdict = error.response.headers.get("x-should-retry")
        if verdict in ("true", "false"):
            return verdict == "true"
        return error.status_code in RETRY_STATUSES or error.status_code >= 500
    return isinstance(error, openai.APIConnectionError)


class OpenAICompatible:
    """Chat or legacy completions through the openai SDK's `AsyncOpenAI`.

    `timeout` bounds the whole call, retries and their waits included: a member never waits
    longer for one generation. Retries on connection errors, 408, 409, 429 and 5xx honour the
    server's `Retry-After`, unless it asks for longer than the call has left; then the failure
    is reported at once. Every failure becomes ModelError.
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str = "",
        base_url: str = "",
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        self.name = model
        self.timeout = timeout
        self.max_retries = max_retries
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url or None,
            timeout=timeout,
            max_retries=0,
        )

    async def generate(
        self, prompt: Prompt, sampling: Sampling, on_text: TextSink | None = None
    ) -> Generation:
        """The server's answer. A chat's closing assistant message is not sent: the OpenAI
        API takes it for a finished turn, so the answer may repeat its words."""
        if not isinstance(prompt, str):
            prompt = prefill(prompt)[0]
        options: dict[str, Any] = {
            "model": self.name,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "frequency_penalty": sampling.frequency_penalty,
            "presence_penalty": sampling.presence_penalty,
            "stop": list(sampling.stop) or None,
        }
        if sampling.seed is not None:
            options["seed"] = sampling.seed
        try:
            async with asyncio.timeout(self.timeout):
                if on_text is not None:
                    return await self._stream(prompt, options, on_text)
                response = await self._request_with_retries(prompt, options)
            choice = response.choices[0]
            text = choice.text if isinstance(prompt, str) else choice.message.content
            finish_reason = choice.finish_reason or ""
            usage = response.usage
        except (TimeoutError, openai.APITimeoutError):
            raise ModelError(TOO_SLOW) from None
        except openai.APIConnectionError:
            raise ModelError("The model server could not be reached.") from None
        except openai.APIStatusError as error:
            raise ModelError(
                f"The model server refused the request (HTTP {error.status_code})."
            ) from None
        except (openai.OpenAIError, AttributeError, IndexError, KeyError, TypeError, ValueError):
            raise ModelError("The model server sent an answer that could not be read.") from None
        if not isinstance(text, str):
            raise ModelError("The model server sent an answer that could not be read.")
        return self._generation(text, usage, finish_reason)

    async def generate_many(
        self,
        prompts: Sequence[Prompt],
        samplings: Sequence[Sampling],
        on_texts: Sequence[TextSink | None] = (),
    ) -> list[Generation]:
        """One answer to each prompt, requested concurrently (a server with parallel slots
        writes them together), all within one `timeout`; the first failure cancels the rest."""
        sinks = list(on_texts) or [None] * len(prompts)
        try:
            async with asyncio.timeout(self.timeout), asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self.generate(prompt, sampling, sink))
                    for prompt, sampling, sink in zip(prompts, samplings, sinks, strict=True)
                ]
        except TimeoutError:
            raise ModelError(TOO_SLOW) from None
        except ExceptionGroup as failures:
            first = failures.exceptions[0]
            raise (first if isinstance(first, ModelError) else ModelError(TOO_SLOW)) from None
        return [task.result() for task in tasks]

    def _generation(self, text: str, usage: Any, finish_reason: str) -> Generation:
        """A generation of `text` with the server's token counts, where it sent them."""
        return Generation(
            text=text,
            model=self.name,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            finish_reason=finish_reason,
        )

    async def _stream(
        self, prompt: Prompt, options: dict[str, Any], on_text: TextSink
    ) -> Generation:
        """One generation with `stream=True`, telling `on_text` the text so far at each chunk."""
        options = {**options, "stream": True, "stream_options": {"include_usage": True}}
        stream = await self._request_with_retries(prompt, options)
        text, finish_reason, usage = "", "", None
        async for chunk in stream:
            usage = chunk.usage or usage
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            piece = choice.text if isinstance(prompt, str) else choice.delta.content
            finish_reason = choice.finish_reason or finish_reason
            if piece:
                text += piece
                on_text(text)
        return self._generation(text, usage, finish_reason)

    async def _request_with_retries(self, prompt: Prompt, options: dict[str, Any]) -> Any:
        """The server's response, retried while it is worth it and the deadline allows."""
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            try:
                return await self._request(prompt, options, deadline - time.monotonic())
            except (openai.APIStatusError, openai.APIConnectionError) as error:
                wait = self._retry_wait(error, attempt, deadline)
            await asyncio.sleep(wait)
            attempt += 1

    def _retry_wait(self, error: openai.APIError, attempt: int, deadline: float) -> float:
        """How long to wait before retrying after `error`; raise if it is not worth it or the
        wait would outlast the deadline."""
        if attempt >= self.max_retries or not worth_retrying(error):
            raise error
        asked = None
        if isinstance(error, openai.APIStatusError):
            asked = retry_after(error.response.headers)
        wait = max(0.0, backoff(attempt) if asked is None else asked)
        if wait < deadline - time.monotonic():
            return wait
        if asked is None or not isinstance(error, openai.APIStatusError):
            raise error
        raise ModelError(
            f"The model server is busy (HTTP {error.status_code}) and asked to wait"
            f" {asked:.0f} s; try again later."
        )

    async def _request(self, prompt: Prompt, options: dict[str, Any], timeout: float) -> Any:
        timeout = max(timeout, 0.001)
        if isinstance(prompt, str):
            return await self._client.completions.create(prompt=prompt, timeout=timeout, **options)
        return await self._client.chat.completions.create(
            messages=list(prompt), timeout=timeout, **options
        )

    async def close(self) -> None:
        await self._client.close()
