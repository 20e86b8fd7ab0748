"""What becomes of a story whose channel, thread or server AutoMuse can no longer reach: the
story ends and its open ballots close with nothing decided, quietly, with one log line."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.client import AutoMuse

log = logging.getLogger(__name__)


class ChannelsCog(commands.Cog):
    """Ends the stories of deleted channels and threads, archived threads and servers that
    removed AutoMuse."""

    def __init__(self, bot: AutoMuse) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.gone(channel.guild.id, channel.id, "its channel was deleted")

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.gone(payload.guild_id, payload.thread_id, "its thread was deleted")

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        if payload.data.get("thread_metadata", {}).get("archived"):
            await self.gone(payload.guild_id, payload.thread_id, "its thread was archived")

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.gone(guild.id, None, "the server removed AutoMuse")

    async def gone(self, guild_id: int, channel_id: int | None, why: str) -> None:
        ended = await self.bot.ballots.end_stories(guild_id, channel_id)
        if ended:
            log.info("ended story %s: %s", ", ".join(map(str, ended)), why)


async def setup(bot: AutoMuse) -> None:
    await bot.add_cog(ChannelsCog(bot))
