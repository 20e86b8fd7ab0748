"""What the engine is doing while it writes, reported to whoever asked (plain Python)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

STAGES = ("writing", "checking", "rewriting", "summarising")


@dataclass(frozen=True)
class Step:
    """One moment of a writing operation."""

    stage: str
    """One of STAGES: writing a passage, checking it for repetition, writing it again because
    it repeated itself, or rewriting the rolling summary."""
    number: int = 1
    """Which candidate (or attempt, when rewriting), counting from 1."""
    total: int = 1
    """How many candidates (or attempts) there are."""
    text: str = ""
    """While writing: the passage so far, as the model streams it."""


Report = Callable[[Step], None]
"""Told each step as it happens; it must return at once (it runs on the event loop)."""


def ignore(step: Step) -> None:
    """A Report for callers that do not follow progress."""
