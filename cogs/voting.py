"""Voting with reactions: passage ballots, direction ballots, /steer, /vote close, tone nudges.

Ballot rules (also in the README and /help): a ballot closes at its deadline, early at its
quorum, or when the story's starter or a Manage Messages member runs /vote close. A member's
newest reaction counts and removing it withdraws the vote; bots' reactions and reactions that
are not options are ignored. A tie goes to the option that reached the tied count first; with
no votes nothing is added. A channel has at most one open ballot of each kind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.ballots.service import Result
from bot.ballots.tally import canonical
from bot.ballots.tones import palette
from bot.client import AutoMuse, Refused, may_manage, post, require_ballot_permissions, send
from bot.engine import Story
from bot.errors import StoryError
from bot.store import Ballot
from bot.wording import plural
from cogs._ballot_messages import describe, post_ballot, refuse_if_open

log = logging.getLogger(__name__)

RULES = (
    "**Voting.** With `/next` in vote mode AutoMuse writes a few candidates and opens a ballot:"
    " react with a number to vote, or 🔁 for new candidates. Your newest reaction is your vote;"
    " removing it withdraws it. A ballot closes at its deadline, early when its quorum is"
    " reached, or with `/vote close` (starter or Manage Messages). A tie goes to the option"
    " that reached the tied count first; with no votes nothing is added. The tally in the ballot"
    " message is the count (the numbers under it include AutoMuse's own reactions and changed"
    " votes). `/directions` opens a"
    " ballot on what happens next, and `/steer` adds your own option to it. React on the latest"
    " passage to steer the tone of the next: "
)


class VotingCog(commands.Cog):
    """Ballots and tone nudges."""

    vote = app_commands.Group(
        name="vote", description="Manage this channel's ballots.", guild_only=True
    )

    def __init__(self, bot: AutoMuse) -> None:
        self.bot = bot
        self.ballots = bot.ballots
        self.refreshes: dict[int, asyncio.Task[None]] = {}
        self.last_refresh: dict[int, float] = {}
        self.ticker: asyncio.Task[None] | None = None
        self.rerolls: set[asyncio.Task[None]] = set()

    async def cog_load(self) -> None:
        await self.resume()
        self.ticker = asyncio.create_task(self.watch_deadlines())

    async def cog_unload(self) -> None:
        for task in [self.ticker, *self.refreshes.values(), *self.rerolls]:
            if task is not None:
                task.cancel()

    # Opening ballots

    @app_commands.command(name="directions")
    @app_commands.guild_only()
    async def directions(self, interaction: discord.Interaction) -> None:
        """Open a ballot on what happens next: AutoMuse proposes, /steer adds your own."""
        story = await self.bot.channel_story(interaction)
        require_ballot_permissions(interaction)
        await refuse_if_open(self.bot, story, "direction")
        await self.bot.check_budget(interaction)
        await interaction.response.defer(thinking=True)
        ballot = await self.ballots.open_direction_ballot(story.id, opened_by=interaction.user.id)
        await send(interaction, f"🧭 What happens next? Asked by <@{interaction.user.id}>.")
        await post_ballot(self.bot, story, ballot, interaction=interaction)

    @app_commands.command(name="steer")
    @app_commands.describe(text="What you would like to happen next, in a sentence or two.")
    @app_commands.guild_only()
    async def steer(self, interaction: discord.Interaction, text: str) -> None:
        """Add your own option to the open direction ballot."""
        story = await self.bot.channel_story(interaction)
        ballot, option = await self.ballots.steer(story.id, interaction.user.id, text)
        await send(interaction, f"🧭 Added as {option.emoji}: *{option.text}*")
        if ballot.message_id is not None:
            await self.message(ballot).add_reaction(option.emoji)
            self.schedule_refresh(ballot)

    # Closing ballots

    @vote.command(name="close")
    @app_commands.describe(kind="Which ballot to close (default: the passage ballot if open).")
    async def close(
        self,
        interaction: discord.Interaction,
        kind: Literal["passage", "direction"] | None = None,
    ) -> None:
        """Close the open ballot now and carry out its result."""
        story = await self.bot.channel_story(interaction)
        kinds = [kind] if kind else ["passage", "direction"]
        ballot = None
        for candidate_kind in kinds:
            ballot = ballot or await self.ballots.open_ballot(story.id, candidate_kind)
        if ballot is None:
            raise Refused("There is no open ballot here.")
        if not may_manage(interaction, story):
            raise Refused(
                "Only the member who started this story or members with Manage Messages"
                " can close a ballot."
            )
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.finish(ballot)
        await send(interaction, "🗳️ Ballot closed.", ephemeral=True)

    async def watch_deadlines(self) -> None:
        """Close every ballot whose deadline has passed, checking every `ballot_tick` seconds."""
        while True:
            try:
                for ballot in await self.ballots.due():
                    await self.finish(ballot)
            except Exception:
                log.exception("checking ballot deadlines failed")
            await asyncio.sleep(self.bot.ballot_tick)

    async def finish(self, ballot: Ballot) -> None:
        """Close a ballot once, announce the result and carry it out."""
        try:
            await self.ballots.finish(ballot, self.announce)
        except StoryError as error:
            log.warning("ballot %d could not close yet: %s", ballot.id, error)
        except discord.HTTPException as error:
            log.warning(
                "ballot %d closed, but its result could not be posted (%s)", ballot.id, error
            )
        finally:
            refresh = self.refreshes.pop(ballot.id, None)
            if refresh is not None:
                refresh.cancel()

    async def announce(self, result: Result) -> None:
        """Show the result on the ballot message, or in a new message if that one is gone or
        cannot be edited; then post what it decided. The result is always visible."""
        ballot = result.ballot
        story = await self.bot.engine.stories.story(ballot.story_id)
        channel = self.bot.get_partial_messageable(ballot.channel_id or story.channel_id or 0)
        closed = describe(ballot, result.tally, result)
        try:
            if ballot.message_id is None:
                raise LookupError("the ballot was never posted")
            await self.message(ballot).edit(content=closed)
        except (discord.HTTPException, LookupError) as error:
            log.warning("ballot %d: posting its result anew (%s)", ballot.id, error)
            await post(channel, closed)
        if result.outcome == "no votes":
            await post(channel, "🗳️ The ballot closed with no votes, so nothing was added.")
        elif result.outcome == "void":
            await post(channel, "🗳️ The story changed while the ballot was open; nothing was added.")
        elif result.passage is not None:
            number = result.passage.depth + 1
            votes = plural(result.tally.counts[result.tally.winner or ""], "vote")
            messages = await post(
                channel, f"**§{number}** · chosen by vote ({votes})\n{result.passage.text}"
            )
            for message in messages:
                await self.ballots.record_posted(message.id, result.passage.id)
        elif result.direction:
            await post(channel, f"🧭 The next passage will follow: *{result.direction}*")
        elif result.outcome == "reroll":
            await post(channel, "🔁 None of these: writing new candidates…")
            task = asyncio.create_task(self.reroll(story))
            self.rerolls.add(task)
            task.add_done_callback(self.rerolls.discard)
        await self.remove_own_reactions(ballot)

    async def remove_own_reactions(self, ballot: Ballot) -> None:
        """Take AutoMuse's own reactions off a closed ballot, so the counts under it are
        members' alone. (Members' reactions stay: removing them needs Manage Messages.)"""
        if ballot.message_id is None or self.bot.user is None:
            return
        message = self.message(ballot)
        for option in ballot.options:
            try:
                await message.remove_reaction(option.emoji, self.bot.user)
            except discord.HTTPException:
                return

    async def reroll(self, story: Story) -> None:
        try:
            ballot, candidates = await self.ballots.open_passage_ballot(story.id, opened_by=None)
            await post_ballot(self.bot, story, ballot, candidates)
        except StoryError as error:
            channel = self.bot.get_partial_messageable(story.channel_id or 0)
            await post(channel, f"🔁 New candidates could not be written: {error}")

    # Reactions

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.react(payload, added=True)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.react(payload, added=False)

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        await self.cleared(payload.message_id, None)

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        await self.cleared(payload.message_id, str(payload.emoji))

    async def cleared(self, message_id: int, emoji: str | None) -> None:
        """A moderator cleared a ballot's reactions (all, or one emoji's): those votes are
        withdrawn, AutoMuse's option reactions go back on, and the tally shows it."""
        ballot = await self.ballots.ballot_for_message(message_id)
        if ballot is None:
            return
        emojis = [option.emoji for option in ballot.options]
        emoji = None if emoji is None else canonical(emoji, emojis)
        if not await self.ballots.withdraw(ballot, emoji):
            return
        message = self.message(ballot)
        try:
            for option in emojis:
                if emoji in (None, option):
                    await message.add_reaction(option)
        except discord.HTTPException as error:
            log.warning("ballot %d: its options could not be put back (%s)", ballot.id, error)
        self.schedule_refresh(ballot)

    async def react(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        """Count a member's reaction as a vote or a tone nudge; bots never count."""
        if self.bot.user and payload.user_id == self.bot.user.id:
            return
        if payload.member is not None and payload.member.bot:
            return
        ballot = await self.ballots.ballot_for_message(payload.message_id)
        if ballot is not None:
            emoji = canonical(str(payload.emoji), [option.emoji for option in ballot.options])
            if await self.ballots.vote(ballot, payload.user_id, emoji, added):
                if await self.ballots.quorum_reached(ballot):
                    await self.finish(ballot)
                else:
                    self.schedule_refresh(ballot)
            return
        emoji = canonical(str(payload.emoji), list(palette()))
        await self.ballots.nudge(payload.message_id, payload.user_id, emoji, added)

    def message(self, ballot: Ballot) -> discord.PartialMessage:
        channel = self.bot.get_partial_messageable(ballot.channel_id or 0)
        return channel.get_partial_message(ballot.message_id or 0)

    def schedule_refresh(self, ballot: Ballot) -> None:
        """Edit the live tally soon, at most once every `ballot_refresh` seconds."""
        if ballot.id not in self.refreshes:
            self.refreshes[ballot.id] = asyncio.create_task(self.refresh(ballot.id))

    async def refresh(self, ballot_id: int) -> None:
        """Wait out the interval since the last edit, then edit in the tally as it is now.
        The edit's time is taken before anything is awaited, and a vote arriving meanwhile
        schedules the next edit one interval later, so edits never come closer together."""
        loop = asyncio.get_running_loop()
        wait = self.last_refresh.get(ballot_id, -1e9) + self.bot.ballot_refresh - loop.time()
        await asyncio.sleep(max(0.0, wait))
        self.last_refresh[ballot_id] = loop.time()
        self.refreshes.pop(ballot_id, None)
        ballot = await self.ballots.ballot(ballot_id)
        if ballot is None or ballot.status != "open" or ballot_id in self.ballots.closing:
            return
        try:
            await self.message(ballot).edit(
                content=describe(ballot, await self.ballots.tally(ballot))
            )
        except discord.HTTPException as error:
            log.warning("ballot %d: its tally could not be shown (%s)", ballot.id, error)

    # Restarts

    async def resume(self) -> None:
        """Re-read the reactions of every open ballot, counting those made while we were away,
        and show the re-read tally at once. Ballots past their deadline are then closed by the
        first deadline check."""
        for ballot in await self.ballots.open_ballots():
            if ballot.message_id is None:
                continue
            try:
                message = await self.message(ballot).fetch()
            except discord.HTTPException as error:
                log.warning("ballot %d: its message cannot be read (%s)", ballot.id, error)
                continue
            emojis = [option.emoji for option in ballot.options]
            reactions: dict[str, set[int]] = {}
            for reaction in message.reactions:
                emoji = canonical(str(reaction.emoji), emojis)
                members = {user.id async for user in reaction.users() if not user.bot}
                reactions[emoji] = members
            await self.ballots.reconcile(ballot, reactions)
            self.last_refresh[ballot.id] = asyncio.get_running_loop().time()
            try:
                await message.edit(content=describe(ballot, await self.ballots.tally(ballot)))
            except discord.HTTPException as error:
                log.warning("ballot %d: its tally could not be shown (%s)", ballot.id, error)


async def setup(bot: AutoMuse) -> None:
    await bot.add_cog(VotingCog(bot))
