"""A story whose channel or server goes away ends quietly, with its ballots closed."""

import asyncio
import logging

from test_voting import VOTE, line_of, open_ballot, start_story


async def test_a_deleted_channel_ends_its_story_and_its_ballot_quietly(
    start_bot, chat, model, clock, fake_discord, caplog
):
    caplog.set_level(logging.INFO)
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    await fake_discord.react(ballot, "2️⃣", fake_discord.member("alice"))
    story, _ = await line_of(bot, chat)
    await fake_discord.delete_channel(chat.channel)
    ended = await fake_discord.wait_for(
        lambda: "its channel was deleted" in caplog.text or None, timeout=10
    )
    assert ended
    stored = await bot.engine.stories.story(story.id)
    assert stored.status == "ended"
    assert await bot.ballots.open_ballot(story.id, "passage") is None
    [closed] = (
        [b for b in await bot.ballots.store.ballots(story.id)]
        if hasattr(bot.ballots.store, "ballots")
        else [await bot.ballots.ballot_for_message(ballot.id)]
    )
    assert closed.status == "closed" and closed.outcome == "void"
    clock.advance(600)
    await asyncio.sleep(1.5)
    assert "Traceback" not in caplog.text and "checking ballot deadlines failed" not in caplog.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(await bot.engine.stories.line(story.id)) == 1


async def test_a_server_that_removes_the_bot_ends_its_stories(
    start_bot, chat, model, fake_discord, caplog
):
    caplog.set_level(logging.INFO)
    bot = await start_bot()
    await start_story(chat, model)
    story, _ = await line_of(bot, chat)
    await fake_discord.remove_bot(chat.channel.guild)
    await fake_discord.wait_for(
        lambda: "the server removed AutoMuse" in caplog.text or None, timeout=10
    )
    assert (await bot.engine.stories.story(story.id)).status == "ended"


async def test_a_thread_archived_or_deleted_ends_its_story(
    start_bot, chat, model, fake_discord, caplog
):
    caplog.set_level(logging.INFO)
    bot = await start_bot()
    stories = []
    for name in ("archived", "deleted"):
        chat.channel = fake_discord.add_thread(fake_discord.channel("story"), name)
        await start_story(chat, model)
        stories.append((await line_of(bot, chat))[0])
    archived, deleted = (fake_discord.channel(name) for name in ("archived", "deleted"))
    await fake_discord.archive_thread(archived)
    await fake_discord.wait_for(lambda: "its thread was archived" in caplog.text or None)
    await fake_discord.delete_thread(deleted)
    await fake_discord.wait_for(lambda: "its thread was deleted" in caplog.text or None)
    for story in stories:
        assert (await bot.engine.stories.story(story.id)).status == "ended"
