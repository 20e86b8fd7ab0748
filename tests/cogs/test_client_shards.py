"""The bot's shards: what it identifies as, and which process registers the commands."""

from discord_fake import FakeDiscord


async def test_a_process_without_shard_zero_leaves_the_commands_to_the_one_with_it(
    fake_discord: FakeDiscord, start_bot, bot_runner
) -> None:
    second = await start_bot(AUTOMUSE_SHARD_COUNT="2", AUTOMUSE_SHARD_IDS="1")
    assert fake_discord.identifies[-1]["shard"] == [1, 2]
    assert second.shard_ids == [1] and second.shard_count == 2
    assert fake_discord.registered_commands() == []
    await bot_runner.stop(second)

    first = await start_bot(AUTOMUSE_SHARD_COUNT="2", AUTOMUSE_SHARD_IDS="0")
    assert fake_discord.identifies[-1]["shard"] == [0, 2] and first.shard_ids == [0]
    assert {c["name"] for c in fake_discord.registered_commands()} >= {"next", "story"}


async def test_with_no_shard_settings_the_bot_runs_the_recommended_shards(
    fake_discord: FakeDiscord, start_bot
) -> None:
    bot = await start_bot()
    assert bot.shard_count == fake_discord.shard_count == 1 and bot.shard_ids is None
    assert fake_discord.identifies[-1]["shard"] == [0, 1]
    assert [guild.id for guild in bot.guilds] == list(fake_discord.guilds)
