"""/lore: characters, places, things and events that enter the prompt when they come up."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import AutoMuse, require_manager, send
from bot.store import LedgerEntry


class LoreCog(commands.Cog):
    """The story's lore book."""

    lore = app_commands.Group(
        name="lore",
        description="Characters, places, things and events the story should know about.",
        guild_only=True,
    )

    def __init__(self, bot: AutoMuse) -> None:
        self.bot = bot

    @lore.command(name="add")
    @app_commands.describe(
        kind="What it is.",
        name="Its name, unique in this story.",
        keywords="Comma-separated words that bring it into the prompt when they come up.",
        text="What the story should know about it.",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        kind: Literal["character", "place", "thing", "event"],
        name: str,
        keywords: str,
        text: str,
    ) -> None:
        """Add a lore entry; anyone may."""
        story = await self.bot.channel_story(interaction)
        entry = await self.bot.engine.edits.add_lore(story.id, kind, name, keywords, text)
        await send(
            interaction,
            f"📚 Added the {entry.kind} **{entry.name}** (keywords: {', '.join(entry.keywords)}).",
        )

    @lore.command(name="remove")
    @app_commands.describe(name="The name of a lore entry, or of a wrong automatic entry.")
    async def remove(self, interaction: discord.Interaction, name: str) -> None:
        """Remove a lore entry, or the automatic entries about a name."""
        story = await self.bot.channel_story(interaction)
        require_manager(interaction, story, "remove lore")
        removed = await self.bot.engine.edits.remove_lore(story.id, name)
        what = "" if removed == "lore" else " from the automatic entries"
        await send(interaction, f"📚 Removed **{name.strip()}**{what}.")

    @lore.command(name="list")
    async def list_entries(self, interaction: discord.Interaction) -> None:
        """List this story's lore entries, and apart from them what AutoMuse noted by itself,
        only to you."""
        story = await self.bot.channel_story(interaction)
        entries = await self.bot.engine.edits.lore(story.id)
        noted = await self.bot.engine.edits.ledger(story.id)
        if not entries and not noted:
            await send(interaction, "📚 No lore yet. Add some with `/lore add`.", ephemeral=True)
            return
        lines = [f"**{e.name}** ({e.kind}; {', '.join(e.keywords)}): {e.text}" for e in entries]
        if not entries:
            lines.append("No lore from members yet. Add some with `/lore add`.")
        if noted:
            lines.append("")
            lines.append("**Noted by AutoMuse** (remove a wrong one with `/lore remove`):")
            lines += [noted_line(e) for e in noted]
        await send(interaction, "📚 " + "\n".join(lines), ephemeral=True)


def noted_line(entry: LedgerEntry) -> str:
    """One automatic entry: its name and kind, and the fact it holds when it holds one."""
    said = f": {entry.text}" if entry.text and entry.text != entry.name else ""
    return f"{entry.name} ({entry.kind}){said}"


async def setup(bot: AutoMuse) -> None:
    await bot.add_cog(LoreCog(bot))
