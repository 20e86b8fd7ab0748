"""Ballots: members choose the next passage, or the direction it takes, by voting.

A passage ballot offers k candidate passages (stored as unchosen branches) and "none of
these" (🔁). A direction ballot offers short plot directions, from the model and from
members. A ballot closes at its deadline, early at its quorum, or when closed by hand; the
deadline is read from a clock the caller supplies, so tests control time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.ballots.tally import NUMBERS, RENEW, Tally, tally
from bot.ballots.tones import palette
from bot.engine import Engine
from bot.errors import InvalidInput, NotFound
from bot.progress import Report
from bot.settings import LIMITS, StorySettings, checked
from bot.store import Ballot, Conflict, Option, Passage, Reaction, Store

BALLOT_TEXT = 1_200
"""Characters of option text a direction ballot holds, so that its message, with every option
in full, its proposer, tally bar and closing line, fits in one Discord message."""


class BallotOpen(InvalidInput):
    """The story already has an open ballot of this kind."""

    def __init__(self, message: str, ballot: Ballot) -> None:
        super().__init__(message)
        self.ballot = ballot


@dataclass(frozen=True)
class Result:
    """What a closed ballot decided."""

    ballot: Ballot
    tally: Tally
    outcome: str
    """"chosen", "reroll", "no votes", or "void" when the story ended or moved on while the
    ballot was open."""
    passage: Passage | None = None
    """The winning candidate, now the story's next passage."""
    direction: str = ""
    """The winning direction, now waiting to steer the next passage."""


def option_emojis(ballot: Ballot) -> list[str]:
    return [option.emoji for option in ballot.options]


class Ballots:
    """Opening, voting on and closing ballots, over the engine and its store."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], float] = time.time,
        serves: Callable[[int | None], bool] = lambda guild_id: True,
    ) -> None:
        """`serves(guild_id)` says whether this process watches the guild's ballots; a
        sharded process watches only the guilds on its own shards."""
        self.engine = engine
        self.store = engine.store
        self.clock = clock
        self.serves = serves
        self.closing: set[int] = set()
        """Ballots this process is closing right now."""

    async def open_passage_ballot(
        self,
        story_id: int,
        *,
        opened_by: int | None,
        direction: str = "",
        progress: Report | None = None,
    ) -> tuple[Ballot, list[Passage]]:
        """Write the story's configured number of candidates and open a ballot on them;
        `progress` is told how the writing goes."""
        await self.refuse_if_open(story_id, "passage")
        story = await self.engine.stories.story(story_id)
        settings = StorySettings.of(story)
        candidates = await self.engine.candidates(
            story_id,
            settings.candidates,
            direction=direction,
            requested_by=opened_by,
            progress=progress,
        )
        options = [(NUMBERS[i], c.id, "", None) for i, c in enumerate(candidates)]
        ballot = await self._create(
            story_id, "passage", opened_by, settings, [*options, (RENEW, None, "", None)]
        )
        return ballot, candidates

    async def open_direction_ballot(self, story_id: int, *, opened_by: int | None) -> Ballot:
        """Ask the model for plot directions and open a ballot on them."""
        await self.refuse_if_open(story_id, "direction")
        settings = StorySettings.of(await self.engine.stories.story(story_id))
        directions = await self.engine.asides.directions(story_id, settings.candidates)
        options = [(NUMBERS[i], None, text, None) for i, text in enumerate(directions)]
        return await self._create(story_id, "direction", opened_by, settings, options)

    async def steer(self, story_id: int, member_id: int, text: str) -> tuple[Ballot, Option]:
        """Add a member's own direction to the open direction ballot."""
        text = checked(text, "direction", LIMITS.direction)
        ballot = await self.store.open_ballot(story_id, "direction")
        if ballot is None:
            raise NotFound("There is no open direction ballot; open one with /directions.")
        used = set(option_emojis(ballot))
        free = [emoji for emoji in NUMBERS if emoji not in used]
        held = sum(len(option.text) for option in ballot.options)
        if not free or held + len(text) > BALLOT_TEXT:
            raise InvalidInput("This ballot is full; vote for one of its directions.")
        option = await self.store.add_option(ballot.id, free[0], text, member_id)
        refreshed = await self.store.ballot(ballot.id)
        assert refreshed is not None
        return refreshed, option

    async def refuse_if_open(self, story_id: int, kind: str) -> None:
        """Raise BallotOpen if the story already has an open ballot of this kind."""
        ballot = await self.store.open_ballot(story_id, kind)
        if ballot is not None:
            raise BallotOpen(f"A {kind} ballot is already open in this channel.", ballot)

    async def _create(
        self,
        story_id: int,
        kind: str,
        opened_by: int | None,
        settings: StorySettings,
        options: Sequence[tuple[str, int | None, str, int | None]],
    ) -> Ballot:
        story = await self.engine.stories.story(story_id)
        now = self.clock()
        try:
            return await self.store.create_ballot(
                story_id,
                kind,
                head_id=story.head_id,
                opened_by=opened_by,
                opened_at=now,
                deadline=now + settings.ballot_seconds,
                quorum=settings.quorum,
                options=options,
            )
        except Conflict:
            await self.refuse_if_open(story_id, kind)
            raise

    async def attach(self, ballot: Ballot, channel_id: int, message_id: int) -> Ballot:
        """Record the message members vote on with reactions."""
        await self.store.set_ballot_message(ballot.id, channel_id, message_id)
        attached = await self.store.ballot(ballot.id)
        assert attached is not None
        return attached

    async def ballot(self, ballot_id: int) -> Ballot | None:
        return await self.store.ballot(ballot_id)

    async def ballot_for_message(self, message_id: int) -> Ballot | None:
        return await self.store.ballot_by_message(message_id)

    async def open_ballot(self, story_id: int, kind: str) -> Ballot | None:
        return await self.store.open_ballot(story_id, kind)

    async def vote(self, ballot: Ballot, member_id: int, emoji: str, added: bool) -> bool:
        """Record a reaction on an open ballot; False if it is not a vote (ignored)."""
        if ballot.status != "open" or emoji not in option_emojis(ballot):
            return False
        await self.store.add_votes(ballot.id, [Reaction(member_id, emoji, added, self.clock())])
        return True

    async def withdraw(self, ballot: Ballot, emoji: str | None = None) -> bool:
        """Withdraw every vote on an open ballot, or every vote for `emoji`, as when a
        moderator clears the message's reactions; False if it is not open."""
        if ballot.status != "open":
            return False
        now = self.clock()
        gone = [
            Reaction(m, e, False, now)
            for m, e in sorted(await self._standing(ballot))
            if emoji in (None, e)
        ]
        if gone:
            await self.store.add_votes(ballot.id, gone)
        return True

    async def reconcile(self, ballot: Ballot, reactions: Mapping[str, set[int]]) -> None:
        """Bring the stored votes in line with the reactions on the ballot message now, as
        after a restart: reactions added or removed while the bot was away count from now."""
        logged = await self._standing(ballot)
        present = {
            (member, emoji)
            for emoji in option_emojis(ballot)
            for member in reactions.get(emoji, set())
        }
        now = self.clock()
        changes = [Reaction(m, e, False, now) for m, e in sorted(logged - present)]
        changes += [Reaction(m, e, True, now) for m, e in sorted(present - logged)]
        if changes:
            await self.store.add_votes(ballot.id, changes)

    async def _standing(self, ballot: Ballot) -> set[tuple[int, str]]:
        """The (member, emoji) reactions the stored votes say are on the ballot now."""
        standing: set[tuple[int, str]] = set()
        for vote in await self.store.votes(ballot.id):
            (standing.add if vote.added else standing.discard)((vote.member_id, vote.emoji))
        return standing

    async def tally(self, ballot: Ballot) -> Tally:
        return tally(await self.store.votes(ballot.id), option_emojis(ballot))

    async def quorum_reached(self, ballot: Ballot) -> bool:
        return bool(ballot.quorum) and len((await self.tally(ballot)).votes) >= ballot.quorum

    async def due(self) -> list[Ballot]:
        """Open ballots this process serves whose deadline has passed."""
        now = self.clock()
        return [b for b in await self.open_ballots() if b.deadline <= now]

    async def open_ballots(self) -> list[Ballot]:
        """Open ballots in the guilds this process serves."""
        return [b for b in await self.store.open_ballots() if await self._served(b)]

    async def _served(self, ballot: Ballot) -> bool:
        return self.serves((await self.engine.stories.story(ballot.story_id)).guild_id)

    async def finish(self, ballot: Ballot, announce: Callable[[Result], Awaitable[None]]) -> None:
        """Close the ballot, have `announce` show what it decided, then write the winning
        passage's rolling summary. A ballot this process is closing already is left to it."""
        if ballot.id in self.closing:
            return
        self.closing.add(ballot.id)
        try:
            result = await self.close(ballot, summarize=False)
            await announce(result)
            if result.passage is not None:
                await self.engine.summarize(ballot.story_id)
        finally:
            self.closing.discard(ballot.id)

    async def end_stories(self, guild_id: int, channel_id: int | None = None) -> list[int]:
        """End the active stories of a channel (or of a whole guild) AutoMuse can no longer
        reach, closing their open ballots with nothing decided; the ids of those ended."""
        ended = []
        for story in await self.store.active_stories(guild_id, channel_id):
            for kind in ("passage", "direction"):
                ballot = await self.store.open_ballot(story.id, kind)
                if ballot is not None:
                    await self.abandon(ballot)
            await self.store.update_story(story.id, status="ended")
            ended.append(story.id)
        return ended

    async def abandon(self, ballot: Ballot) -> bool:
        """Close a ballot that could not be posted whole, with nothing decided (void); False
        if it was closed already."""
        return await self.store.close_ballot(
            ballot.id, closed_at=self.clock(), outcome="void", winner_id=None
        )

    async def close(self, ballot: Ballot, *, summarize: bool = True) -> Result:
        """Close the ballot and carry out what it decided.

        A winning candidate becomes the story's next passage (the others stay as branches);
        a winning direction waits to steer the next passage; 🔁 and silence add nothing, and
        so does a ballot whose story ended or moved on (undo, retry) while it was open.
        With `summarize` False the winner's rolling summary is left pending, to be written
        with `Engine.summarize` once the result has been shown.
        Raises InvalidInput if the ballot is already closed.
        """
        current = await self.tally(ballot)
        winner = next((o for o in ballot.options if o.emoji == current.winner), None)
        outcome = "no votes" if winner is None else "reroll" if winner.emoji == RENEW else "chosen"
        story = await self.engine.stories.story(ballot.story_id)
        still_follows = story.head_id in (ballot.head_id, winner.passage_id if winner else None)
        if story.status != "active" or (ballot.kind == "passage" and not still_follows):
            outcome, winner = "void", None
        passage = None
        if ballot.kind == "passage" and outcome == "chosen":
            assert winner is not None and winner.passage_id is not None
            passage = await self._commit(ballot, winner.passage_id, summarize)
        direction = winner.text if ballot.kind == "direction" and winner else ""
        closed = await self.store.close_ballot(
            ballot.id,
            closed_at=self.clock(),
            outcome=outcome,
            winner_id=winner.id if winner else None,
            pending_direction=direction if direction else None,
        )
        if not closed:
            raise InvalidInput("This ballot is already closed.")
        final = await self.store.ballot(ballot.id)
        assert final is not None
        return Result(final, current, outcome, passage, direction)

    async def _commit(self, ballot: Ballot, candidate_id: int, summarize: bool) -> Passage:
        """Commit the candidate, unless it already is the head (a close that was cut short)."""
        story = await self.engine.stories.story(ballot.story_id)
        if story.head_id == candidate_id:
            passage = await self.store.passage(candidate_id)
            assert passage is not None
            return passage
        return await self.engine.commit(ballot.story_id, candidate_id, summarize=summarize)

    # Tone nudges

    async def record_posted(self, message_id: int, passage_id: int) -> None:
        """Remember which passage a message shows, so tone reactions on it count."""
        await self.store.add_passage_message(message_id, passage_id)

    async def nudge(self, message_id: int, member_id: int, emoji: str, added: bool) -> bool:
        """Record a tone reaction on the story's latest posted passage; False if ignored."""
        passage_id = await self.store.passage_for_message(message_id)
        if passage_id is None or emoji not in palette():
            return False
        passage = await self.store.passage(passage_id)
        assert passage is not None
        story = await self.engine.stories.story(passage.story_id)
        if story.head_id != passage_id:
            return False
        await self.store.add_nudge(passage_id, Reaction(member_id, emoji, added, self.clock()))
        return True


async def ballot_choices(store: Store, story_id: int) -> list[tuple[Passage, list[Passage]]]:
    """For each passage ballot members decided: the chosen candidate and the unchosen ones."""
    choices = []
    for ballot in await store.closed_passage_ballots(story_id):
        passages = {
            option.id: await store.passage(option.passage_id)
            for option in ballot.options
            if option.passage_id is not None
        }
        chosen = passages.pop(ballot.winner_id, None) if ballot.winner_id else None
        if chosen is not None:
            choices.append((chosen, [p for p in passages.values() if p is not None]))
    return choices
