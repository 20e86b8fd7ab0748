"""A real discord.py bot, defined here, against the fake Discord."""

from __future__ import annotations

import asyncio
import io
import logging

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from . import DiscordError, FakeDiscord, Interaction
from .fixtures import BotRunner

LONG_LINE = "The lantern swung, and the fog answered with a name. "


class StoryBot(commands.Bot):
    """A tiny story bot: a /story group, plus records of what it saw and what failed."""

    def __init__(self, guild_id: int, intents: discord.Intents | None = None) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents or discord.Intents.default(),
            guild_ready_timeout=0.1,
        )
        self.guild_id = guild_id
        self.raw_reactions: list[discord.RawReactionActionEvent] = []
        self.seen_messages: list[discord.Message] = []
        self.http_errors: list[discord.HTTPException] = []
        self.may_moderate: dict[int, bool] = {}
        self.release_late = asyncio.Event()
        self.tree.add_command(self._story_group())

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)
        await self.tree.sync()

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self.raw_reactions.append(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self.raw_reactions.append(payload)

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    def _story_group(self) -> app_commands.Group:
        story = app_commands.Group(name="story", description="Write a story together.")

        @story.command(name="start", description="Start a new story.")
        @app_commands.describe(
            opening="The first line.", chapters="How many chapters.", partner="A co-author."
        )
        async def start(
            interaction: discord.Interaction,
            opening: str,
            chapters: app_commands.Range[int, 1, 10] = 3,
            partner: discord.Member | None = None,
        ) -> None:
            await interaction.response.defer(thinking=True)
            async with interaction.channel.typing():
                text = f"{interaction.user.mention} began ({chapters}): {opening} "
                if partner is not None:
                    text += f"with {partner.display_name}. "
                text += LONG_LINE * 20
            await interaction.followup.send(text, allowed_mentions=discord.AllowedMentions.none())
            notes = discord.File(io.BytesIO(b"chapter notes"), "notes.txt")
            await interaction.followup.send("Only you can see this.", file=notes, ephemeral=True)

        @story.command(name="poll", description="Ask a channel to vote.")
        @app_commands.describe(where="Where to post the poll (default: here).")
        async def poll(
            interaction: discord.Interaction, where: discord.TextChannel | None = None
        ) -> None:
            self.may_moderate[interaction.user.id] = interaction.permissions.manage_messages
            await interaction.response.send_message("Poll posted.", ephemeral=True)
            channel = where or interaction.channel
            message = await channel.send(f"Vote, {interaction.user.mention}!")
            for emoji in ("1️⃣", "2️⃣"):
                await message.add_reaction(emoji)
            await interaction.edit_original_response(content=f"Poll posted: {message.jump_url}")

        @story.command(name="shout", description="Try to post more than Discord allows.")
        async def shout(interaction: discord.Interaction) -> None:
            for attempt in (
                interaction.response.send_message("A" * 2001),
                interaction.channel.send("B" * 2001),
            ):
                try:
                    await attempt
                except discord.HTTPException as error:
                    self.http_errors.append(error)
            await interaction.response.send_message("Too long.", ephemeral=True)

        @story.command(name="late", description="Answer after the deadline.")
        async def late(interaction: discord.Interaction) -> None:
            await self.release_late.wait()
            await interaction.response.send_message("Sorry I'm late!")

        return story


async def start_bot(fake: FakeDiscord, runner: BotRunner) -> StoryBot:
    guild = next(iter(fake.guilds.values()))
    bot = StoryBot(guild.id)
    await runner.start(bot)
    return bot


def poll_finished(ix: Interaction) -> bool:
    """/story poll edits its reply as its last step."""
    return ix.original is not None and ix.original.content.startswith("Poll posted: https://")


async def test_login_registers_documented_commands(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    guild = fake_discord.guilds[bot.guild_id]

    assert bot.user is not None and bot.user.id == fake_discord.bot_user.id
    assert {c.name for c in bot.get_guild(guild.id).text_channels} == {"general", "story"}
    assert fake_discord.intents == discord.Intents.default().value
    for scope in (None, guild):
        (story,) = fake_discord.registered_commands(scope)
        subcommands = {option["name"]: option for option in story["options"]}
        assert set(subcommands) == {"start", "poll", "shout", "late"}
        options = {o["name"]: o for o in subcommands["start"]["options"]}
        assert (options["opening"]["type"], options["opening"]["required"]) == (3, True)
        assert options["opening"]["description"] == "The first line."
        assert (options["chapters"]["type"], options["chapters"]["max_value"]) == (4, 10)
    assert fake_discord.undocumented_commands() == []
    assert [command.name for command in await bot.tree.fetch_commands()] == ["story"]

    alice, story_channel = fake_discord.member("alice"), fake_discord.channel("story")
    assert (await bot.fetch_user(alice.id)).name == "alice"
    assert (await bot.get_guild(guild.id).fetch_member(alice.id)).id == alice.id
    assert (await bot.fetch_channel(story_channel.id)).name == "story"

    bare = {"name": "bare", "description": "…", "options": [{"name": "x", "type": 3}]}
    with pytest.raises(DiscordError, match="50035"):
        fake_discord.register_commands(None, [bare])
    bare["options"][0]["description"] = "…"
    fake_discord.register_commands(None, [bare])
    assert fake_discord.undocumented_commands() == ["bare", "bare x"]


async def test_deferred_command_gets_followups(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    await start_bot(fake_discord, bot_runner)
    alice, story = fake_discord.member("alice"), fake_discord.channel("story")

    ix = await fake_discord.invoke(
        "story start", {"opening": "It was foggy.", "chapters": 4}, user=alice, channel=story
    )
    await fake_discord.wait_for(lambda: len(ix.messages) == 2)

    assert ix.response_type == 5 and not ix.failed and not ix.deferred
    public, private = ix.messages
    assert public is ix.original and public.content.startswith(f"{alice.mention} began (4)")
    assert 1000 < len(public.content) <= 2000
    assert public.allowed_mentions == {"parse": []} and not public.pings()
    assert not public.ephemeral and public in story.messages
    assert private.ephemeral and private.content == "Only you can see this."
    assert private not in story.messages
    (notes,) = private.attachments
    assert (notes.filename, notes.data) == ("notes.txt", b"chapter notes")
    async with aiohttp.ClientSession() as session, session.get(notes.url) as response:
        assert await response.read() == b"chapter notes"

    second = await _raw_callback(fake_discord, ix, {"type": 4, "data": {"content": "again"}})
    assert second == (400, 40060)


async def test_reactions_reach_the_bot_and_read_back(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    alice, bob = fake_discord.member("alice"), fake_discord.member("bob")
    general, story = fake_discord.channel("general"), fake_discord.channel("story")
    moderator = fake_discord.add_role(
        general.guild, "Mod", discord.Permissions(manage_messages=True).value
    )
    bob.roles.append(moderator)

    ix = await fake_discord.invoke("story poll", {"where": general}, user=bob, channel=story)
    await fake_discord.wait_for(lambda: poll_finished(ix))
    (poll,) = general.messages
    assert story.messages == [] and bot.may_moderate == {bob.id: True}
    assert ix.original.ephemeral and ix.original.edited_at is not None
    assert poll.pings().users == {bob.id}
    assert await fake_discord.react(poll, "1️⃣", alice)
    assert not await fake_discord.react(poll, "1️⃣", alice)

    await fake_discord.wait_for(lambda: len(bot.raw_reactions) == 3)
    bot_id = fake_discord.bot_user.id
    assert [(r.user_id, str(r.emoji)) for r in bot.raw_reactions] == [
        (bot_id, "1️⃣"),
        (bot_id, "2️⃣"),
        (alice.id, "1️⃣"),
    ]
    assert bot.raw_reactions[-1].member is not None
    assert bot.raw_reactions[-1].member.id == alice.id

    fetched = await bot.get_channel(general.id).fetch_message(poll.id)
    counts = {str(r.emoji): r.count for r in fetched.reactions}
    assert counts == {"1️⃣": 2, "2️⃣": 1}
    voters = [user.id async for user in fetched.reactions[0].users()]
    assert sorted(voters) == sorted([bot_id, alice.id])

    assert await fake_discord.unreact(poll, "1️⃣", alice)
    removal = await fake_discord.wait_for(lambda: bot.raw_reactions[3:])
    assert (removal[0].event_type, removal[0].user_id) == ("REACTION_REMOVE", alice.id)
    fetched = await bot.get_channel(general.id).fetch_message(poll.id)
    assert {str(r.emoji): r.count for r in fetched.reactions} == {"1️⃣": 1, "2️⃣": 1}


async def test_content_over_2000_characters_is_rejected(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    general = fake_discord.channel("general")

    ix = await fake_discord.invoke("story shout", user=fake_discord.member("bob"), channel=general)
    await fake_discord.wait_for(lambda: ix.messages)

    assert [(e.status, e.code) for e in bot.http_errors] == [(400, 50035), (400, 50035)]
    assert "data.content" in str(bot.http_errors[0]) and "2000" in str(bot.http_errors[0])
    assert [m.content for m in ix.messages] == ["Too long."]
    assert all(len(m.content) <= 2000 for m in fake_discord.messages.values())


async def test_unanswered_interaction_fails(
    fake_discord: FakeDiscord, bot_runner: BotRunner, discord_errors: list[logging.LogRecord]
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    fake_discord.interaction_deadline = 0.2

    ix = await fake_discord.invoke(
        "story late", user=fake_discord.member("alice"), channel=fake_discord.channel("general")
    )
    await fake_discord.wait_for(lambda: ix.failed)
    bot.release_late.set()
    await fake_discord.wait_for(lambda: discord_errors)

    assert not ix.acknowledged and ix.messages == []
    assert "10062" in discord_errors[0].getMessage() + str(discord_errors[0].exc_info)
    discord_errors.clear()


async def test_bot_reads_state_again_after_restart(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    first = await start_bot(fake_discord, bot_runner)
    alice, bob = fake_discord.member("alice"), fake_discord.member("bob")
    general = fake_discord.channel("general")
    ix = await fake_discord.invoke("story poll", user=alice, channel=general)
    await fake_discord.wait_for(lambda: poll_finished(ix))
    (poll,) = general.messages
    assert first.may_moderate == {alice.id: False}
    await bot_runner.stop(first)

    assert await fake_discord.react(poll, "2️⃣", bob)
    second = await start_bot(fake_discord, bot_runner)

    assert len(fake_discord.identifies) == 2 and second.raw_reactions == []
    history = [m async for m in second.get_channel(general.id).history(limit=10)]
    assert [m.id for m in history] == [poll.id]
    two = next(r for r in history[0].reactions if str(r.emoji) == "2️⃣")
    assert sorted([u.id async for u in two.users()]) == sorted([fake_discord.bot_user.id, bob.id])

    with pytest.raises(discord.Forbidden):
        await history[0].remove_reaction("2️⃣", discord.Object(bob.id))
    await history[0].remove_reaction("2️⃣", second.user)
    assert poll.reactors("2️⃣") == [bob.id]
    await history[0].edit(content="Poll closed.")
    assert poll.content == "Poll closed." and poll.edited_at is not None
    await history[0].delete()
    assert poll.deleted and poll not in general.messages

    ix = await fake_discord.invoke(
        "story start", {"opening": "Again.", "partner": alice}, user=bob, channel=general
    )
    await fake_discord.wait_for(lambda: len(ix.messages) == 2)
    assert "Again. with alice." in ix.messages[0].content


async def test_bot_reconnects_after_a_gateway_drop(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    bob, story = fake_discord.member("bob"), fake_discord.channel("story")
    note = await fake_discord.post_message(story, bob, "before the outage")

    await fake_discord.disconnect_bot()
    assert not fake_discord.bot_connected
    await fake_discord.react(note, "👍", bob)
    await fake_discord.wait_for(lambda: fake_discord.resumes == 1 and bot.raw_reactions)

    assert len(fake_discord.identifies) == 1
    assert [(r.user_id, str(r.emoji)) for r in bot.raw_reactions] == [(bob.id, "👍")]
    ix = await fake_discord.invoke("story poll", user=bob, channel=story)
    await fake_discord.wait_for(lambda: poll_finished(ix))


async def test_autosharded_bot_logs_in(fake_discord: FakeDiscord, bot_runner: BotRunner) -> None:
    bot = commands.AutoShardedBot(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        guild_ready_timeout=0.1,
    )
    await bot_runner.start(bot)

    assert bot.shard_count == 1
    assert [guild.id for guild in bot.guilds] == list(fake_discord.guilds)


async def test_message_content_is_hidden_without_the_intent(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    bot = await start_bot(fake_discord, bot_runner)
    alice, story = fake_discord.member("alice"), fake_discord.channel("story")

    await fake_discord.post_message(story, alice, "a secret plot twist")
    await fake_discord.post_message(story, alice, f"{bot.user.mention} continue please")
    await fake_discord.wait_for(lambda: len(bot.seen_messages) == 2)

    assert [m.content for m in bot.seen_messages] == ["", f"{bot.user.mention} continue please"]
    assert [m.author.id for m in bot.seen_messages] == [alice.id, alice.id]


async def test_login_is_refused_with_a_wrong_token_or_privileged_intents(
    fake_discord: FakeDiscord, bot_runner: BotRunner
) -> None:
    guild_id = next(iter(fake_discord.guilds))
    refused = StoryBot(guild_id)
    with pytest.raises(discord.LoginFailure):
        await refused.start("not-the-token")
    await refused.close()

    with pytest.raises(discord.PrivilegedIntentsRequired):
        await bot_runner.start(StoryBot(guild_id, discord.Intents.all()))
    assert fake_discord.identifies == []


async def _raw_callback(
    fake: FakeDiscord, ix: Interaction, body: dict[str, object]
) -> tuple[int, int]:
    """POST an interaction callback directly; returns (HTTP status, Discord error code)."""
    url = f"{fake.api_base}/interactions/{ix.id}/{ix.token}/callback?with_response=1"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.headers["Content-Type"] == "application/json"
        return response.status, (await response.json()).get("code", 0)
