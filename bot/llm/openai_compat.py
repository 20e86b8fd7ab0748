"""OpenAI itself, or any OpenAI-compatible server (vLLM, llama.cpp, Ollama, LM Studio)."""

from __future__ import annotations

from typing import Any

import openai

from bot.llm.base import Generation, ModelError, Prompt, Sampling, TextSink


class OpenAICompatible:
    """Chat or legacy completions through the openai SDK's `AsyncOpenAI`.

    Timeouts and retries on 429 and 5xx are the SDK's own; every failure becomes ModelError.
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
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url or None,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def generate(
        self, prompt: Prompt, sampling: Sampling, on_text: TextSink | None = None
    ) -> Generation:
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
            if on_text is not None:
                return await self._stream(prompt, options, on_text)
            if isinstance(prompt, str):
                response = await self._client.completions.create(prompt=prompt, **options)
                text = response.choices[0].text
            else:
                response = await self._client.chat.completions.create(
                    messages=list(prompt), **options
                )
                text = response.choices[0].message.content
            finish_reason = response.choices[0].finish_reason or ""
            usage = response.usage
        except openai.APITimeoutError:
            raise ModelError("The model server took too long to answer.") from None
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
        if isinstance(prompt, str):
            stream: Any = await self._client.completions.create(prompt=prompt, **options)
        else:
            stream = await self._client.chat.completions.create(messages=list(prompt), **options)
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
        return Generation(
            text=text,
            model=self.name,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            finish_reason=finish_reason,
        )

    async def close(self) -> None:
        await self._client.close()
