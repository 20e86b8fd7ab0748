"""Several answers decoded together: one llama.cpp batch carries a token of every sequence.

A ballot's candidates start from prompts that share most of their tokens (the story so far;
only each candidate's beat differs). The shared beginning is evaluated once, as sequence 0,
and its KV cache is given to every other sequence (`llama_memory_seq_cp`); each sequence's own
tail is then evaluated, and from there every step decodes one new token of each unfinished
sequence in a single `llama_decode`, as llama.cpp's `examples/batched` does. On a small CPU
model, k tokens in one batch cost little more than one.

Each sequence is sampled on its own (`choose`): its own seed, penalties and steering.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.llm.base import ModelError, Sampling

SEQUENCES = 8
"""The most sequences a loaded model decodes together (its context's `n_seq_max`)."""

PENALTY_WINDOW = 64
"""As llama.cpp: the repeat, frequency and presence penalties look at the last 64 tokens."""
TOP_K = 40
"""As llama-cpp-python's default: only the 40 likeliest tokens are ever sampled."""

Banned = Callable[[list[int]], list[int]]
"""The tokens that may not come next after the given tokens (bot/llm/steering.py)."""

_loading = threading.Lock()


@contextmanager
def parallel_contexts(sequences: int = SEQUENCES) -> Iterator[None]:
    """While it is held, a llama-cpp-python `Llama` made gets a context that holds `sequences`
    sequences in one unified KV cache. `Llama` takes no such argument: it starts from llama.cpp's
    default context parameters, so those are changed meanwhile (one model loads at a time)."""
    from llama_cpp import llama_cpp

    with _loading:
        original = llama_cpp.llama_context_default_params

        def parallel() -> Any:
            params = original()
            params.n_seq_max = sequences
            params.kv_unified = True
            return params

        llama_cpp.llama_context_default_params = parallel
        try:
            yield
        finally:
            llama_cpp.llama_context_default_params = original


def choose(
    logits: np.ndarray,
    history: Sequence[int],
    sampling: Sampling,
    banned: Sequence[int],
    rng: np.random.Generator,
) -> int:
    """One token from `logits` after `history` (prompt and answer), sampled as llama-cpp-python
    does by default: penalties on the last tokens, `banned` masked out, the top 40, top-p,
    min-p, then the temperature."""
    scores = np.array(logits, dtype=np.float64)
    recent = list(history[-PENALTY_WINDOW:])
    if recent:
        ids, counts = np.unique(np.array(recent, dtype=np.int64), return_counts=True)
        picked = scores[ids]
        penalty = sampling.repeat_penalty
        picked = np.where(picked > 0, picked / penalty, picked * penalty)
        picked -= counts * sampling.frequency_penalty + sampling.presence_penalty
        scores[ids] = picked
    if len(banned):
        scores[list(banned)] = -np.inf
    if not np.isfinite(scores).any():
        scores = np.array(logits, dtype=np.float64)
    if sampling.temperature <= 0:
        return int(np.argmax(scores))
    top = np.arange(scores.size)
    if scores.size > TOP_K:
        top = np.argpartition(-scores, TOP_K)[:TOP_K]
    top = top[np.argsort(-scores[top], kind="stable")]
    top = top[np.isfinite(scores[top])]
    chances = softmax(scores[top])
    keep = (np.cumsum(chances) - chances < sampling.top_p) & (
        chances >= sampling.min_p * chances[0]
    )
    top = top[keep]
    chances = softmax(scores[top] / sampling.temperature)
    return int(top[rng.choice(len(top), p=chances)])


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


def shared_start(prompts: Sequence[Sequence[int]]) -> int:
    """How many tokens all `prompts` begin with, short of any prompt's last token, which its
    own sequence evaluates (its logits choose that sequence's first token)."""
    shortest = min(len(prompt) for prompt in prompts)
    count = 0
    while count < shortest - 1 and all(p[count] == prompts[0][count] for p in prompts):
        count += 1
    return count


def cells_needed(strands: Sequence[Strand]) -> int:
    """How many KV cells decoding `strands` together takes at most: their shared start once,
    then each one's own tail and answer."""
    start = shared_start([s.prompt for s in strands])
    return start + sum(len(s.prompt) - start + s.sampling.max_tokens for s in strands)


@dataclass
class Strand:
    """One sequence being decoded: its prompt, its sampling, and what it has written."""

    prompt: list[int]
    sampling: Sampling
    banned: Banned
    stream: Callable[[str], None] | None = None
    answer: list[int] = field(default_factory=list)
    written: bytearray = field(default_factory=bytearray)
    text: str = ""
    finish_reason: str = ""

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.sampling.seed)

    @property
    def done(self) -> bool:
        return bool(self.finish_reason)

    def as_completion(self) -> dict[str, Any]:
        """The answer in the shape of a llama-cpp-python completion."""
        return {
            "choices": [{"text": self.text, "finish_reason": self.finish_reason}],
            "usage": {"prompt_tokens": len(self.prompt), "completion_tokens": len(self.answer)},
        }

    @property
    def latest(self) -> tuple[int, int]:
        """The last token written and its position."""
        return self.answer[-1], len(self.prompt) + len(self.answer) - 1

    def choose(self, logits: np.ndarray) -> int:
        """The next token, sampled from `logits` with this strand's sampling and steering."""
        history = self.prompt + self.answer
        return choose(logits, history, self.sampling, self.banned(history), self.rng)

    def take(self, token: int, piece: bytes, ends: Sequence[int]) -> None:
        """Add the chosen `token` (whose text is `piece`), or finish on an end or a stop."""
        if token in ends:
            self.finish_reason = "stop"
            return
        self.answer.append(token)
        self.written += piece
        self.text = self.written.decode("utf-8", errors="ignore")
        for stop in self.sampling.stop:
            if stop in self.text:
                self.text = self.text.split(stop, 1)[0]
                self.finish_reason = "stop"
        if not self.done and len(self.answer) >= self.sampling.max_tokens:
            self.finish_reason = "length"
        if self.stream is not None:
            self.stream(self.text)


class Batch:
    """A llama.cpp batch of up to `size` tokens, each of one sequence."""

    def __init__(self, size: int) -> None:
        from llama_cpp import llama_cpp

        self.size = size
        self.batch = llama_cpp.llama_batch_init(size, 0, 1)

    def fill(self, entries: Sequence[tuple[int, int, int, bool]]) -> None:
        """Set the batch to `entries`: (token, position, sequence, whether logits are wanted)."""
        batch = self.batch
        batch.n_tokens = len(entries)
        for i, (token, position, sequence, wanted) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = position
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = sequence
            batch.logits[i] = wanted

    def close(self) -> None:
        from llama_cpp import llama_cpp

        llama_cpp.llama_batch_free(self.batch)


def decode_together(
    llama: Any, strands: Sequence[Strand], ends: Sequence[int], stopped: Callable[[], bool]
) -> int:
    """Write every strand's answer with `llama` (its context made under `parallel_contexts`),
    one token of each unfinished strand per decode, until all are done or `stopped()`. Returns
    how many prompt tokens were kept evaluated from the call before.

    The shared start of the prompts is kept evaluated afterwards as the model's sequence 0, as
    llama-cpp-python keeps a prompt, so a call that follows reuses it."""
    from llama_cpp import llama_cpp

    if len(strands) > SEQUENCES:
        raise ModelError(f"The embedded model writes at most {SEQUENCES} answers together.")
    start = shared_start([s.prompt for s in strands])
    if cells_needed(strands) > llama.n_ctx():
        raise ModelError("The story is too long to write these answers together.")
    ctx, memory = llama._ctx.ctx, llama_cpp.llama_get_memory(llama._ctx.ctx)
    kept = 0
    held = llama.input_ids[: llama.n_tokens]
    while kept < min(len(held), start) and held[kept] == strands[0].prompt[kept]:
        kept += 1
    llama_cpp.llama_memory_seq_rm(memory, -1, kept, -1)
    llama.n_tokens = kept
    batch = Batch(max(llama.n_batch, len(strands)))
    try:
        llama.eval(strands[0].prompt[kept:start])
        for sequence in range(1, len(strands)):
            llama_cpp.llama_memory_seq_cp(memory, 0, sequence, 0, start)
        logits = _evaluate_tails(llama, ctx, batch, strands, start)
        while not stopped():
            active = [n for n, strand in enumerate(strands) if not strand.done]
            for n in active:
                token = strands[n].choose(logits[n])
                strands[n].take(token, llama.detokenize([token]), ends)
            active = [n for n in active if not strands[n].done]
            if not active:
                break
            batch.fill([(*strands[n].latest, n, True) for n in active])
            _decode(ctx, batch)
            logits = {n: _logits(llama, ctx, i) for i, n in enumerate(active)}
    finally:
        batch.close()
        llama_cpp.llama_memory_seq_rm(memory, -1, start, -1)
        for sequence in range(1, len(strands)):
            llama_cpp.llama_memory_seq_rm(memory, sequence, -1, -1)
        llama.n_tokens = min(llama.n_tokens, start)
    return kept


def _evaluate_tails(
    llama: Any, ctx: Any, batch: Batch, strands: Sequence[Strand], start: int
) -> dict[int, np.ndarray]:
    """Evaluate each strand's prompt after the shared `start`, as many tokens per decode as the
    batch holds; the logits after each prompt's last token, by strand."""
    entries = [
        (token, position, n, position == len(strand.prompt) - 1)
        for n, strand in enumerate(strands)
        for position, token in enumerate(strand.prompt[start:], start)
    ]
    logits: dict[int, np.ndarray] = {}
    for first in range(0, len(entries), batch.size):
        chunk = entries[first : first + batch.size]
        batch.fill(chunk)
        _decode(ctx, batch)
        for i, (_, _, n, wanted) in enumerate(chunk):
            if wanted:
                logits[n] = _logits(llama, ctx, i)
    return logits


def _decode(ctx: Any, batch: Batch) -> None:
    from llama_cpp import llama_cpp

    if llama_cpp.llama_decode(ctx, batch.batch) != 0:
        raise ModelError("The embedded model could not decode the candidates together.")


def _logits(llama: Any, ctx: Any, index: int) -> np.ndarray:
    from llama_cpp import llama_cpp

    row = llama_cpp.llama_get_logits_ith(ctx, index)
    return np.ctypeslib.as_array(row, shape=(llama.n_vocab(),)).copy()
