"""/story, /next, /lore and /help through the fake Discord, with the real, unmodified bot."""

import asyncio
import itertools
import json
import re
import time

from conftest import OPENING

from bot.llm import ModelError, prompt_text
from bot.llm.llama import LocalModel
from bot.llm.scripted import ScriptedModel

P1 = "At the top she found the lamp room door open and a stranger polishing the great lens."
P2 = "The stranger turned, and Mira saw that his eyes were the colour of the winter sea."
P3 = "Far below, a bell began to ring, though no ship had passed the rocks in forty years."


async def started(chat, model, user="alice"):
    model.add("Mira climbs the lighthouse.")
    return await chat.run("story start", {"opening": OPENING, "title": "The Lamp"}, user=user)


async def story_line(bot, chat):
    guild_id = chat.channel.guild.id
    story = await bot.engine.stories.active_story(guild_id, chat.channel.id)
    return [p.text for p in await bot.engine.stories.line(story.id)]


async def test_login_and_sync_register_every_command_with_descriptions(start_bot, fake_discord):
    await start_bot()
    registered = fake_discord.registered_commands()
    assert {c["name"] for c in registered} == {
        "story",
        "next",
        "lore",
        "help",
        "directions",
        "steer",
        "vote",
    }
    story = next(c for c in registered if c["name"] == "story")
    assert {o["name"] for o in story["options"]} == {
        "start",
        "show",
        "recap",
        "undo",
        "retry",
        "end",
        "export",
        "memory",
        "note",
        "settings",
        "threads",
    }
    assert fake_discord.undocumented_commands() == []
    for command in registered:
        for option in command.get("options", []):
            assert option["description"], option
            for inner in option.get("options", []):
                assert inner["description"] and inner["description"] != "…", inner


async def test_a_dev_guild_gets_the_commands_at_once(start_bot, fake_discord):
    guild = fake_discord.channel("story").guild
    await start_bot(AUTOMUSE_DEV_GUILD=str(guild.id))
    assert {c["name"] for c in fake_discord.registered_commands(guild)} >= {"story", "next"}


async def test_start_then_three_next_posts_passages_in_order_and_stores_them(
    start_bot, chat, model
):
    bot = await start_bot()
    start = await started(chat, model)
    assert start.deferred is False and "The Lamp" in start.messages[0].content
    for text in (P1, P2, P3):
        model.add(text, "Mira keeps watch.")
        await chat.run("next")
    posted = [m.content for m in chat.posted()]
    assert [text in post for post, text in zip(posted[1:], (P1, P2, P3), strict=True)] == [True] * 3
    assert posted[1].startswith("**§2** · asked by <@") and posted[3].startswith("**§4**")
    assert await story_line(bot, chat) == [OPENING, P1, P2, P3]


async def test_a_direction_is_shown_with_the_passage_and_sent_to_the_model(start_bot, chat, model):
    await start_bot()
    await started(chat, model)
    model.add(P1, "Mira keeps watch.")
    ix = await chat.run("next", {"direction": "A stranger appears"})
    assert "*A stranger appears*" in ix.messages[0].content
    assert "A stranger appears" in str(model.prompts[-2])


async def test_two_next_at_once_give_one_passage_and_one_already_writing(start_bot, chat, model):
    bot = await start_bot()
    await started(chat, model)
    model.latency = 0.3
    model.add(P1, "Mira keeps watch.", P2, "Mira keeps watch.")
    first, second = await asyncio.gather(
        chat.fake.invoke("next", user=chat.fake.member("alice"), channel=chat.channel),
        chat.fake.invoke("next", user=chat.fake.member("bob"), channel=chat.channel),
    )
    await chat.fake.wait_for(
        lambda: first.messages and second.messages and {first.id, second.id} & chat.finished,
        timeout=10,
    )
    replies = sorted([first.messages[0], second.messages[0]], key=lambda m: m.ephemeral)
    assert P1 in replies[0].content and not replies[0].ephemeral
    assert replies[1].ephemeral
    assert replies[1].content == "A passage is already being written for this story."
    assert await story_line(bot, chat) == [OPENING, P1]


async def test_a_model_failure_is_an_ephemeral_error_and_changes_nothing(start_bot, chat, model):
    bot = await start_bot()
    await started(chat, model)
    model.add(ModelError("The model server took too long to answer."))
    ix = await chat.run("next")
    [reply] = ix.messages
    assert reply.ephemeral and reply.content == "The model server took too long to answer."
    assert len(chat.posted()) == 1
    assert await story_line(bot, chat) == [OPENING]


async def test_only_the_starter_or_a_manager_may_undo(start_bot, chat, model):
    bot = await start_bot()
    await started(chat, model)
    model.add(P1, "Mira keeps watch.")
    await chat.run("next")
    refused = await chat.run("story undo", user="bob")
    assert refused.messages[0].ephemeral
    assert refused.messages[0].content == (
        "Only the member who started this story or members with Manage Messages can undo."
    )
    assert await story_line(bot, chat) == [OPENING, P1]
    done = await chat.run("story undo", user="owner")
    assert "Undone" in done.messages[0].content
    assert await story_line(bot, chat) == [OPENING]


async def test_long_passages_are_split_under_2000_characters_between_sentences(
    start_bot, chat, model, scenesim
):
    await start_bot()
    await started(chat, model)
    rows = (scenesim / "scenes.jsonl").read_text().splitlines()
    scenes = [json.loads(row)["completion"].removesuffix(" END").strip() for row in rows[:40]]
    long_passage = " ".join(scenes)[:4500].rsplit(".", 1)[0] + "."
    model.add(long_passage, "Mira keeps watch.")
    ix = await chat.run("next", replies=3)
    pieces = [m.content for m in ix.messages]
    assert len(pieces) == 3 and all(len(p) <= 2000 for p in pieces)
    assert all(p.endswith((".", "!", "?", '"')) for p in pieces)
    assert " ".join(pieces).split("\n", 1)[1] == long_passage


async def test_a_long_passage_s_header_never_posts_alone(start_bot, chat, model, scenesim):
    await start_bot()
    await started(chat, model)
    rows = (scenesim / "scenes.jsonl").read_text().splitlines()
    sentences = " ".join(
        json.loads(row)["completion"].removesuffix(" END").strip() for row in rows[:40]
    ).split(". ")
    first, rest = "", []
    for sentence in sentences:
        if len(first) < 1960 and len(first) + len(sentence) + 2 <= 1995:
            first += sentence.strip() + ". "
        else:
            rest.append(sentence)
    first = first.strip()
    assert 1960 <= len(first) < 2000, "the header and this paragraph are too long for one message"
    passage = f"{first}\n\n{'. '.join(rest[:5]).strip()}."
    model.add(passage, "Mira keeps watch.")
    ix = await chat.run("next", replies=2)
    pieces = [m.content for m in ix.messages]
    assert len(pieces) == 2 and all(len(p) <= 2000 for p in pieces)
    assert pieces[0].startswith("**§2** · asked by") and len(pieces[0].splitlines()) > 1
    told = " ".join(pieces).split("\n", 1)[1]
    assert told.replace("\n\n", " ") == passage.replace("\n\n", " ")


async def test_a_generated_everyone_pings_no_one(start_bot, chat, model, fake_discord):
    await start_bot()
    await started(chat, model)
    alice = fake_discord.member("alice")
    model.add(f"@everyone look! <@{alice.user.id}> and @here were named.", "Mira keeps watch.")
    ix = await chat.run("next")
    assert "@everyone" in ix.messages[0].content
    assert not ix.messages[0].pings()
    assert all(not m.pings() for m in fake_discord.messages.values())


async def test_the_cooldown_refuses_plainly_until_it_has_passed(start_bot, chat, model, clock):
    bot = await start_bot(AUTOMUSE_NEXT_COOLDOWN="30")
    await started(chat, model)
    model.add(P1, "Mira keeps watch.")
    await chat.run("next")
    clock.advance(10)
    refused = await chat.run("next")
    assert refused.messages[0].ephemeral
    assert refused.messages[0].content == (
        "Please wait 20 more seconds before asking for another passage."
    )
    clock.advance(21)
    model.add(P2, "Mira keeps watch.")
    await chat.run("next")
    assert await story_line(bot, chat) == [OPENING, P1, P2]


async def test_the_daily_token_budget_refuses_plainly_when_spent(start_bot, chat, model):
    bot = await start_bot(AUTOMUSE_DAILY_TOKENS="200")
    await started(chat, model)
    model.add(P1, "Mira keeps watch.")
    await chat.run("next")
    refused = await chat.run("next")
    assert refused.messages[0].ephemeral
    assert refused.messages[0].content == (
        "This server has used its model budget for today; it renews at midnight UTC."
    )
    assert await story_line(bot, chat) == [OPENING, P1]


async def test_after_a_restart_next_continues_the_same_story(start_bot, bot_runner, chat, model):
    bot = await start_bot()
    await started(chat, model)
    model.add(P1, "Mira keeps watch.")
    posted = (await chat.run("next")).messages[0]
    async with asyncio.timeout(5):
        while await bot.engine.store.passage_for_message(posted.id) is None:
            await asyncio.sleep(0.01)
    await bot_runner.stop(bot)
    restarted = await start_bot()
    model.add(P2, "Mira keeps watch.")
    ix = await chat.run("next")
    assert ix.messages[0].content.startswith("**§3**")
    assert await story_line(restarted, chat) == [OPENING, P1, P2]


async def test_show_recap_export_and_lore(start_bot, chat, model, fake_discord):
    await start_bot()
    await started(chat, model)
    model.add(P1, "Mira keeps watch.")
    await chat.run("next")
    shown = await chat.run("story show", {"last": 1})
    assert shown.messages[0].ephemeral and P1 in shown.messages[0].content
    assert OPENING not in shown.messages[0].content
    model.add("Previously: Mira met a stranger.")
    recap = await chat.run("story recap")
    assert recap.messages[0].ephemeral and "Mira met a stranger" in recap.messages[0].content
    exported = await chat.run("story export")
    [attachment] = exported.messages[0].attachments
    assert attachment.data.decode() == f"# The Lamp\n\n{OPENING}\n\n{P1}\n"
    added = await chat.run(
        "lore add",
        {"kind": "character", "name": "Old Tom", "keywords": "tom, keeper", "text": "The keeper."},
        user="bob",
    )
    assert "Old Tom" in added.messages[0].content
    listed = await chat.run("lore list")
    assert "**Old Tom** (character; tom, keeper): The keeper." in listed.messages[0].content
    refused = await chat.run("lore remove", {"name": "Old Tom"}, user="bob")
    assert "can remove lore" in refused.messages[0].content
    await chat.run("lore remove", {"name": "Old Tom"}, user="alice")
    listed = (await chat.run("lore list")).messages[0].content
    assert "No lore from members yet" in listed
    assert "**Noted by AutoMuse**" in listed and "\nMira (character)" in listed
    removed = await chat.run("lore remove", {"name": "Mira"}, user="alice")
    assert "Removed **Mira** from the automatic entries" in removed.messages[0].content
    assert "No lore yet" in (await chat.run("lore list")).messages[0].content


async def test_a_planned_beat_stays_hidden_until_asked_and_the_planner_can_be_turned_off(
    start_bot, chat, model
):
    bot = await start_bot(AUTOMUSE_PLANNER="on")
    await started(chat, model)
    beat = "A stranger polished the great lens in the lamp room."
    model.add(beat, P1, "A stranger brings Mira a letter.")
    posted = (await chat.run("next")).messages[0]
    assert f"{beat} {P1}" in posted.content, "the passage starts with its beat"
    assert "🎯" not in posted.content and f"*{beat}*" not in posted.content
    plain = await chat.run("story show", {"last": 1})
    assert "🎯" not in plain.messages[0].content
    revealed = await chat.run("story show", {"last": 1, "beats": True}, user="bob")
    assert revealed.messages[0].ephemeral
    assert f"> 🎯 *{beat}*\n{beat} {P1}" in revealed.messages[0].content
    changed = await chat.run("story settings", {"planner": "off"})
    assert "planner off" in changed.messages[0].content
    story = await bot.engine.stories.active_story(chat.channel.guild.id, chat.channel.id)
    before = len(await bot.engine.store.calls(story.id))
    model.add(P2, "Mira reads the letter.")
    await chat.run("next")
    purposes = [call.purpose for call in await bot.engine.store.calls(story.id)]
    assert purposes[before:] == ["passage", "summary"]
    assert (await bot.engine.stories.line(story.id))[-1].beat == ""


async def test_members_see_add_and_close_the_story_s_threads(start_bot, chat, model):
    await start_bot()
    await started(chat, model)
    empty = (await chat.run("story threads")).messages[0]
    assert empty.ephemeral and "No threads yet" in empty.content
    opened = await chat.run("story threads", {"add": "  Who rang the bell @everyone?  "})
    [thread_id] = re.findall(r"#(\d+)", opened.messages[0].content)
    assert "Who rang the bell @everyone?" in opened.messages[0].content
    assert not opened.messages[0].pings()
    again = await chat.run("story threads", {"add": "who rang the bell @everyone?"})
    assert again.messages[0].content == "This story already has that thread open."
    blank = await chat.run("story threads", {"add": "\u200b"})
    assert blank.messages[0].content == "The thread has no visible characters."
    both = await chat.run("story threads", {"add": "Why?", "close": 1})
    assert both.messages[0].content == "Add a thread or close one, not both at once."
    listed = (await chat.run("story threads", user="bob")).messages[0].content
    assert f"#{thread_id} Who rang the bell" in listed and "moved on 0 times" in listed
    unknown = await chat.run("story threads", {"close": 2**53})
    assert unknown.messages[0].content == f"This story has no open thread #{2**53}."
    closed = await chat.run("story threads", {"close": int(thread_id)}, user="bob")
    assert f"Closed thread #{thread_id}" in closed.messages[0].content
    listed = (await chat.run("story threads")).messages[0].content
    assert "Open threads" in listed and "(none)" in listed and "~~Who rang the bell" in listed
    twice = await chat.run("story threads", {"close": int(thread_id)})
    assert twice.messages[0].content == f"This story has no open thread #{thread_id}."


async def test_memory_note_settings_and_end(start_bot, chat, model):
    bot = await start_bot()
    await started(chat, model)
    await chat.run("story memory", {"text": "Mira fears heights."})
    viewed = await chat.run("story memory", user="bob")
    assert viewed.messages[0].content == "🧠 Memory: Mira fears heights."
    refused = await chat.run("story note", {"text": "Make it funny."}, user="bob")
    assert "can set the author's note" in refused.messages[0].content
    changed = await chat.run("story settings", {"temperature": 1.2, "style": "completion"})
    assert "temperature 1.2" in changed.messages[0].content
    assert "style completion" in changed.messages[0].content
    await chat.run("story end", user="owner")
    ended = await chat.run("next")
    assert ended.messages[0].content == "There is no story here yet."
    assert await bot.engine.store.stories() != []


async def test_help_lists_every_command(start_bot, chat):
    await start_bot()
    ix = await chat.run("help", replies=2)
    text = "\n".join(m.content for m in ix.messages)
    assert all(m.ephemeral and len(m.content) <= 2000 for m in ix.messages)
    assert "`/story start` — Start this channel's story" in text
    assert "`/lore add`" in text and "`/next`" in text and "`/vote close`" in text
    assert "newest reaction is your vote" in text and "⚔️ more action" in text


async def test_a_full_run_with_the_embedded_model(start_bot, chat):
    model = LocalModel(threads=1)
    bot = await start_bot(model, AUTOMUSE_MAX_TOKENS="60", AUTOMUSE_SEED="3")
    premise = {"premise": "A cat becomes mayor of a small fishing town."}
    await chat.run("story start", premise, timeout=300)
    ix = await chat.run("next", timeout=300)
    assert ix.messages[0].content.startswith("**§2**")
    line = await story_line(bot, chat)
    assert len(line) == 2 and all(len(text.split()) >= 5 for text in line)
    assert isinstance(bot.engine.models.passage, LocalModel)


async def test_unexpected_errors_are_logged_and_answered_plainly(
    start_bot, chat, model, bot_errors
):
    await start_bot()
    await started(chat, model)
    model.add(RuntimeError("boom"))
    ix = await chat.run("next")
    assert ix.messages[0].content == "Something went wrong on our side; the story is unchanged."
    assert [r.getMessage() for r in bot_errors] == ["command next failed"]
    bot_errors.clear()


def public_messages_of(fake_discord, interaction):
    """Every public message the interaction ever showed, "thinking…" and deleted ones too."""
    return [
        m
        for m in fake_discord.messages.values()
        if m.interaction is interaction and not m.ephemeral
    ]


async def test_refusals_decided_before_writing_show_no_public_thinking(
    start_bot, chat, model, fake_discord
):
    await start_bot()
    await started(chat, model)
    too_long = await chat.run("next", {"direction": "x" * 301})
    assert too_long.messages[0].content == "The direction is 301 characters; the limit is 300."
    again = await chat.run("story start", {"premise": "A heist on the moon."}, user="bob")
    assert again.messages[0].content.startswith("This channel already has a story")
    empty = await chat.run("story start", {"title": "Nothing"}, user="bob")
    assert empty.messages[0].content == "Give an opening or a premise to start a story."
    model.latency = 0.5
    model.add(P1, "summary")
    writing = await fake_discord.invoke(
        "next", user=fake_discord.member("alice"), channel=chat.channel
    )
    await fake_discord.wait_for(lambda: writing.deferred)
    busy = await chat.run("next", user="bob")
    assert busy.messages[0].content == "A passage is already being written for this story."
    for refused in (too_long, again, empty, busy):
        assert refused.messages[0].ephemeral
        assert public_messages_of(fake_discord, refused) == []
    await fake_discord.wait_for(lambda: writing.messages, timeout=10)


async def test_a_premise_only_story_reads_well_and_keeps_its_premise(
    start_bot, chat, model, fake_discord
):
    bot = await start_bot()
    model.add("The vault door sighed open onto the grey dust of the Sea of Tranquillity.", "sum")
    model.latency = 0.3
    ix = await chat.run("story start", {"premise": "A heist on the moon."})
    model.latency = 0.0
    intro = ix.messages[0].content
    assert ix.messages[0].edits[0].content == "✍️ Writing…"
    assert intro.startswith("📖 **A heist on the moon.** · started by <@")
    assert "\n\n**§1**\nThe vault door" in intro
    story = await bot.engine.stories.active_story(chat.channel.guild.id, chat.channel.id)
    assert story.memory == "A heist on the moon."
    await fake_discord.react(ix.messages[0], "😱", fake_discord.member("bob"))
    model.add(P1, "summary")
    await chat.run("next")
    prompt = next(prompt_text(p) for p in model.prompts if "Members asked for" in prompt_text(p))
    assert "more tension (1)" in prompt
    assert "A heist on the moon." in prompt


async def test_counts_in_messages_are_singular_or_plural(start_bot, chat, model, clock):
    await start_bot(AUTOMUSE_NEXT_COOLDOWN="2")
    await started(chat, model)
    model.add(P1, "summary")
    await chat.run("next")
    clock.advance(1)
    wait = await chat.run("next")
    assert (
        wait.messages[0].content == "Please wait 1 more second before asking for another passage."
    )
    exported = await chat.run("story export")
    assert exported.messages[0].content == "📎 **The Lamp**, 2 passages."
    await chat.run("story undo")
    ended = await chat.run("story end")
    assert "ends here, after 1 passage. Start another" in ended.messages[0].content


class Timeline(ScriptedModel):
    """A scripted model that notes when each call began."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[float] = []

    async def generate(self, prompt, sampling, on_text=None):
        self.started.append(time.monotonic())
        return await super().generate(prompt, sampling, on_text)


LONG = (
    "Far below, a bell began to ring, though no ship had passed the rocks in forty years,"
    " and Mira counted each stroke while the stranger set down his cloth and listened with her."
)


async def test_a_solo_next_streams_into_its_message_and_ends_as_the_stored_passage(
    start_bot, chat, fake_discord
):
    model = Timeline()
    bot = await start_bot(model)
    bot.stream_interval = 1.0
    await started(chat, model)
    model.latency = 1.5
    model.add(OPENING, LONG, "Mira hears a bell.")
    ix = await chat.run("next", timeout=20)
    [message] = ix.messages
    story = await bot.engine.stories.active_story(chat.channel.guild.id, chat.channel.id)
    passage = (await bot.engine.stories.line(story.id))[-1]
    assert passage.text == LONG
    assert message.content == f"**§2** · asked by <@{ix.user.id}>\n{LONG}"
    edits = message.edits
    assert 3 <= len(edits) <= 8, [e.content for e in edits]
    assert edits[-1].content == message.content
    assert all(b.at - a.at >= 0.9 for a, b in itertools.pairwise(edits))
    streamed = [e.content for e in edits[:-1]]
    assert any(OPENING.split(",")[0] in text for text in streamed)
    assert all(text.startswith("**§2** · asked by") or "…" in text for text in streamed)
    assert passage.summary == "Mira hears a bell." and LONG in prompt_text(model.prompts[-1])
    assert edits[-1].at < model.started[-1]


async def test_a_passage_written_within_the_interval_is_posted_without_waiting(
    start_bot, chat, fake_discord
):
    model = Timeline()
    bot = await start_bot(model)
    bot.stream_interval = 1.0
    await started(chat, model)
    model.add(P1, "Mira hears a bell.")
    ix = await chat.run("next", timeout=20)
    [message] = ix.messages
    assert message.content == f"**§2** · asked by <@{ix.user.id}>\n{P1}"
    assert [edit.content for edit in message.edits] == [message.content]
    assert message.edits[0].at - model.started[-2] < 0.5


async def test_vote_mode_shows_that_the_candidates_are_being_written(start_bot, chat, model):
    bot = await start_bot(AUTOMUSE_MODE="vote")
    bot.progress_interval = 0.5
    await started(chat, model)
    model.latency = 0.6
    model.add(P1, P2, P3)
    ix = await chat.run("next", timeout=20)
    reply = ix.messages[0]
    contents = [e.content for e in reply.edits]
    assert contents[0] == "✍️ Writing 3 candidates…"
    assert contents[-1].startswith("🗳️ **Vote for §2**, asked by <@")
    assert all(b.at - a.at >= 0.45 for a, b in itertools.pairwise(reply.edits))


async def test_a_failed_summary_leaves_the_passage_posted_and_is_retried_next_time(
    start_bot, chat, model
):
    bot = await start_bot()
    await started(chat, model)
    model.add(P1, ModelError("The model server took too long to answer."))
    ix = await chat.run("next")
    assert ix.messages[0].content.endswith(P1) and not ix.messages[0].ephemeral
    story = await bot.engine.stories.active_story(chat.channel.guild.id, chat.channel.id)
    assert (await bot.engine.stories.line(story.id))[-1].summary is None
    model.add("Mira meets a stranger.", P2, "A bell rings.")
    await chat.run("next")
    assert [p.summary for p in await bot.engine.stories.line(story.id)][1:] == [
        "Mira meets a stranger.",
        "A bell rings.",
    ]
    assert "Mira meets a stranger." in prompt_text(model.prompts[-2])


async def test_a_command_discord_gave_up_on_is_logged_not_answered(
    start_bot, chat, model, fake_discord, caplog
):
    await start_bot()
    fake_discord.interaction_deadline = 0.0
    interaction = await fake_discord.invoke(
        "story start", {"opening": OPENING}, user=fake_discord.member("alice"), channel=chat.channel
    )
    await fake_discord.wait_for(lambda: "not acknowledged in time" in caplog.text)
    assert interaction.failed and interaction.messages == []
    assert "Task exception was never retrieved" not in caplog.text
