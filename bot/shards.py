"""Which shard a guild belongs to, and which shards one process runs (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHARDS = 10_000


class ShardError(ValueError):
    """A shard count or a shard list cannot be used; the message says why."""


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: a guild's events go to shard `(guild_id >> 22) % shard_count`."""
    return (guild_id >> 22) % shard_count


def parse_shard_count(text: str, name: str = "The shard count") -> int | None:
    """A shard count from `text`; None when empty (automatic sharding). `name` is the
    setting or flag that errors name."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_SHARDS:
        raise ShardError(f"{name} must be a whole number from 1 to {MAX_SHARDS}.")
    return int(text)


def parse_shard_ids(
    text: str, shard_count: int | None, name: str = "Shard ids"
) -> tuple[int, ...] | None:
    """Shard ids such as `0-3`, `0,2` or `0-1,5`, sorted; None when `text` is empty."""
    text = text.strip()
    if not text:
        return None
    if shard_count is None:
        raise ShardError(f"{name} needs a shard count as well.")
    ids: set[int] = set()
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise ShardError(f"{name} must look like 0-3 or 0,2, not {text!r}.")
        first, last = int(low), int(high or low)
        if first > last or last >= shard_count:
            raise ShardError(
                f"{name} must lie between 0 and {shard_count - 1} for {shard_count} shards."
            )
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


@dataclass(frozen=True)
class ShardPlan:
    """The shards one process runs: all of them when `ids` is None (or both are None)."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    def runs(self, shard_id: int) -> bool:
        """Whether this process runs shard `shard_id`."""
        return self.ids is None or shard_id in self.ids

    def __str__(self) -> str:
        if self.count is None:
            return "all (as many as Discord recommends)"
        if self.ids is None:
            return f"all {self.count}"
        return f"{', '.join(map(str, self.ids))} of {self.count}"

    def serves(self, guild_id: int | None) -> bool:
        """Whether this process receives `guild_id`'s events; no guild means shard 0."""
        if self.count is None or self.ids is None:
            return True
        return shard_of(guild_id or 0, self.count) in self.ids
