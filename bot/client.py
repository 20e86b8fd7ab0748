"""The discord.py bot: opens the store, loads every cog in `cogs/`, syncs slash commands."""

from __future__ import annotations

import logging
import pkgutil
import time
from collections.abc import Callable, Sequence

import discord
from discord import app_commands
from discord.ext import commands

import cogs
from bot.ballots.service import Ballots
from bot.config import Settings
from bot.engine import Engine, EngineConfig, Story
from bot.errors import StoryError
from bot.llm import ModelError, Models, open_models
from bot.split import split_text
from bot.store import Store, StoreError

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


class Refused(StoryError):
    """The member may not do this, or not now."""


async def tell(interaction: discord.Interaction, message: str) -> None:
    """Tell only the member who acted, in one sentence, removing any "thinking…" message."""
    if interaction.response.is_done():
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("no original response to delete")
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_PINGS)


async def send(
    interaction: discord.Interaction, text: str, *, ephemeral: bool = False
) -> list[discord.Message]:
    """Send `text` as the reply (or its follow-ups), split under Discord's message limit."""
    return await send_pieces(interaction, split_text(text), ephemeral=ephemeral)


async def send_pieces(
    interaction: discord.Interaction, pieces: Sequence[str], *, ephemeral: bool = False
) -> list[discord.Message]:
    """Send each of `pieces` (each within Discord's message limit) as the reply or its
    follow-ups."""
    sent: list[discord.Message] = []
    for piece in pieces:
        if interaction.response.is_done():
            sent.append(
                await interaction.followup.send(
                    piece, ephemeral=ephemeral, allowed_mentions=NO_PINGS, wait=True
                )
            )
        else:
            await interaction.response.send_message(
                piece, ephemeral=ephemeral, allowed_mentions=NO_PINGS
            )
            sent.append(await interaction.original_response())
    return sent


async def post(channel: discord.abc.Messageable, text: str) -> list[discord.Message]:
    """Post `text` in a channel, split under Discord's message limit."""
    return [await channel.send(piece, allowed_mentions=NO_PINGS) for piece in split_text(text)]


def may_manage(interaction: discord.Interaction, story: Story) -> bool:
    """The story's starter and members with Manage Messages may change how it goes."""
    return interaction.user.id == story.started_by or interaction.permissions.manage_messages


BALLOT_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "add_reactions": "Add Reactions",
    "read_message_history": "Read Message History",
}
"""What AutoMuse needs in a channel to post a ballot and its reactions, with Discord's names."""


def require_ballot_permissions(interaction: discord.Interaction) -> None:
    """Refuse, before any model call, a ballot in a channel where AutoMuse could not post it
    whole, naming the permissions it lacks there."""
    granted = interaction.app_permissions
    needed = dict(BALLOT_PERMISSIONS)
    if isinstance(interaction.channel, discord.Thread):
        needed["send_messages_in_threads"] = "Send Messages in Threads"
    missing = [name for flag, name in needed.items() if not getattr(granted, flag)]
    if missing:
        what = " and ".join(filter(None, [", ".join(missing[:-1]), missing[-1]]))
        raise Refused(
            f"AutoMuse needs the {what} permission{'s' if len(missing) > 1 else ''} in this"
            " channel to post a ballot; ask a moderator to grant it, or use solo mode."
        )


def require_manager(interaction: discord.Interaction, story: Story, action: str) -> None:
    if not may_manage(interaction, story):
        raise Refused(
            f"Only the member who started this story or members with Manage Messages can {action}."
        )


UNKNOWN_INTERACTION = 10062
"""Discord's error code for an interaction that was not answered within 3 seconds."""


class Tree(app_commands.CommandTree):
    """Turns a StoryError or a model failure into a plain ephemeral sentence; logs the rest.
    An interaction Discord has already given up on cannot be answered, so it is only logged."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        name = interaction.command and interaction.command.name
        if isinstance(cause, discord.NotFound) and cause.code == UNKNOWN_INTERACTION:
            log.warning("/%s was not acknowledged in time; Discord dropped it", name)
            return
        try:
            await tell(interaction, self._sentence_for(cause, name))
        except discord.HTTPException as failure:
            log.warning("could not tell the member why /%s failed: %s", name, failure)

    @staticmethod
    def _sentence_for(cause: BaseException, name: str | None) -> str:
        """The one sentence a member is told when their command fails with `cause`."""
        if isinstance(cause, StoryError | ModelError | StoreError):
            return str(cause)
        if isinstance(cause, app_commands.NoPrivateMessage):
            return "AutoMuse works in server channels, not in direct messages."
        log.error("command %s failed", name, exc_info=cause)
        return "Something went wrong on our side; the story is unchanged."


class AutoMuse(commands.AutoShardedBot):
    """The bot. `models` and `clock` (wall-clock seconds) can be given, for tests and
    benchmarks; `ballot_tick` is how often ballot deadlines are checked, `ballot_refresh`
    the least time between two edits of a ballot's live tally, `progress_interval` between
    two progress edits of a reply, and `stream_interval` between two edits of a passage
    streaming into its message.

    It runs the shards `settings` names (`shard_count`, `shard_ids`), or with neither set as
    many as Discord recommends, all in this process."""

    def __init__(
        self,
        settings: Settings,
        *,
        models: Models | None = None,
        clock: Callable[[], float] = time.time,
        ballot_tick: float = 1.0,
        ballot_refresh: float = 3.0,
        progress_interval: float = 2.0,
        stream_interval: float = 1.0,
        **options: object,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=NO_PINGS,
            tree_cls=Tree,
            help_command=None,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,
            **options,
        )
        self.settings = settings
        self.clock = clock
        self.ballot_tick = ballot_tick
        self.ballot_refresh = ballot_refresh
        self.progress_interval = progress_interval
        self.stream_interval = stream_interval
        self._models = models
        self.engine: Engine
        self.ballots: Ballots

    async def setup_hook(self) -> None:
        store = await Store.open(self.settings.database)
        self._models = self._models or open_models(self.settings)
        config = EngineConfig.from_settings(self.settings, models=self._models)
        self.engine = Engine(store, self._models, config)
        self.ballots = Ballots(self.engine, self.clock, self.settings.shards.serves)
        for module in pkgutil.iter_modules(cogs.__path__):
            if not module.name.startswith("_"):
                await self.load_extension(f"cogs.{module.name}")
        if self.settings.shards.runs(0):
            await self.sync_commands()
        else:
            log.info("the process running shard 0 syncs the commands")
        log.info("running shards %s", self.settings.shards)

    async def sync_commands(self) -> None:
        """Register the slash commands: globally, or at once in the dev guild if one is set."""
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands", len(synced))

    async def channel_story(self, interaction: discord.Interaction) -> Story:
        """The active story of the channel the interaction came from."""
        assert interaction.guild_id is not None and interaction.channel_id is not None
        return await self.engine.stories.active_story(interaction.guild_id, interaction.channel_id)

    async def check_budget(self, interaction: discord.Interaction) -> None:
        """Refuse model work once the guild has spent its daily token budget."""
        budget = self.settings.daily_tokens
        assert interaction.guild_id is not None
        if budget and await self.engine.stories.tokens_used_today(interaction.guild_id) >= budget:
            raise Refused(
                "This server has used its model budget for today; it renews at midnight UTC."
            )

    async def close(self) -> None:
        await super().close()
        if hasattr(self, "engine"):
            await self.engine.store.close()
        if self._models is not None:
            await self._models.close()


async def run_bot(settings: Settings) -> None:
    """Run the bot until it is stopped."""
    async with AutoMuse(settings) as bot:
        await bot.start(settings.discord_token.reveal())
