"""How a story is written: the choices each story makes (its voice) and the knobs shared by
every story."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Voice(Protocol):
    """The per-story choices that shape the writing (a story's settings provide them)."""

    style: str
    length: int
    temperature: float
    chain: str


@dataclass(frozen=True)
class WriterConfig:
    """The writing knobs shared by every story."""

    context_tokens: int = 1200
    top_p: float = 0.95
    seed: int | None = None
    summary_words: int = 120
    attempts: int = 3
    """Loop-guard attempts per passage: the first try plus regenerations."""
    empty_retries: int = 2
    summary_style: str = ""
    """How summaries are asked for: "chat" for an instruct summary model, "completion" for a
    base one; empty follows each story's style."""
