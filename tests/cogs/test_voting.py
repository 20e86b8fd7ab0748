"""Ballots, /steer, /vote close and tone nudges through the fake Discord."""

import json
import os
import subprocess
import sys

from conftest import OPENING

from bot.llm import prompt_text

CANDIDATES = [
    "At the top she found the lamp room door open and a stranger polishing the great lens.",
    "A gull crashed through the window and dropped a brass key at her feet.",
    "The lantern went out, and in the dark she heard someone counting with her.",
]
FRESH = [
    "Her brother waved from a boat that should have sunk a decade before.",
    "Snow began to fall upward, past the glass and into the clouds.",
    "An old radio in the corner crackled with the voice of her grandmother.",
]
VOTE = {"AUTOMUSE_MODE": "vote"}


async def start_story(chat, model):
    model.add("Mira climbs the lighthouse.")
    await chat.run("story start", {"opening": OPENING, "title": "The Lamp"})


def ballot_messages(chat):
    return [m for m in chat.posted() if m.content.startswith("🗳️ **Ballot")]


async def open_ballot(chat, model, texts=CANDIDATES, number=1):
    """Run /next in vote mode and wait for ballot `number` with its reactions."""
    model.add(*texts)
    await chat.run("next")

    def ready():
        found = ballot_messages(chat)
        return len(found) >= number and len(found[number - 1].reactions) == len(texts) + 1

    await chat.fake.wait_for(ready, timeout=10)
    return ballot_messages(chat)[number - 1]


async def line_of(bot, chat):
    story = await bot.engine.active_story(chat.channel.guild.id, chat.channel.id)
    return story, [p.text for p in await bot.engine.line(story.id)]


async def closed(chat, prefix):
    return await chat.fake.wait_for(
        lambda: next((m for m in chat.posted() if m.content.startswith(prefix)), None), timeout=10
    )


async def test_a_full_passage_ballot(start_bot, chat, model, clock, fake_discord):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    posted = [m.content for m in chat.posted()]
    for emoji, text in zip(("1️⃣", "2️⃣", "3️⃣"), CANDIDATES, strict=True):
        assert f"**{emoji}**\n{text}" in posted
    assert list(ballot.reactions) == ["1️⃣", "2️⃣", "3️⃣", "🔁"]
    assert "Closes <t:" in ballot.content
    await fake_discord.react(ballot, "2️⃣", fake_discord.member("alice"))
    await fake_discord.react(ballot, "2️⃣", fake_discord.member("bob"))
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("owner"))
    await fake_discord.wait_for(lambda: "— ██ 2" in ballot.content)
    model.add("Mira finds a key.")
    clock.advance(121)
    winner = await closed(chat, "**§2** · chosen by vote (2)")
    assert CANDIDATES[1] in winner.content
    assert "**Closed:** 2️⃣ won with 2 votes." in ballot.content
    story, line = await line_of(bot, chat)
    assert line == [OPENING, CANDIDATES[1]]
    branches = await bot.engine.store.children(
        line_and_head := (await bot.engine.line(story.id))[0].id
    )
    assert sorted(p.text for p in branches) == sorted(CANDIDATES) and line_and_head


async def test_a_vote_change_a_withdrawal_and_bots_are_handled(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    robot = fake_discord.add_member(chat.channel.guild, "robot")
    robot.user.bot = True
    alice, bob = fake_discord.member("alice"), fake_discord.member("bob")
    await fake_discord.react(ballot, "1️⃣", alice)
    await fake_discord.react(ballot, "3️⃣", alice)
    await fake_discord.react(ballot, "1️⃣", bob)
    await fake_discord.unreact(ballot, "1️⃣", bob)
    for _ in range(3):
        await fake_discord.react(ballot, "1️⃣", robot)
    await fake_discord.wait_for(lambda: "3️⃣ the candidate above — █ 1" in ballot.content)
    stored = await bot.ballots.ballot_for_message(ballot.id)
    assert (await bot.ballots.tally(stored)).votes == {alice.user.id: "3️⃣"}
    model.add("Mira keeps watch.")
    clock.advance(121)
    await closed(chat, "**§2** · chosen by vote (1)")
    assert (await line_of(bot, chat))[1][-1] == CANDIDATES[2]


async def test_a_tie_goes_to_the_first_to_reach_it_and_silence_adds_nothing(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    await fake_discord.react(ballot, "3️⃣", fake_discord.member("bob"))
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("alice"))
    await fake_discord.wait_for(lambda: "1️⃣ the candidate above — █ 1" in ballot.content)
    model.add("Mira keeps watch.")
    clock.advance(121)
    await closed(chat, "**§2** · chosen by vote (1)")
    assert (await line_of(bot, chat))[1][-1] == CANDIDATES[2]
    silent = await open_ballot(chat, model, FRESH, number=2)
    clock.advance(121)
    await closed(chat, "🗳️ The ballot closed with no votes, so nothing was added.")
    assert "Closed with no votes" in silent.content
    assert (await line_of(bot, chat))[1] == [OPENING, CANDIDATES[2]]


async def test_quorum_and_vote_close_end_a_ballot_early(start_bot, chat, model, fake_discord):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    await chat.run("story settings", {"quorum": 2})
    ballot = await open_ballot(chat, model)
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("bob"))
    model.add("Mira keeps watch.")
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("owner"))
    await closed(chat, "**§2** · chosen by vote (2)")
    second = await open_ballot(chat, model, FRESH, number=2)
    await fake_discord.react(second, "2️⃣", fake_discord.member("bob"))
    refused = await chat.run("vote close", user="bob")
    assert refused.messages[0].ephemeral and refused.messages[0].content == (
        "Only the member who started this story or members with Manage Messages can close a ballot."
    )
    model.add("Mira keeps watch.")
    done = await chat.run("vote close", user="alice")
    assert done.messages[0].ephemeral
    await closed(chat, "**§3** · chosen by vote (1)")
    assert (await line_of(bot, chat))[1] == [OPENING, CANDIDATES[0], FRESH[1]]


async def test_next_while_a_ballot_is_open_links_to_it(start_bot, chat, model):
    await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    again = await chat.run("next", user="bob")
    assert again.messages[0].ephemeral
    assert again.messages[0].content.startswith("A passage ballot is already open here")
    assert str(ballot.id) in again.messages[0].content


async def test_renew_writes_fresh_candidates_in_a_new_ballot(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    await fake_discord.react(ballot, "🔁", fake_discord.member("bob"))
    await fake_discord.wait_for(lambda: "🔁 new candidates — █ 1" in ballot.content)
    model.add(*FRESH)
    clock.advance(121)
    await closed(chat, "🔁 None of these: writing new candidates…")
    fresh = await fake_discord.wait_for(
        lambda: (
            len(ballot_messages(chat)) == 2
            and len(ballot_messages(chat)[1].reactions) == 4
            and ballot_messages(chat)[1]
        )
    )
    assert f"**1️⃣**\n{FRESH[0]}" in [m.content for m in chat.posted()]
    story, line = await line_of(bot, chat)
    assert line == [OPENING]
    assert len(await bot.engine.store.children(story.head_id)) == 6
    await fake_discord.react(fresh, "3️⃣", fake_discord.member("alice"))
    model.add("Mira keeps watch.")
    clock.advance(121)
    await closed(chat, "**§2** · chosen by vote (1)")


async def test_a_steered_direction_wins_and_steers_the_next_passage(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot()
    await start_story(chat, model)
    model.add("1. A storm breaks.\n2. The lamp goes out.\n3. A ship appears.")
    await chat.run("directions")
    ballot = await fake_discord.wait_for(
        lambda: next(iter(ballot_messages(chat)), None), timeout=10
    )
    assert "A storm breaks." in ballot.content
    steer = {"text": "Mira's sister arrives by rowing boat."}
    added = await chat.run("steer", steer, user="bob")
    assert added.messages[0].content == "🧭 Added as 4️⃣: *Mira's sister arrives by rowing boat.*"
    await fake_discord.wait_for(lambda: "4️⃣" in ballot.reactions and "sister" in ballot.content)
    await fake_discord.react(ballot, "4️⃣", fake_discord.member("alice"))
    await fake_discord.react(ballot, "4️⃣", fake_discord.member("owner"))
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("bob"))
    clock.advance(121)
    await closed(chat, "🧭 The next passage will follow: *Mira's sister arrives by rowing boat.*")
    model.add("Her sister rowed in through the fog, shouting Mira's name.", "Mira keeps watch.")
    ix = await chat.run("next")
    assert "*Mira's sister arrives by rowing boat.*" in ix.messages[0].content
    assert "What happens next: Mira's sister arrives by rowing boat." in prompt_text(
        model.prompts[-2]
    )
    story, _ = await line_of(bot, chat)
    head = (await bot.engine.line(story.id))[-1]
    assert head.direction == "Mira's sister arrives by rowing boat."


async def test_tone_reactions_on_the_latest_passage_enter_the_next_prompt(
    start_bot, chat, model, fake_discord
):
    await start_bot()
    await start_story(chat, model)
    model.add(CANDIDATES[0], "Mira keeps watch.")
    ix = await chat.run("next")
    passage = ix.messages[0]
    for user, emoji in [("alice", "😱"), ("bob", "😱"), ("owner", "😱"), ("bob", "💬")]:
        await fake_discord.react(passage, emoji, fake_discord.member(user))
    await fake_discord.react(passage, "👍", fake_discord.member("alice"))
    await fake_discord.unreact(passage, "😱", fake_discord.member("owner"))
    model.add(CANDIDATES[1], "Mira keeps watch.")
    await chat.run("next")
    assert "Members asked for: more tension (2), more dialogue (1)" in prompt_text(
        model.prompts[-2]
    )


async def test_a_restart_mid_ballot_counts_votes_cast_while_down(
    start_bot, bot_runner, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("alice"))
    await fake_discord.wait_for(lambda: "1️⃣ the candidate above — █ 1" in ballot.content)
    await bot_runner.stop(bot)
    await fake_discord.react(ballot, "3️⃣", fake_discord.member("bob"))
    await fake_discord.react(ballot, "3️⃣", fake_discord.member("owner"))
    await fake_discord.unreact(ballot, "1️⃣", fake_discord.member("alice"))
    clock.advance(500)
    model.add("Mira keeps watch.")
    restarted = await start_bot(**VOTE)
    await closed(chat, "**§2** · chosen by vote (2)")
    assert (await line_of(restarted, chat))[1] == [OPENING, CANDIDATES[2]]


async def test_the_preference_export_of_a_story_with_several_ballots(
    start_bot, chat, model, clock, fake_discord, tmp_path
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    for number, (texts, emoji) in enumerate([(CANDIDATES, "2️⃣"), (FRESH, "1️⃣")], start=1):
        ballot = await open_ballot(chat, model, texts, number=number)
        await fake_discord.react(ballot, emoji, fake_discord.member("alice"))
        await fake_discord.wait_for(lambda b=ballot: "— █ 1" in b.content)
        model.add("Mira keeps watch.")
        clock.advance(121)
        await closed(chat, f"**§{number + 1}** · chosen by vote (1)")
    story, _ = await line_of(bot, chat)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AUTOMUSE_")}
    environ["AUTOMUSE_DB"] = str(tmp_path / "bot.db")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", str(story.id), "--format", "preferences"],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4
    pairs = {
        (r["preferred_output"][0]["content"], r["non_preferred_output"][0]["content"]) for r in rows
    }
    assert pairs == {
        (CANDIDATES[1], CANDIDATES[0]),
        (CANDIDATES[1], CANDIDATES[2]),
        (FRESH[0], FRESH[1]),
        (FRESH[0], FRESH[2]),
    }
    assert all(r["input"]["messages"][-1]["role"] == "user" for r in rows)
