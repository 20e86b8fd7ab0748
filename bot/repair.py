"""Free repairs: faults fixed by cutting text, without another model call. Pure functions."""

from __future__ import annotations

import re

from bot.judge import (
    ASSISTANT,
    META,
    RECYCLED_WORDS,
    SUMMARY_META,
    StoryView,
    longest_shared_run,
    matches,
    narration,
    story_texts,
)
from bot.split import SENTENCE_END

CLOSED = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]*_]*(?=\s|$)")
TEXT_PREFIX = re.compile(
    r"^(?:in|throughout|within) (?:this|the) (?:passage|paragraph|excerpt|text|story|summary|"
    r"section|scene)\s*,?\s*",
    re.I,
)


def paragraphs(text: str) -> list[list[str]]:
    """`text` as paragraphs (lines) of sentences."""
    return [
        [s.strip() for s in SENTENCE_END.split(line) if s.strip()]
        for line in text.strip().splitlines()
        if line.strip()
    ]


def joined(parts: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in parts if p)


def talks(sentence: str, patterns: list[str]) -> bool:
    """Whether the narration of `sentence` talks about the text or to the requester."""
    return bool(matches(narration(sentence), patterns))


def strip_preamble(parts: list[list[str]], patterns: list[str]) -> list[list[str]]:
    """Drop leading sentences that talk about the text or to the requester, or that introduce
    what follows with a colon."""
    while parts and (talks(parts[0][0], patterns) or parts[0][0].endswith(":")):
        parts[0].pop(0)
        if not parts[0]:
            parts.pop(0)
    return parts


def strip_trailing(parts: list[list[str]], patterns: list[str]) -> list[list[str]]:
    """Drop trailing sentences that talk about the text or to the requester."""
    while parts and talks(parts[-1][-1], patterns):
        parts[-1].pop()
        if not parts[-1]:
            parts.pop()
    return parts


def complete(text: str) -> str:
    """`text` cut after its last full sentence, if it has one."""
    text = text.strip()
    ends = [match.end() for match in CLOSED.finditer(text)]
    return text[: ends[-1]].rstrip() if ends else text


def drop_recycled_opening(parts: list[list[str]], story: StoryView) -> list[list[str]]:
    """Drop first sentences that copy a run of RECYCLED_WORDS words from the story so far."""
    sources = story_texts(story)
    while parts and parts[0]:
        run = longest_shared_run(parts[0][0], sources)
        if len(run.split()) < RECYCLED_WORDS or sum(map(len, parts)) == 1:
            break
        parts[0].pop(0)
        if not parts[0]:
            parts.pop(0)
    return parts


def repair_passage(text: str, story: StoryView) -> str:
    """`text` with what can be cut for free cut: an assistant preamble, trailing talk about the
    text, a last sentence cut off mid-way, and recycled opening sentences. What would leave
    nothing is not cut."""
    patterns = META + ASSISTANT
    parts = strip_trailing(strip_preamble(paragraphs(text), patterns), patterns)
    parts = drop_recycled_opening(parts, story)
    repaired = complete(joined(parts))
    return repaired or text.strip()


def repair_summary(text: str) -> str:
    """A summary that states events: an assistant preamble and sentences describing the text
    dropped, "In this passage, …" openings cut, the last sentence completed."""
    kept = []
    for part in strip_preamble(paragraphs(text), ASSISTANT):
        for sentence in part:
            sentence = TEXT_PREFIX.sub("", sentence)
            if sentence and not talks(sentence, SUMMARY_META + ASSISTANT):
                kept.append(sentence[0].upper() + sentence[1:])
    repaired = complete(" ".join(kept))
    return repaired or text.strip()
