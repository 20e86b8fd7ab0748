"""/story and /next: start, write, read, undo and steer a channel's story."""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import (
    NO_PINGS,
    AutoMuse,
    Refused,
    require_ballot_permissions,
    require_manager,
    send,
)
from bot.engine import Engine, Passage, Story
from bot.errors import NotFound
from bot.export import markdown
from bot.settings import LIMITS, StorySettings, checked, direction_for
from bot.store import Thread
from bot.wording import plural
from cogs._ballot_messages import open_passage_ballot, refuse_if_open
from cogs._progress import LiveReply

SHOW_MAX = 10


def header(passage: Passage) -> str:
    """The line above a posted passage: its number, who asked, and any direction."""
    return header_for(passage.depth + 1, passage.requested_by, passage.direction)


def header_for(number: int, requested_by: int | None, direction: str) -> str:
    parts = [f"**§{number}**"]
    if requested_by:
        parts.append(f"asked by <@{requested_by}>")
    if direction:
        parts.append(f"*{direction}*")
    return " · ".join(parts)


STANDING = {"memory": ("🧠", "Memory"), "note": ("📝", "Author's note")}
"""The icon and label of a story's standing texts, which members view or set alike."""


def beat_line(passage: Passage) -> str:
    """The passage's beat as a line above its text, when the planner wrote it (a member's
    direction is in the header already)."""
    if not passage.beat or passage.beat == passage.direction:
        return ""
    return f"> 🎯 *{passage.beat}*\n"


def threads_text(threads: list[Thread]) -> str:
    """A story's threads as members see them: the open ones, then those closed."""
    if not threads:
        return "🧵 No threads yet. Add a question the story should answer with `/story threads`."
    lines = ["🧵 **Open threads** (the story comes back to one every few passages):"]
    lines += [
        f"#{t.id} {t.text} · moved on {plural(t.advanced, 'time')}"
        for t in threads
        if t.status == "open"
    ] or ["(none)"]
    closed = [f"#{t.id} ~~{t.text}~~" for t in threads if t.status == "closed"]
    if closed:
        lines += ["**Closed:**", *closed]
    return "\n".join(lines)


async def write_and_post(
    bot: AutoMuse,
    interaction: discord.Interaction,
    story: Story,
    direction: str,
    *,
    retry: bool = False,
) -> None:
    """Write a passage into the deferred reply as it streams, post it in full, then write
    its rolling summary. Tone reactions on its messages then nudge the next one."""
    number = await bot.engine.stories.length(story.id) + (0 if retry else 1)
    preview = header_for(number, interaction.user.id, direction_for(story, direction))
    async with LiveReply(interaction, bot.stream_interval, preview) as live:
        if retry:
            passage = await bot.engine.retry(
                story.id, requested_by=interaction.user.id, progress=live.report, summarize=False
            )
        else:
            passage = await bot.engine.next(
                story.id,
                direction=direction,
                requested_by=interaction.user.id,
                progress=live.report,
                summarize=False,
            )
        messages = await live.finish(passage.text, header=header(passage))
    for message in messages:
        await bot.ballots.record_posted(message.id, passage.id)
    await bot.engine.summarize(story.id)


class StoryCog(commands.Cog):
    """Per-channel stories."""

    story = app_commands.Group(
        name="story", description="Start, read and manage this channel's story.", guild_only=True
    )

    def __init__(self, bot: AutoMuse) -> None:
        self.bot = bot

    @property
    def engine(self) -> Engine:
        return self.bot.engine

    @story.command(name="start")
    @app_commands.describe(
        opening="The story's first passage, in your words.",
        premise="What the story is about; alone, AutoMuse writes the opening from it.",
        title="A title for the story.",
        memory="What the story must always remember (default: the premise).",
    )
    async def start(
        self,
        interaction: discord.Interaction,
        opening: str | None = None,
        premise: str | None = None,
        title: str | None = None,
        memory: str | None = None,
    ) -> None:
        """Start this channel's story from an opening or a premise."""
        await self.refuse_start(interaction, opening, premise, title)
        checked(memory, "memory", LIMITS.memory, required=False)
        await self.bot.check_budget(interaction)
        await interaction.response.defer(thinking=True)
        async with LiveReply(interaction, self.bot.progress_interval) as live:
            story = await self.engine.start(
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                opening=opening or "",
                premise=premise or "",
                title=title or "",
                memory=memory or "",
                started_by=interaction.user.id,
                summarize=False,
                progress=live.report,
            )
            [opening_passage] = await self.engine.stories.line(story.id)
            intro = f"📖 **{story.title}** · started by <@{interaction.user.id}>"
            text = f"{opening_passage.text}\n\nContinue with `/next`."
            messages = await live.finish(text, header=f"{intro}\n\n**§1**")
        for message in messages:
            await self.bot.ballots.record_posted(message.id, opening_passage.id)
        await self.engine.summarize(story.id)

    async def refuse_start(
        self,
        interaction: discord.Interaction,
        opening: str | None,
        premise: str | None,
        title: str | None,
    ) -> None:
        """Refuse at once, before anything is shown publicly, a start that cannot succeed."""
        checked(opening, "opening", LIMITS.opening, required=False)
        checked(premise, "premise", LIMITS.premise, required=False)
        checked(title, "title", LIMITS.title, required=False)
        if not (opening or "").strip() and not (premise or "").strip():
            raise Refused("Give an opening or a premise to start a story.")
        try:
            await self.bot.channel_story(interaction)
        except NotFound:
            return
        raise Refused("This channel already has a story; end it before starting another.")

    @app_commands.command(name="next")
    @app_commands.describe(direction="What should happen next, in a sentence (optional).")
    @app_commands.guild_only()
    async def next_passage(
        self, interaction: discord.Interaction, direction: str | None = None
    ) -> None:
        """Write the next passage: posted at once, or as candidates to vote on (vote mode)."""
        story = await self.bot.channel_story(interaction)
        direction_for(story, direction)
        if StorySettings.of(story).mode == "vote":
            require_ballot_permissions(interaction)
        await refuse_if_open(self.bot, story, "passage")
        await self.engine.locks.ensure_idle(story.id)
        await self.bot.check_budget(interaction)
        cooldown = self.bot.settings.next_cooldown
        async with self.engine.locks.cooldown(
            interaction.guild_id or 0, interaction.user.id, cooldown, self.bot.clock()
        ):
            await interaction.response.defer(thinking=True)
            if StorySettings.of(story).mode == "vote":
                await open_passage_ballot(self.bot, interaction, story, direction or "")
                return
            await write_and_post(self.bot, interaction, story, direction or "")

    @story.command(name="show")
    @app_commands.describe(
        last=f"How many of the latest passages to show (1–{SHOW_MAX}).",
        beats="Also show what each passage was written to make happen (spoils the surprise).",
    )
    async def show(
        self,
        interaction: discord.Interaction,
        last: app_commands.Range[int, 1, SHOW_MAX] = 3,
        beats: bool = False,
    ) -> None:
        """Show the latest passages of this channel's story, only to you."""
        story = await self.bot.channel_story(interaction)
        shown = await self.engine.stories.line(story.id, last)
        text = "\n\n".join(
            f"{header(passage)}\n{beat_line(passage) if beats else ''}{passage.text}"
            for passage in shown
        )
        await send(interaction, f"📖 **{story.title}**\n\n{text}", ephemeral=True)

    @story.command(name="recap")
    async def recap(self, interaction: discord.Interaction) -> None:
        """A short "previously on…" of this channel's story, only for you."""
        story = await self.bot.channel_story(interaction)
        await self.bot.check_budget(interaction)
        await interaction.response.defer(thinking=True, ephemeral=True)
        await send(interaction, f"📜 {await self.engine.asides.recap(story.id)}", ephemeral=True)

    @story.command(name="undo")
    async def undo(self, interaction: discord.Interaction) -> None:
        """Take back the latest passage (it is kept, not deleted)."""
        story = await self.bot.channel_story(interaction)
        require_manager(interaction, story, "undo")
        head = await self.engine.undo(story.id)
        number = await self.engine.stories.length(story.id)
        await send(interaction, f"↩️ Undone. The story now ends at §{number}: “{head.text[:150]}…”")

    @story.command(name="retry")
    async def retry(self, interaction: discord.Interaction) -> None:
        """Write the latest passage again (the old one is kept as a branch)."""
        story = await self.bot.channel_story(interaction)
        require_manager(interaction, story, "retry")
        await self.engine.locks.ensure_idle(story.id)
        await self.bot.check_budget(interaction)
        await interaction.response.defer(thinking=True)
        await write_and_post(self.bot, interaction, story, "", retry=True)

    @story.command(name="end")
    async def end(self, interaction: discord.Interaction) -> None:
        """End this channel's story so a new one can start (export it first to keep a copy)."""
        story = await self.bot.channel_story(interaction)
        require_manager(interaction, story, "end the story")
        await self.engine.end(story.id)
        count = await self.engine.stories.length(story.id)
        await send(
            interaction,
            f"🏁 **{story.title}** ends here, after {plural(count, 'passage')}. Start another with"
            " `/story start`.",
        )

    @story.command(name="export")
    async def export(self, interaction: discord.Interaction) -> None:
        """The whole story as a Markdown file."""
        story = await self.bot.channel_story(interaction)
        line = await self.engine.stories.line(story.id)
        data = io.BytesIO(markdown(story, line).encode("utf-8"))
        await interaction.response.send_message(
            f"📎 **{story.title}**, {plural(len(line), 'passage')}.",
            file=discord.File(data, filename=f"story-{story.id}.md"),
            allowed_mentions=NO_PINGS,
        )

    @story.command(name="memory")
    @app_commands.describe(text="What the story must always remember; leave out to view it.")
    async def memory(self, interaction: discord.Interaction, text: str | None = None) -> None:
        """View or set what the story must always remember."""
        await self.view_or_set(interaction, "memory", text)

    @story.command(name="note")
    @app_commands.describe(text="A standing instruction for every passage; leave out to view it.")
    async def note(self, interaction: discord.Interaction, text: str | None = None) -> None:
        """View or set the author's note that steers every passage."""
        await self.view_or_set(interaction, "note", text)

    @story.command(name="threads")
    @app_commands.describe(
        add="A question the story should come back to and answer, e.g. Who sent the signal?",
        close="The number of an open thread the story should leave alone.",
    )
    async def threads(
        self, interaction: discord.Interaction, add: str | None = None, close: int | None = None
    ) -> None:
        """See the questions this story keeps coming back to, add one, or close one."""
        story = await self.bot.channel_story(interaction)
        edits = self.engine.edits
        if add is not None and close is not None:
            raise Refused("Add a thread or close one, not both at once.")
        if add is not None:
            thread = await edits.add_thread(story.id, add, interaction.user.id)
            await send(interaction, f"🧵 Opened thread #{thread.id}: {thread.text}")
        elif close is not None:
            thread = await edits.close_thread(story.id, close)
            await send(interaction, f"🧵 Closed thread #{thread.id}: {thread.text}")
        else:
            await send(interaction, threads_text(await edits.threads(story.id)), ephemeral=True)

    async def view_or_set(
        self, interaction: discord.Interaction, field: str, text: str | None
    ) -> None:
        """Show the story's memory or note to the member, or set it (managers only)."""
        story = await self.bot.channel_story(interaction)
        icon, label = STANDING[field]
        if text is None:
            shown = getattr(story, field) or "(none)"
            await send(interaction, f"{icon} {label}: {shown}", ephemeral=True)
            return
        require_manager(interaction, story, f"set the {label.lower()}")
        edits = self.engine.edits
        await (edits.set_memory if field == "memory" else edits.set_note)(story.id, text)
        await send(interaction, f"{icon} {label} updated.", ephemeral=True)

    @story.command(name="settings")
    @app_commands.describe(
        length="Longest passage, in tokens (50–1000).",
        temperature="Randomness, 0 (predictable) to 2 (wild).",
        style="chat for chat models, prose for base models, completion for fine-tuned ones.",
        mode="vote: /next opens a ballot of candidates; solo: /next posts one passage.",
        candidates="Candidates on a passage ballot (2–5).",
        seconds="How long a ballot stays open, in seconds.",
        quorum="Votes that close a ballot early (0: wait for the deadline).",
        planner="on: AutoMuse decides what happens when no one says; off: only members do.",
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        length: app_commands.Range[int, 50, 1000] | None = None,
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
        style: Literal["chat", "prose", "completion"] | None = None,
        mode: Literal["vote", "solo"] | None = None,
        candidates: app_commands.Range[int, 2, 5] | None = None,
        seconds: app_commands.Range[int, 10, 86_400] | None = None,
        quorum: app_commands.Range[int, 0, 1000] | None = None,
        planner: Literal["on", "off"] | None = None,
    ) -> None:
        """View this story's settings, or change them."""
        story = await self.bot.channel_story(interaction)
        given = {
            "length": length,
            "temperature": temperature,
            "style": style,
            "mode": mode,
            "candidates": candidates,
            "ballot_seconds": seconds,
            "quorum": quorum,
            "planner": None if planner is None else planner == "on",
        }
        changes = {name: value for name, value in given.items() if value is not None}
        if changes:
            require_manager(interaction, story, "change the settings")
            current = await self.engine.edits.update_settings(story.id, **changes)
        else:
            current = StorySettings.of(story)
        await send(
            interaction,
            f"⚙️ length {current.length} tokens · temperature {current.temperature:g}"
            f" · style {current.style} · mode {current.mode} · {current.candidates} candidates"
            f" · ballots {current.ballot_seconds} s · quorum {current.quorum or 'none'}"
            f" · planner {'on' if current.planner else 'off'}",
            ephemeral=True,
        )


async def setup(bot: AutoMuse) -> None:
    await bot.add_cog(StoryCog(bot))
