"""Ballots, their options and votes; posted passages and their tone nudges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.store.base import Database
from bot.store.records import Ballot, Option, Reaction


class BallotRecords:
    """Ballots from opening to closing (exactly once), and reactions on posted passages."""

    database: Database

    # Ballots

    async def create_ballot(
        self,
        story_id: int,
        kind: str,
        *,
        head_id: int | None,
        opened_by: int | None,
        opened_at: float,
        deadline: float,
        quorum: int,
        options: Sequence[tuple[str, int | None, str, int | None]],
    ) -> Ballot:
        """Open a ballot with its options (emoji, passage id, text, proposed by).

        Raises Conflict if the story already has an open ballot of this kind.
        """
        async with self.database.transaction() as db:
            ballot_id = await db.insert(
                "INSERT INTO ballots (story_id, kind, head_id, opened_by, opened_at, deadline,"
                " quorum) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (story_id, kind, head_id, opened_by, opened_at, deadline, quorum),
            )
            await db.executemany(
                "INSERT INTO ballot_options (ballot_id, emoji, passage_id, text, proposed_by)"
                " VALUES (?, ?, ?, ?, ?)",
                [(ballot_id, *option) for option in options],
            )
        ballot = await self.ballot(ballot_id)
        assert ballot is not None
        return ballot

    async def ballot(self, ballot_id: int) -> Ballot | None:
        return await self._ballot_where("id = ?", ballot_id)

    async def open_ballot(self, story_id: int, kind: str) -> Ballot | None:
        return await self._ballot_where(
            "story_id = ? AND kind = ? AND status = 'open'", story_id, kind
        )

    async def ballot_by_message(self, message_id: int) -> Ballot | None:
        return await self._ballot_where("message_id = ?", message_id)

    async def open_ballots(self) -> list[Ballot]:
        rows = await self.database.fetch(
            "SELECT id FROM ballots WHERE status = 'open' ORDER BY deadline"
        )
        return [b for b in [await self.ballot(row[0]) for row in rows] if b is not None]

    async def closed_passage_ballots(self, story_id: int) -> list[Ballot]:
        rows = await self.database.fetch(
            "SELECT id FROM ballots WHERE story_id = ? AND kind = 'passage'"
            " AND status = 'closed' AND outcome = 'chosen' ORDER BY id",
            (story_id,),
        )
        return [b for b in [await self.ballot(row[0]) for row in rows] if b is not None]

    async def _ballot_where(self, condition: str, *params: Any) -> Ballot | None:
        rows = await self.database.fetch(
            "SELECT id, story_id, kind, head_id, opened_by, opened_at, deadline, quorum,"
            f" channel_id, message_id, status, closed_at, outcome, winner_id FROM ballots"
            f" WHERE {condition} ORDER BY id DESC LIMIT 1",
            params,
        )
        if not rows:
            return None
        row = rows[0]
        options = await self.database.fetch(
            "SELECT id, ballot_id, emoji, passage_id, text, proposed_by FROM ballot_options"
            " WHERE ballot_id = ? ORDER BY id",
            (row[0],),
        )
        return Ballot(*row, options=tuple(Option(*option) for option in options))

    async def add_option(
        self, ballot_id: int, emoji: str, text: str, proposed_by: int | None
    ) -> Option:
        async with self.database.transaction() as db:
            option_id = await db.insert(
                "INSERT INTO ballot_options (ballot_id, emoji, text, proposed_by)"
                " VALUES (?, ?, ?, ?)",
                (ballot_id, emoji, text, proposed_by),
            )
        return Option(option_id, ballot_id, emoji, None, text, proposed_by)

    async def set_ballot_message(self, ballot_id: int, channel_id: int, message_id: int) -> None:
        await self.database.execute(
            "UPDATE ballots SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, ballot_id),
        )

    async def add_votes(self, ballot_id: int, votes: Sequence[Reaction]) -> None:
        async with self.database.transaction() as db:
            await db.executemany(
                "INSERT INTO votes (ballot_id, member_id, emoji, added, at) VALUES (?, ?, ?, ?, ?)",
                [(ballot_id, v.member_id, v.emoji, int(v.added), v.at) for v in votes],
            )

    async def votes(self, ballot_id: int) -> list[Reaction]:
        rows = await self.database.fetch(
            "SELECT member_id, emoji, added, at FROM votes WHERE ballot_id = ? ORDER BY id",
            (ballot_id,),
        )
        return [Reaction(member, emoji, bool(added), at) for member, emoji, added, at in rows]

    async def close_ballot(
        self,
        ballot_id: int,
        *,
        closed_at: float,
        outcome: str,
        winner_id: int | None,
        pending_direction: str | None = None,
    ) -> bool:
        """Close an open ballot, and set the story's pending direction if one is given.

        Returns False, changing nothing, if the ballot was not open.
        """
        async with self.database.transaction() as db:
            closed = await db.execute(
                "UPDATE ballots SET status = 'closed', closed_at = ?, outcome = ?, winner_id = ?"
                " WHERE id = ? AND status = 'open'",
                (closed_at, outcome, winner_id, ballot_id),
            )
            if closed and pending_direction is not None:
                await db.execute(
                    "UPDATE stories SET pending_direction = ?"
                    " WHERE id = (SELECT story_id FROM ballots WHERE id = ?)",
                    (pending_direction, ballot_id),
                )
            return closed > 0

    # Posted passages and tone nudges

    async def add_passage_message(self, message_id: int, passage_id: int) -> None:
        await self.database.execute(
            "INSERT INTO passage_messages (message_id, passage_id) VALUES (?, ?)"
            " ON CONFLICT (message_id) DO UPDATE SET passage_id = excluded.passage_id",
            (message_id, passage_id),
        )

    async def passage_for_message(self, message_id: int) -> int | None:
        rows = await self.database.fetch(
            "SELECT passage_id FROM passage_messages WHERE message_id = ?", (message_id,)
        )
        return rows[0][0] if rows else None

    async def add_nudge(self, passage_id: int, nudge: Reaction) -> None:
        await self.database.execute(
            "INSERT INTO nudges (passage_id, member_id, emoji, added, at) VALUES (?, ?, ?, ?, ?)",
            (passage_id, nudge.member_id, nudge.emoji, int(nudge.added), nudge.at),
        )

    async def nudges(self, passage_id: int) -> list[Reaction]:
        rows = await self.database.fetch(
            "SELECT member_id, emoji, added, at FROM nudges WHERE passage_id = ? ORDER BY id",
            (passage_id,),
        )
        return [Reaction(member, emoji, bool(added), at) for member, emoji, added, at in rows]
