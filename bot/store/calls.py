"""The model-call log: every call a story's operations made, kept with what it produced."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.base import Connection, Database
from bot.store.records import ModelCall


class CallRecords:
    """Model calls, logged with the passage they produced or on their own."""

    database: Database

    async def _insert_calls(
        self,
        db: Connection,
        story_id: int | None,
        passage_id: int | None,
        calls: Sequence[ModelCall],
    ) -> None:
        await db.executemany(
            "INSERT INTO model_calls (story_id, passage_id, purpose, model, prompt, response,"
            " prompt_tokens, completion_tokens, latency_ms, error, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    story_id,
                    passage_id,
                    call.purpose,
                    call.model,
                    call.prompt,
                    call.response,
                    call.prompt_tokens,
                    call.completion_tokens,
                    call.latency_ms,
                    call.error,
                    call.created_at,
                )
                for call in calls
            ],
        )

    async def log_calls(self, story_id: int | None, calls: Sequence[ModelCall]) -> None:
        """Log calls that produced nothing stored, such as failed attempts or recaps."""
        async with self.database.transaction() as db:
            await self._insert_calls(db, story_id, None, calls)

    async def calls(self, story_id: int) -> list[ModelCall]:
        rows = await self.database.fetch(
            "SELECT purpose, model, prompt, response, prompt_tokens, completion_tokens,"
            " latency_ms, error, created_at FROM model_calls WHERE story_id = ? ORDER BY id",
            (story_id,),
        )
        return [ModelCall(*row) for row in rows]

    async def tokens_used(self, guild_id: int, since: str) -> int:
        """Prompt and completion tokens of every call for the guild's stories since `since`."""
        rows = await self.database.fetch(
            "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM model_calls"
            " JOIN stories ON stories.id = model_calls.story_id"
            " WHERE stories.guild_id = ? AND model_calls.created_at >= ?",
            (guild_id, since),
        )
        return int(rows[0][0])
