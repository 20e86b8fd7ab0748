"""/help: what AutoMuse does and every command, built from the commands themselves."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.ballots.tones import palette
from bot.client import AutoMuse, send
from cogs.voting import RULES

INTRO = (
    "**AutoMuse** writes a story together with this channel. Start one with `/story start`,"
    " then anyone can ask for the next passage with `/next`, steer it with a direction, and add"
    " lore. The story's starter and members with Manage Messages can undo, retry, end it and"
    " change its memory, note and settings."
)


class HelpCog(commands.Cog):
    """Help."""

    def __init__(self, bot: AutoMuse) -> None:
        self.bot = bot

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction) -> None:
        """How AutoMuse works, and every command."""
        lines = [
            f"`/{command.qualified_name}` — {command.description}"
            for command in sorted(
                self.bot.tree.walk_commands(), key=lambda command: command.qualified_name
            )
            if isinstance(command, app_commands.Command)
        ]
        tones = " ".join(f"{emoji} {label}" for emoji, label in palette().items())
        text = "\n\n".join([INTRO, RULES + tones + ".", "\n".join(lines)])
        await send(interaction, text, ephemeral=True)


async def setup(bot: AutoMuse) -> None:
    await bot.add_cog(HelpCog(bot))
