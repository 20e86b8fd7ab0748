"""What the store hands out and takes in: stories, passages, lore, ballots, model calls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Story:
    id: int
    guild_id: int | None
    channel_id: int | None
    title: str
    status: str
    head_id: int | None
    started_by: int | None
    memory: str
    note: str
    settings: dict[str, Any]
    created_at: str
    pending_direction: str = ""
    """A direction members voted for, waiting to steer the next passage."""


@dataclass(frozen=True)
class Passage:
    id: int
    story_id: int
    parent_id: int | None
    text: str
    summary: str | None
    author_id: int | None
    """The member who wrote it, or None when the model did."""
    direction: str
    model: str
    created_at: str
    context: dict[str, Any] | None = None
    """The labelled context the passage was generated from, for exports."""
    requested_by: int | None = None
    looped: bool = False
    """True when every attempt looped and the least repetitive one was kept."""
    depth: int = 0
    """How many passages come before it in its story; its number is depth + 1."""
    faults: tuple[str, ...] = ()
    """The judge's faults that remain in it (bot/judge.py), empty when none."""
    beat: str = ""
    """The one sentence saying what happens in it that it was written toward: a member's
    direction, the one members voted for, or the planner's (bot/planner.py)."""
    thread_id: int | None = None
    """The story's open thread that its beat advanced, or resolved when `resolves`."""
    resolves: bool = False
    planned: str = ""
    """The beat planned for the passage after it, as JSON (bot/beats.py), or ""."""


@dataclass(frozen=True)
class NewPassage:
    """A passage about to be stored."""

    text: str
    summary: str | None = None
    author_id: int | None = None
    direction: str = ""
    model: str = ""
    context: dict[str, Any] | None = None
    requested_by: int | None = None
    looped: bool = False
    faults: tuple[str, ...] = ()
    beat: str = ""
    thread_id: int | None = None
    resolves: bool = False


@dataclass(frozen=True)
class Thread:
    """A question the story has raised and not yet answered, such as who sent the signal."""

    id: int
    story_id: int
    text: str
    status: str
    """"open" or "closed"."""
    opened_by: int | None
    """The member who added it, or None when AutoMuse found it in the opening."""
    advanced: int
    """How many passages have moved it on."""
    created_at: str


@dataclass(frozen=True)
class LedgerEntry:
    """What the continuity ledger recorded of a story: a named character or place, or a
    fact a reader holds the story to, under a `key` that a newer finding replaces."""

    kind: str
    """"character", "place" or "fact"."""
    key: str
    name: str
    """The character or place the entry is about."""
    text: str
    mentions: int = 1
    passage_id: int | None = None
    """The passage it was last found in."""


@dataclass(frozen=True)
class LoreEntry:
    id: int
    story_id: int
    kind: str
    name: str
    keywords: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Option:
    """One choice on a ballot: a candidate passage, a direction, or "none of these"."""

    id: int
    ballot_id: int
    emoji: str
    passage_id: int | None
    text: str
    proposed_by: int | None


@dataclass(frozen=True)
class Ballot:
    id: int
    story_id: int
    kind: str
    """"passage" or "direction"."""
    head_id: int | None
    opened_by: int | None
    opened_at: float
    deadline: float
    quorum: int
    channel_id: int | None
    message_id: int | None
    status: str
    closed_at: float | None
    outcome: str
    """"chosen", "reroll", "no votes" or "void" once closed."""
    winner_id: int | None
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Reaction:
    """A member adding or withdrawing a reaction: a vote on a ballot, or a tone nudge."""

    member_id: int
    emoji: str
    added: bool
    at: float


@dataclass(frozen=True)
class ModelCall:
    """One call to a model, as logged."""

    purpose: str
    model: str
    prompt: str
    response: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    error: str = ""
    created_at: str = field(default_factory=now)


STORY_COLUMNS = (
    "id, guild_id, channel_id, title, status, head_id, started_by, memory, note, settings,"
    " created_at, pending_direction"
)
PASSAGE_COLUMNS = (
    "id, story_id, parent_id, text, summary, author_id, direction, model, created_at, context,"
    " requested_by, looped, depth, faults, beat, thread_id, resolves, planned"
)
THREAD_COLUMNS = "id, story_id, text, status, opened_by, advanced, created_at"


def story_from_row(row: Sequence[Any]) -> Story:
    return Story(*row[:9], json.loads(row[9]), *row[10:])


def passage_from_row(row: Sequence[Any]) -> Passage:
    context = json.loads(row[9]) if row[9] else None
    faults = tuple(fault for fault in row[13].split(",") if fault)
    return Passage(
        *row[:9],
        context,
        row[10],
        bool(row[11]),
        row[12],
        faults,
        row[14],
        row[15],
        bool(row[16]),
        row[17],
    )


def lore_from_row(row: Sequence[Any]) -> LoreEntry:
    keywords = tuple(k for k in row[4].split("\n") if k)
    return LoreEntry(row[0], row[1], row[2], row[3], keywords, row[5])
