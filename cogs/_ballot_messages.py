"""Posting ballots: the candidates in full, then a ballot message members react on."""

from __future__ import annotations

import logging

import discord

from bot.ballots.service import BallotOpen, Result
from bot.ballots.tally import RENEW, Tally
from bot.client import AutoMuse, Refused, post, send
from bot.engine import Passage, Story
from bot.progress import Step
from bot.split import DISCORD_LIMIT
from bot.store import Ballot
from bot.wording import plural
from cogs._candidate_drafts import CandidateDrafts
from cogs._progress import LiveReply

log = logging.getLogger(__name__)
UNPOSTED = "**Closed:** this ballot could not be posted whole, so nothing was added."

LABEL_LIMITS = (DISCORD_LIMIT, 200, 120, 60, 30)
"""Longest option label in a ballot message, tried in turn until the message fits."""


def jump_url(story: Story, ballot: Ballot) -> str:
    return f"https://discord.com/channels/{story.guild_id}/{ballot.channel_id}/{ballot.message_id}"


def bar(count: int) -> str:
    return "█" * min(count, 20)


def describe(ballot: Ballot, tally: Tally, result: Result | None = None) -> str:
    """The ballot message: what is being decided, the live tally, and the time left or the
    result. It always fits in one Discord message: long options are shortened here (each is
    also posted or announced in full)."""
    for label_limit in LABEL_LIMITS:
        text = _render(ballot, tally, result, label_limit)
        if len(text) <= DISCORD_LIMIT:
            return text
    return shorten(text, DISCORD_LIMIT)


def _render(ballot: Ballot, tally: Tally, result: Result | None, label_limit: int) -> str:
    what = "the next passage" if ballot.kind == "passage" else "what happens next"
    lines = [f"🗳️ **Ballot on {what}**"]
    for option in ballot.options:
        label = option.text or (
            "new candidates" if option.emoji == RENEW else "the candidate above"
        )
        by = f" (proposed by <@{option.proposed_by}>)" if option.proposed_by else ""
        count = tally.counts.get(option.emoji, 0)
        lines.append(f"{option.emoji} {shorten(label, label_limit)}{by} — {bar(count)} {count}")
    if result is None:
        lines.append(
            f"Closes <t:{int(ballot.deadline)}:R>. React to vote; your newest reaction counts."
            " This tally is the count: the numbers under the message also show AutoMuse's own"
            " reactions and changed votes."
        )
    elif result.outcome == "no votes":
        lines.append("**Closed with no votes:** nothing was added.")
    elif result.outcome == "void":
        lines.append("**Closed:** the story changed meanwhile, so nothing was added.")
    else:
        votes = plural(tally.counts[tally.winner or ""], "vote")
        lines.append(f"**Closed:** {tally.winner} won with {votes}.")
    return "\n".join(lines)


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, marked with "…"."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


async def open_passage_ballot(
    bot: AutoMuse, interaction: discord.Interaction, story: Story, direction: str
) -> None:
    """Write candidates, showing how it goes in the deferred reply, and post them with their
    ballot."""
    channel = bot.get_partial_messageable(story.channel_id or 0)
    drafts = CandidateDrafts(channel, bot.stream_interval)

    def report(step: Step) -> None:
        live.report(step)
        drafts.report(step)

    try:
        async with LiveReply(interaction, bot.progress_interval) as live:
            ballot, candidates = await bot.ballots.open_passage_ballot(
                story.id, opened_by=interaction.user.id, direction=direction, progress=report
            )
            number = await bot.engine.stories.length(story.id) + 1
            steer = f" · *{candidates[0].direction}*" if candidates[0].direction else ""
            asker = f"<@{interaction.user.id}>"
            await live.finish(f"🗳️ **Vote for §{number}**, asked by {asker}{steer}")
    except BaseException:
        await drafts.settle([])
        raise
    await post_ballot(bot, story, ballot, candidates, interaction, drafts)


async def post_ballot(
    bot: AutoMuse,
    story: Story,
    ballot: Ballot,
    candidates: list[Passage] | None = None,
    interaction: discord.Interaction | None = None,
    drafts: CandidateDrafts | None = None,
) -> discord.Message | None:
    """Post the candidates in full (their `drafts`, if they streamed, edited into them), then
    the ballot message with a reaction per option.

    The message id is recorded before any reaction is added, and the options are read again
    until every one has its reaction, so an option added meanwhile (/steer) is never missed.
    A ballot that cannot be posted whole (a permission taken away meanwhile) is closed with
    nothing decided, and the member who asked for it (or else the log) is told why.
    """
    try:
        return await _post_ballot(bot, story, ballot, candidates, drafts)
    except discord.Forbidden:
        await bot.ballots.abandon(ballot)
        told = (
            "The ballot could not be posted whole: AutoMuse lost a permission it needs in this"
            " channel (Send Messages, Add Reactions or Read Message History), so the ballot"
            " was closed and nothing was added."
        )
        log.warning("ballot %d could not be posted: a permission is missing", ballot.id)
        if interaction is not None:
            await send(interaction, told, ephemeral=True)
        return None


async def _post_ballot(
    bot: AutoMuse,
    story: Story,
    ballot: Ballot,
    candidates: list[Passage] | None,
    drafts: CandidateDrafts | None,
) -> discord.Message:
    channel = bot.get_partial_messageable(story.channel_id or 0)
    finals = [
        f"**{option.emoji}**\n{candidate.text}"
        for option, candidate in zip(ballot.options, candidates or [], strict=False)
    ]
    if drafts is None or not await drafts.settle(finals):
        for text in finals:
            await post(channel, text)
    shown = describe(ballot, await bot.ballots.tally(ballot))
    [message] = await post(channel, shown)
    await bot.ballots.attach(ballot, message.channel.id, message.id)
    reacted: set[str] = set()
    while True:
        current = await bot.ballots.ballot(ballot.id)
        if current is None or current.status != "open":
            return message
        missing = [o.emoji for o in current.options if o.emoji not in reacted]
        if not missing:
            break
        for emoji in missing:
            try:
                await message.add_reaction(emoji)
            except discord.Forbidden:
                await message.edit(content=f"{shown}\n{UNPOSTED}")
                raise
            reacted.add(emoji)
    latest = describe(current, await bot.ballots.tally(current))
    if latest != shown:
        await message.edit(content=latest)
    return message


async def refuse_if_open(bot: AutoMuse, story: Story, kind: str) -> None:
    """Refuse, pointing to it, if the story already has an open ballot of this kind."""
    try:
        await bot.ballots.refuse_if_open(story.id, kind)
    except BallotOpen as error:
        ballot = error.ballot
        where = f": {jump_url(story, ballot)}" if ballot.message_id else ""
        raise Refused(f"A {kind} ballot is already open here; vote on it{where}") from None
