"""Counting a ballot's reactions. Pure functions, no I/O.

Ballot rules: a member's newest reaction on a ballot is their vote, and removing it
withdraws the vote; reactions that are not options are ignored. The option with the most
votes wins; a tie goes to the option that reached the tied count first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.store import Reaction

NUMBERS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣")
RENEW = "🔁"
"""The passage-ballot option for "none of these, write new ones"."""


@dataclass(frozen=True)
class Tally:
    counts: dict[str, int]
    """Votes per option, in option order."""
    winner: str | None
    """None when nobody voted."""
    votes: dict[int, str]
    """Each member's standing vote: their newest reaction, unless they withdrew it."""


def tally(votes: Sequence[Reaction], options: Sequence[str]) -> Tally:
    """Count standing votes (given in the order they were cast); ties go to the option that
    reached the tied count first."""
    current: dict[int, str] = {}
    counts = dict.fromkeys(options, 0)
    reached: dict[str, list[int]] = {option: [] for option in options}
    for order, vote in enumerate(votes):
        if vote.emoji not in counts:
            continue
        before = current.get(vote.member_id)
        if vote.added:
            after: str | None = vote.emoji
        else:
            after = None if before == vote.emoji else before
        if before == after:
            continue
        if before is not None:
            counts[before] -= 1
            reached[before].pop()
        if after is not None:
            counts[after] += 1
            reached[after].append(order)
            current[vote.member_id] = after
        else:
            del current[vote.member_id]
    if not current:
        return Tally(counts, None, current)
    best = max(counts.values())
    winner = min(
        (option for option in options if counts[option] == best),
        key=lambda option: reached[option][-1],
    )
    return Tally(counts, winner, current)


def canonical(emoji: str, known: Sequence[str]) -> str:
    """`emoji` as spelled in `known`, ignoring variation selectors (clients differ on them)."""
    bare = emoji.replace("\ufe0f", "")
    return next((k for k in known if k.replace("\ufe0f", "") == bare), emoji)
