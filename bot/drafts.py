"""A passage as written before it is stored: its text, what it was written from and the
judge's verdict, and how attempts at one passage are compared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import repetition
from bot.judge import StoryView, Verdict
from bot.prompts import Context

REGENERATE = frozenset(
    {"meta", "assistant", "debris", "person", "recycled", "cutoff", "repetition"}
    | {"retelling", "refrain", "mutation", "contradiction", "paragraph", "fused", "offbeat"}
)
"""Faults worth another model call. A chat model's stub is kept: an instruct model that stops
early has usually finished its thought. A base model's stub is continued instead (see
`Draft.passes`)."""

LOOP_WEIGHT = 2.0
"""What a looping attempt (bot/repetition.py) adds to the judge's score when attempts are
compared."""


@dataclass
class Draft:
    """A generated passage before it is stored, with the judge's verdict on it."""

    text: str
    context: Context
    model: str
    check: repetition.LoopCheck
    verdict: Verdict
    beat: str = ""
    """What was to happen in it (bot/planner.py), empty when nothing was asked."""
    thread_id: int | None = None
    """The story's open thread its beat moves on, or answers when `resolves`."""
    resolves: bool = False

    @property
    def faults(self) -> tuple[str, ...]:
        return self.verdict.faults

    def passes(self, style: str) -> bool:
        """Whether nothing about it is worth another model call in `style`: in prose style a
        stub is, since a base model that stopped mid-story can simply go on."""
        worth = REGENERATE | {"stub"} if style == "prose" else REGENERATE
        return not self.check.loops and not worth.intersection(self.faults)

    @property
    def badness(self) -> float:
        """What attempts are compared by: the judge's score, plus a penalty for looping."""
        return self.verdict.score + (LOOP_WEIGHT * self.check.badness if self.check.loops else 0)


@dataclass(frozen=True)
class Job:
    """One passage to write: the context it is written from, what the judge knows of the story
    and of its beat, and its variant (a ballot's candidate, which varies the seed)."""

    base: Context
    story: StoryView
    variant: int = 0


def best(drafts: Sequence[Draft]) -> Draft:
    """The attempt with the least badness."""
    return min(drafts, key=lambda d: d.badness)
