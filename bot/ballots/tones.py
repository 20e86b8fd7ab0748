"""Tone nudges: members react to a posted passage with an emoji from the palette
(`prompts/tones.txt`), and the next passage is asked for what they want more of. Pure
functions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from bot.prompts import template
from bot.store import Reaction


@cache
def palette() -> dict[str, str]:
    """The tone palette from `prompts/tones.txt`: emoji → what it asks for."""
    lines = (line.split(" ", 1) for line in template("tones").splitlines() if line.strip())
    return {emoji: label.strip() for emoji, label in lines}


def tone_request(nudges: Sequence[Reaction]) -> str:
    """What members asked for with tone reactions, counting distinct members, e.g.
    "more tension (3), more dialogue (1)"; most asked first."""
    standing: set[tuple[int, str]] = set()
    for nudge in nudges:
        if nudge.emoji not in palette():
            continue
        if nudge.added:
            standing.add((nudge.member_id, nudge.emoji))
        else:
            standing.discard((nudge.member_id, nudge.emoji))
    order = list(palette())
    counts = {emoji: sum(1 for _, e in standing if e == emoji) for emoji in order}
    ranked = sorted((emoji for emoji in order if counts[emoji]), key=lambda e: -counts[e])
    return ", ".join(f"{palette()[emoji]} ({counts[emoji]})" for emoji in ranked)
