"""Ballots, /steer, /vote close and tone nudges through the fake Discord."""

import asyncio
import itertools
import json
import os
import subprocess
import sys

import pytest
from conftest import OPENING
from discord_fake.state import Perm

from bot.ballots.tally import NUMBERS
from bot.llm import ModelError, prompt_text

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
    story = await bot.engine.stories.active_story(chat.channel.guild.id, chat.channel.id)
    return story, [p.text for p in await bot.engine.stories.line(story.id)]


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
    winner = await closed(chat, "**§2** · chosen by vote (2 votes)")
    assert CANDIDATES[1] in winner.content
    assert "**Closed:** 2️⃣ won with 2 votes." in ballot.content
    story, line = await line_of(bot, chat)
    assert line == [OPENING, CANDIDATES[1]]
    branches = await bot.engine.store.children(
        line_and_head := (await bot.engine.stories.line(story.id))[0].id
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
    await closed(chat, "**§2** · chosen by vote (1 vote)")
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
    await closed(chat, "**§2** · chosen by vote (1 vote)")
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
    await closed(chat, "**§2** · chosen by vote (2 votes)")
    second = await open_ballot(chat, model, FRESH, number=2)
    await fake_discord.react(second, "2️⃣", fake_discord.member("bob"))
    refused = await chat.run("vote close", user="bob")
    assert refused.messages[0].ephemeral and refused.messages[0].content == (
        "Only the member who started this story or members with Manage Messages can close a ballot."
    )
    model.add("Mira keeps watch.")
    done = await chat.run("vote close", user="alice")
    assert done.messages[0].ephemeral
    await closed(chat, "**§3** · chosen by vote (1 vote)")
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
    await closed(chat, "**§2** · chosen by vote (1 vote)")


async def direction_ballot(start_bot, chat, model, fake_discord):
    """The running bot and the message of a direction ballot on three options, opened with
    /directions on a new story."""
    bot = await start_bot()
    await start_story(chat, model)
    model.add("1. A storm breaks.\n2. The lamp goes out.\n3. A ship appears.")
    await chat.run("directions")
    ballot = await fake_discord.wait_for(
        lambda: next(iter(ballot_messages(chat)), None), timeout=10
    )
    return bot, ballot


async def test_a_steered_direction_wins_and_steers_the_next_passage(
    start_bot, chat, model, clock, fake_discord
):
    bot, ballot = await direction_ballot(start_bot, chat, model, fake_discord)
    assert "A storm breaks." in ballot.content
    steer = {"text": "Mira's sister arrives by rowing boat."}
    added = await chat.run("steer", steer, user="bob")
    assert added.messages[0].content == "🧭 Added as 4️⃣: *Mira's sister arrives by rowing boat.*"
    await fake_discord.wait_for(lambda: "4️⃣" in ballot.reactions and "sister" in ballot.content)
    await fake_discord.react(ballot, "4️⃣", fake_discord.member("alice"))
    await fake_discord.react(ballot, "4️⃣", fake_discord.member("owner"))
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("bob"))
    await fake_discord.wait_for(lambda: "— ██ 2" in ballot.content and "— █ 1" in ballot.content)
    clock.advance(121)
    await closed(chat, "🧭 The next passage will follow: *Mira's sister arrives by rowing boat.*")
    model.add("Her sister arrived, rowing her boat through the fog.", "Mira keeps watch.")
    ix = await chat.run("next")
    assert "*Mira's sister arrives by rowing boat.*" in ix.messages[0].content
    assert "What happens next: Mira's sister arrives by rowing boat." in prompt_text(
        model.prompts[-2]
    )
    story, _ = await line_of(bot, chat)
    head = (await bot.engine.stories.line(story.id))[-1]
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
    await closed(chat, "**§2** · chosen by vote (2 votes)")
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
        await closed(chat, f"**§{number + 1}** · chosen by vote (1 vote)")
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


async def test_a_deleted_ballot_still_ends_with_its_result_and_passage_posted(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    await fake_discord.react(ballot, "2️⃣", fake_discord.member("bob"))
    await fake_discord.wait_for(lambda: "2️⃣ the candidate above — █ 1" in ballot.content)
    await fake_discord.delete_message(ballot)
    model.add("summary")
    clock.advance(121)
    winner = await closed(chat, "**§2** · chosen by vote (1 vote)")
    assert CANDIDATES[1] in winner.content
    result = next(m for m in chat.posted() if m.content.startswith("🗳️ **Ballot"))
    assert "**Closed:** 2️⃣ won with 1 vote." in result.content
    assert (await line_of(bot, chat))[1] == [OPENING, CANDIDATES[1]]


async def test_a_steer_during_a_rate_limited_ballot_post_reaches_the_ballot(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot()
    await start_story(chat, model)
    fake_discord.limit_route("POST", "/channels/{channel_id}/messages", limit=1, per=2.0)
    warm_up = await bot.get_channel(chat.channel.id).send("The channel is busy.")
    model.add("1. A storm breaks.\n2. The lamp goes out.\n3. A ship appears.")
    directions = await fake_discord.invoke(
        "directions", user=fake_discord.member("alice"), channel=chat.channel
    )
    await fake_discord.wait_for(lambda: directions.messages)
    assert directions.messages[0].content.startswith("🧭 What happens next?")
    assert ballot_messages(chat) == []
    added = await chat.run("steer", {"text": "Mira's sister arrives."}, user="bob")
    assert added.messages[0].content == "🧭 Added as 4️⃣: *Mira's sister arrives.*"
    ballot = await fake_discord.wait_for(
        lambda: next(
            (
                m
                for m in ballot_messages(chat)
                if "4️⃣" in m.reactions and "Mira's sister arrives." in m.content
            ),
            None,
        ),
        timeout=10,
    )
    assert ballot.created - fake_discord.messages[warm_up.id].created >= 1.5
    assert list(ballot.reactions) == ["1️⃣", "2️⃣", "3️⃣", "4️⃣"]
    await fake_discord.react(ballot, "4️⃣", fake_discord.member("alice"))
    await fake_discord.wait_for(lambda: "— █ 1" in ballot.content)
    clock.advance(121)
    await closed(chat, "🧭 The next passage will follow: *Mira's sister arrives.*")


async def test_six_long_steers_keep_the_ballot_under_2000_characters(
    start_bot, chat, model, clock, fake_discord
):
    bot, ballot = await direction_ballot(start_bot, chat, model, fake_discord)
    steers = [(f"Idea {n}: " + "the fog thickens and a bell rings " * 10)[:300] for n in range(6)]
    replies = []
    for steer in steers:
        ix = await chat.run("steer", {"text": steer}, user="bob")
        replies.append(ix.messages[0])
    accepted = [r for r in replies if r.content.startswith("🧭 Added as")]
    refused = [r for r in replies if not r.content.startswith("🧭 Added as")]
    assert len(accepted) == 3 and not any(r.ephemeral for r in accepted)
    assert {r.content for r in refused} == {"This ballot is full; vote for one of its directions."}
    assert all(r.ephemeral for r in refused)
    await fake_discord.wait_for(
        lambda: all(steer in ballot.content for steer in steers[:3]) and "6️⃣" in ballot.reactions
    )
    assert len(ballot.content) <= 2000
    await fake_discord.react(ballot, "6️⃣", fake_discord.member("alice"))
    await fake_discord.wait_for(lambda: "— █ 1" in ballot.content)
    clock.advance(121)
    await closed(chat, f"🧭 The next passage will follow: *{steers[2]}*")
    assert "**Closed:** 6️⃣ won with 1 vote." in ballot.content
    assert len(ballot.content) <= 2000
    story, _ = await line_of(bot, chat)
    assert (await bot.engine.stories.story(story.id)).pending_direction == steers[2]


async def test_six_simultaneous_votes_edit_the_tally_at_most_once_per_interval(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    bot.ballot_refresh = 0.5
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    voters = [fake_discord.add_member(chat.channel.guild, f"voter{n}") for n in range(6)]
    before = len(ballot.edits)
    await asyncio.gather(
        *(fake_discord.react(ballot, NUMBERS[n % 3], voter) for n, voter in enumerate(voters))
    )
    await fake_discord.wait_for(
        lambda: all(f"{e} the candidate above — ██ 2" in ballot.content for e in NUMBERS[:3]),
        timeout=5,
    )
    await asyncio.sleep(1.0)
    edits = ballot.edits[before:]
    assert 1 <= len(edits) <= 3
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(edits)]
    assert all(gap >= 0.3 for gap in gaps), gaps  # paced, with room for a busy machine's jitter
    stored = await bot.ballots.ballot_for_message(ballot.id)
    assert (await bot.ballots.tally(stored)).counts == {"1️⃣": 2, "2️⃣": 2, "3️⃣": 2, "🔁": 0}


async def test_a_long_winner_keeps_its_header_on_its_own_line(
    start_bot, chat, model, clock, fake_discord, scenesim
):
    await start_bot(**VOTE)
    await start_story(chat, model)
    rows = (scenesim / "scenes.jsonl").read_text().splitlines()
    scenes = [json.loads(row)["completion"].removesuffix(" END").strip() for row in rows[:60]]
    prose = " ".join(scenes)
    openings = ["The wary cellar door creaked open.", "A gull cried.", "The lamp guttered."]
    long_texts = [
        f"Door {n}. {opening} " + prose[n * 2000 : n * 2000 + 1990]
        for n, opening in enumerate(openings)
    ]
    long_texts = [text.rsplit(".", 1)[0] + "." for text in long_texts]
    ballot = await open_ballot(chat, model, long_texts)
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("alice"))
    await fake_discord.wait_for(lambda: "1️⃣ the candidate above — █ 1" in ballot.content)
    model.add("summary")
    clock.advance(121)
    first = await closed(chat, "**§2** · chosen by vote")
    header, _, text = first.content.partition("\n")
    assert header == "**§2** · chosen by vote (1 vote)"
    assert text.startswith("Door 0. The wary cellar")
    assert all(len(m.content) <= 2000 for m in chat.posted())


async def test_a_restart_shows_the_re_read_tally_at_once_and_the_counts_are_explained(
    start_bot, bot_runner, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    assert "This tally is the count" in ballot.content
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("alice"))
    await fake_discord.wait_for(lambda: "1️⃣ the candidate above — █ 1" in ballot.content)
    await bot_runner.stop(bot)
    await fake_discord.unreact(ballot, "1️⃣", fake_discord.member("alice"))
    await fake_discord.react(ballot, "3️⃣", fake_discord.member("bob"))
    await start_bot(**VOTE)
    await fake_discord.wait_for(
        lambda: (
            "1️⃣ the candidate above —  0" in ballot.content
            and "3️⃣ the candidate above — █ 1" in ballot.content
        )
    )
    assert "Closes <t:" in ballot.content
    model.add("summary")
    clock.advance(121)
    await closed(chat, "**§2** · chosen by vote (1 vote)")
    bot_id = fake_discord.bot_user.id
    await fake_discord.wait_for(
        lambda: all(bot_id not in users for users in ballot.reactions.values())
    )
    assert ballot.reactions == {"3️⃣": [fake_discord.member("bob").id]}


async def test_the_winner_is_posted_before_its_summary_is_written(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    await fake_discord.react(ballot, "1️⃣", fake_discord.member("bob"))
    await fake_discord.wait_for(lambda: "1️⃣ the candidate above — █ 1" in ballot.content)
    model.latency = 1.0
    model.add("Mira meets a stranger.")
    clock.advance(121)
    await closed(chat, "**§2** · chosen by vote (1 vote)")
    story, _ = await line_of(bot, chat)
    assert (await bot.engine.stories.line(story.id))[-1].summary is None
    async with asyncio.timeout(5):
        while (await bot.engine.stories.line(story.id))[-1].summary is None:
            await asyncio.sleep(0.05)
    assert (await bot.engine.stories.line(story.id))[-1].summary == "Mira meets a stranger."


async def test_cleared_reactions_withdraw_their_votes_and_the_options_come_back(
    start_bot, chat, model, clock, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    ballot = await open_ballot(chat, model)
    alice, bob, owner = (fake_discord.member(name) for name in ("alice", "bob", "owner"))
    await fake_discord.react(ballot, "2️⃣", alice)
    await fake_discord.react(ballot, "2️⃣", bob)
    await fake_discord.react(ballot, "1️⃣", owner)
    await fake_discord.wait_for(lambda: "— ██ 2" in ballot.content)
    await fake_discord.clear_reactions(ballot, "2️⃣")
    await fake_discord.wait_for(lambda: "2️⃣" in ballot.reactions and "— ██ 2" not in ballot.content)
    stored = await bot.ballots.ballot_for_message(ballot.id)
    assert (await bot.ballots.tally(stored)).votes == {owner.user.id: "1️⃣"}
    assert ballot.reactions["2️⃣"] == [fake_discord.bot_member(chat.channel.guild).id]
    await fake_discord.clear_reactions(ballot)
    await fake_discord.wait_for(lambda: list(ballot.reactions) == ["1️⃣", "2️⃣", "3️⃣", "🔁"])
    assert (await bot.ballots.tally(stored)).votes == {}
    await fake_discord.wait_for(lambda: "— █ 1" not in ballot.content)
    clock.advance(121)
    await closed(chat, "🗳️ The ballot closed with no votes, so nothing was added.")
    assert (await line_of(bot, chat))[1] == [OPENING]


@pytest.mark.parametrize(
    ("denied", "named"),
    [
        (Perm.ADD_REACTIONS, "the Add Reactions permission"),
        (
            Perm.SEND_MESSAGES | Perm.ADD_REACTIONS,
            "the Send Messages and Add Reactions permissions",
        ),
    ],
)
async def test_a_ballot_without_its_permissions_is_refused_before_any_model_call(
    start_bot, chat, model, fake_discord, denied, named
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    [bot_role] = fake_discord.bot_member(chat.channel.guild).roles
    chat.channel.overwrites[bot_role.id] = (0, int(denied))
    calls = len(model.prompts)
    for command in ("next", "directions"):
        refused = (await chat.run(command)).messages[0]
        assert refused.ephemeral
        assert refused.content == (
            f"AutoMuse needs {named} in this channel to post a ballot;"
            " ask a moderator to grant it, or use solo mode."
        )
    assert len(model.prompts) == calls
    story, _ = await line_of(bot, chat)
    assert await bot.ballots.open_ballot(story.id, "passage") is None


async def test_a_permission_taken_away_while_writing_closes_the_ballot_and_says_so(
    start_bot, chat, model, fake_discord
):
    bot = await start_bot(**VOTE)
    await start_story(chat, model)
    guild = chat.channel.guild

    def last_candidate(prompt, sampling):
        chat.channel.overwrites[guild.id] = (0, int(Perm.ADD_REACTIONS))
        return CANDIDATES[2]

    model.add(*CANDIDATES[:2])
    model.fallback = last_candidate
    ix = await chat.run("next", replies=2)
    told = ix.messages[-1]
    assert told.ephemeral and told.content.startswith("The ballot could not be posted whole")
    [ballot] = ballot_messages(chat)
    assert ballot.content.endswith("**Closed:** this ballot could not be posted whole, so nothing"
                                   " was added.")  # fmt: skip
    story, line = await line_of(bot, chat)
    assert line == [OPENING]
    assert await bot.ballots.open_ballot(story.id, "passage") is None
    del chat.channel.overwrites[guild.id]
    model.fallback = None
    await open_ballot(chat, model, FRESH, number=2)


async def test_each_candidate_streams_into_its_own_message_which_becomes_the_candidate(
    start_bot, chat, model
):
    bot = await start_bot(**VOTE)
    bot.stream_interval = 0.25
    await start_story(chat, model)
    model.latency = 1.5
    await open_ballot(chat, model)
    shown = [m for m in chat.posted() if m.content.startswith(tuple(f"**{n}**" for n in NUMBERS))]
    assert [m.content for m in shown] == [
        f"**{emoji}**\n{text}" for emoji, text in zip(NUMBERS, CANDIDATES, strict=False)
    ]
    assert all(m.edits and m.edits[-1].content == m.content for m in shown), "drafts, edited"
    drafting = sorted(
        [m.created for m in shown] + [e.at for m in shown for e in m.edits if "✍️" in e.content]
    )
    assert len(drafting) > len(shown), "a draft grew while it was written"
    assert all(b - a >= 0.2 for a, b in itertools.pairwise(drafting)), "one change at a time"


async def test_the_drafts_of_a_failed_ballot_are_taken_down(start_bot, chat, model):
    bot = await start_bot(**VOTE)
    bot.stream_interval = 0.1
    await start_story(chat, model)
    model.latency = 1.0
    copied = OPENING[:-1] + " and then she sat down at the top to rest for a while."
    model.add(*CANDIDATES[:2], copied, ModelError("The model server took too long."))
    ix = await chat.run("next", timeout=20)
    assert "took too long" in ix.messages[0].content
    drafts = [m for m in chat.fake.messages.values() if m.content.startswith("**1️⃣** ✍️")]
    assert drafts and all(m.deleted for m in drafts)
