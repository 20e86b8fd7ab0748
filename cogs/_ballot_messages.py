"""Posting ballots: the candidates in full, then a ballot message members react on."""

from __future__ import annotations

import discord

from bot.ballots import Result
from bot.client import AutoMuse, Refused, post, send
from bot.engine import Passage, Story
from bot.store import Ballot
from bot.votes import RENEW, Tally


def jump_url(story: Story, ballot: Ballot) -> str:
    return f"https://discord.com/channels/{story.guild_id}/{ballot.channel_id}/{ballot.message_id}"


def bar(count: int) -> str:
    return "█" * min(count, 20)


def describe(ballot: Ballot, tally: Tally, result: Result | None = None) -> str:
    """The ballot message: what is being decided, the live tally, and the time left."""
    what = "the next passage" if ballot.kind == "passage" else "what happens next"
    lines = [f"🗳️ **Ballot on {what}**"]
    for option in ballot.options:
        label = option.text or (
            "new candidates" if option.emoji == RENEW else "the candidate above"
        )
        by = f" (proposed by <@{option.proposed_by}>)" if option.proposed_by else ""
        count = tally.counts.get(option.emoji, 0)
        lines.append(f"{option.emoji} {label}{by} — {bar(count)} {count}")
    if result is None:
        lines.append(
            f"Closes <t:{int(ballot.deadline)}:R>. React to vote; your newest reaction counts."
        )
    elif result.outcome == "no votes":
        lines.append("**Closed with no votes:** nothing was added.")
    elif result.outcome == "void":
        lines.append("**Closed:** the story changed meanwhile, so nothing was added.")
    else:
        lines.append(f"**Closed:** {tally.winner} won with {tally.counts[tally.winner]} votes.")
    return "\n".join(lines)


async def open_passage_ballot(
    bot: AutoMuse, interaction: discord.Interaction, story: Story, direction: str
) -> None:
    """Write candidates and post them with their ballot (the interaction is deferred)."""
    ballot, candidates = await bot.ballots.open_passage_ballot(
        story.id, opened_by=interaction.user.id, direction=direction
    )
    number = await bot.engine.length(story.id) + 1
    steer = f" · *{candidates[0].direction}*" if candidates[0].direction else ""
    asker = f"<@{interaction.user.id}>"
    await send(interaction, f"🗳️ **Vote for §{number}**, asked by {asker}{steer}")
    await post_ballot(bot, story, ballot, candidates)


async def post_ballot(
    bot: AutoMuse, story: Story, ballot: Ballot, candidates: list[Passage] | None = None
) -> None:
    """Post the candidates in full, then the ballot message with a reaction per option."""
    channel = bot.get_partial_messageable(story.channel_id or 0)
    for option, candidate in zip(ballot.options, candidates or [], strict=False):
        await post(channel, f"**{option.emoji}**\n{candidate.text}")
    [message] = await post(channel, describe(ballot, await bot.ballots.tally(ballot)))
    await bot.ballots.attach(ballot, message.channel.id, message.id)
    for option in ballot.options:
        await message.add_reaction(option.emoji)


async def refuse_if_open(bot: AutoMuse, story: Story, kind: str) -> None:
    ballot = await bot.ballots.open_ballot(story.id, kind)
    if ballot is not None:
        where = f": {jump_url(story, ballot)}" if ballot.message_id else ""
        raise Refused(f"A {kind} ballot is already open here; vote on it{where}")
