import pytest

from bot.shards import ShardError, ShardPlan, parse_shard_count, parse_shard_ids, shard_of


def test_a_guild_belongs_to_the_shard_of_its_creation_time_bits():
    guild_id = 81384788765712384  # Discord's API guild, created 2015
    assert shard_of(guild_id, 1) == 0
    assert shard_of(guild_id, 2) == (guild_id >> 22) % 2
    assert {shard_of((n << 22) | 4095, 4) for n in range(8)} == {0, 1, 2, 3}


@pytest.mark.parametrize(
    ("text", "count", "ids"),
    [
        ("0-3", 4, (0, 1, 2, 3)),
        ("0,2", 4, (0, 2)),
        ("3, 0-1", 8, (0, 1, 3)),
        ("1-1", 2, (1,)),
        ("", 4, None),
    ],
)
def test_shard_ids_read_ranges_and_lists(text, count, ids):
    assert parse_shard_ids(text, count) == ids


@pytest.mark.parametrize(
    ("text", "count", "message"),
    [
        ("0-4", 4, "Shard ids must lie between 0 and 3 for 4 shards."),
        ("3-1", 4, "Shard ids must lie between 0 and 3 for 4 shards."),
        ("0-", 4, "Shard ids must look like 0-3 or 0,2, not '0-'."),
        ("a", 4, "Shard ids must look like 0-3 or 0,2, not 'a'."),
        ("-1", 4, "Shard ids must look like 0-3 or 0,2, not '-1'."),
        ("0", None, "Shard ids needs a shard count as well."),
    ],
)
def test_bad_shard_ids_get_one_sentence(text, count, message):
    with pytest.raises(ShardError) as error:
        parse_shard_ids(text, count)
    assert str(error.value) == message


@pytest.mark.parametrize("text", ["0", "-2", "two", "10001", "1.5"])
def test_a_shard_count_is_a_whole_number_from_one(text):
    with pytest.raises(ShardError):
        parse_shard_count(text)


def test_a_plan_serves_only_the_guilds_on_its_shards():
    even, odd = 2 << 22, 3 << 22
    assert ShardPlan(2, (0,)).serves(even) and not ShardPlan(2, (0,)).serves(odd)
    assert ShardPlan(2, (1,)).serves(odd) and not ShardPlan(2, (1,)).serves(even)
    assert ShardPlan(2, (0,)).serves(None) and not ShardPlan(2, (1,)).serves(None)
    assert ShardPlan().serves(odd) and ShardPlan(2, None).serves(odd)


def test_only_the_process_running_shard_zero_syncs_commands():
    assert ShardPlan().runs(0) and ShardPlan(4, None).runs(0) and ShardPlan(4, (0, 3)).runs(0)
    assert not ShardPlan(4, (1, 2)).runs(0)
    assert str(ShardPlan(4, (1, 2))) == "1, 2 of 4"
