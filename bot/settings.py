"""What a story may hold: its settings, and the limits and checks on members' input."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import InvalidInput
from bot.inert import has_visible_text, without_nul_and_bom
from bot.store import Story

LORE_KINDS = ("character", "place", "thing", "event")
STYLES = ("chat", "prose", "completion")
CHAINS = ("automuse", "original")
MODES = ("vote", "solo")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 pair: what Python keeps of bytes that were not valid text."""
KIND_NAMES = {str: "a word", int: "a whole number", float: "a number", bool: "on or off"}


@dataclass(frozen=True)
class Limits:
    """Longest accepted inputs, in characters."""

    opening: int = 4000
    premise: int = 1000
    direction: int = 300
    title: int = 100
    memory: int = 2000
    note: int = 500
    lore_name: int = 80
    lore_keywords: int = 200
    lore_text: int = 1000
    thread: int = 200
    open_threads: int = 10
    """The most threads a story keeps open at once."""


LIMITS = Limits()
LARGEST_ID = 2**63 - 1
"""The largest id a story can have: a signed 64-bit integer."""


@dataclass(frozen=True)
class StorySettings:
    """Per-story choices, stored with the story.

    `chain` "original" reproduces the first AutoMuse experiment exactly (completion style,
    summary + previous passage, no loop guard), as a baseline.
    """

    style: str = "chat"
    length: int = 200
    temperature: float = 0.8
    chain: str = "automuse"
    mode: str = "vote"
    """"vote": /next opens a ballot of candidates; "solo": /next posts one passage."""
    candidates: int = 3
    ballot_seconds: int = 120
    quorum: int = 0
    """Votes that close a ballot early; 0 waits for the deadline."""
    planner: bool = True
    """Whether a passage nobody gave a direction for is written toward a beat the planner
    proposes (bot/planner.py); off, only members' directions steer the story."""

    def validated(self) -> StorySettings:
        for name, field in self.__dataclass_fields__.items():
            value = getattr(self, name)
            kind = type(field.default)
            fits = isinstance(value, kind) or (kind is float and isinstance(value, int))
            if not fits or (kind is not bool and isinstance(value, bool)):
                raise InvalidInput(f"The setting {name} must be {KIND_NAMES[kind]}.")
        if self.style not in STYLES:
            raise InvalidInput(f"Style must be one of: {', '.join(STYLES)}.")
        if self.chain not in CHAINS:
            raise InvalidInput(f"Chain must be one of: {', '.join(CHAINS)}.")
        if not 50 <= self.length <= 1000:
            raise InvalidInput("Length must be between 50 and 1000 tokens.")
        if not 0 <= self.temperature <= 2:
            raise InvalidInput("Temperature must be between 0 and 2.")
        if self.mode not in MODES:
            raise InvalidInput(f"Mode must be one of: {', '.join(MODES)}.")
        if not 2 <= self.candidates <= 5:
            raise InvalidInput("A ballot offers between 2 and 5 candidates.")
        if not 10 <= self.ballot_seconds <= 86_400:
            raise InvalidInput("A ballot lasts between 10 seconds and a day.")
        if not 0 <= self.quorum <= 1000:
            raise InvalidInput("The quorum must be between 0 (none) and 1000 votes.")
        return self

    @classmethod
    def of(cls, story: Story) -> StorySettings:
        fields = cls.__dataclass_fields__
        return cls(**{name: value for name, value in story.settings.items() if name in fields})


def checked(text: str | None, what: str, limit: int, *, required: bool = True) -> str:
    """`text` without NUL, a leading byte-order mark or surrounding space; InvalidInput if it
    is empty (when required), has characters but none visible, or is too long."""
    text = without_nul_and_bom(text or "").strip()
    if LONE_SURROGATE.search(text):
        raise InvalidInput(f"The {what} holds bytes that are not valid text.")
    if text and not has_visible_text(text):
        raise InvalidInput(f"The {what} has no visible characters.")
    if required and not text:
        raise InvalidInput(f"The {what} is empty.")
    if len(text) > limit:
        raise InvalidInput(f"The {what} is {len(text):,} characters; the limit is {limit:,}.")
    return text


def beginning(
    opening: str = "", premise: str = "", title: str = "", memory: str = ""
) -> tuple[str, str, str, str]:
    """A new story's opening, premise, title and memory, each `checked`; InvalidInput when
    there is neither an opening nor a premise."""
    memory = checked(memory, "memory", LIMITS.memory, required=False)
    opening = checked(opening, "opening", LIMITS.opening, required=False)
    premise = checked(premise, "premise", LIMITS.premise, required=False)
    title = checked(title, "title", LIMITS.title, required=False)
    if not opening and not premise:
        raise InvalidInput("Give an opening or a premise to start a story.")
    return opening, premise, title, memory


def parse_keywords(keywords: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    words = (without_nul_and_bom(k).strip().lower() for k in keywords)
    return tuple(dict.fromkeys(word for word in words if has_visible_text(word)))


def numbered_items(text: str) -> list[str]:
    """The items of a numbered or bulleted list, one per line."""
    items = []
    for line in text.splitlines():
        match = re.match(r"^\s*(?:\d+[.)]|[-*•])\s+(.+)$", line)
        if match:
            items.append(match.group(1).strip())
    return items


def direction_for(story: Story, direction: str | None) -> str:
    """What a passage of `story` is to be written toward: the member's own `direction`,
    checked, or else the direction members voted for, if one is waiting."""
    checked_direction = checked(direction or "", "direction", LIMITS.direction, required=False)
    return checked_direction or story.pending_direction or ""


def title_from(text: str) -> str:
    """A story's title when none is given: the first six words of its premise or opening."""
    words = text.split()
    return " ".join(words[:6]) + ("…" if len(words) > 6 else "")
