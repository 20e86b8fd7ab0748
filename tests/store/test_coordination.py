"""Leases, cooldowns and ballot closing as they hold across processes: each test opens two
stores on one database (two pools, or two SQLite connections), as two processes would."""

import asyncio

import pytest

from bot.store import Store
from tests.stories import stored_story


@pytest.fixture
async def two_stores(database_url):
    stores = [await Store.open(database_url) for _ in range(2)]
    yield stores
    for store in stores:
        await store.close()


async def test_a_lease_has_one_holder_until_it_expires_or_is_released(two_stores):
    first, second = two_stores
    story = await stored_story(first)
    assert await first.take_lease(story, "a", now=100.0, seconds=30)
    assert not await second.take_lease(story, "b", now=110.0, seconds=30)
    assert await second.lease_held(story, now=110.0)
    assert await first.renew_lease(story, "a", now=120.0, seconds=30)
    assert not await second.take_lease(story, "b", now=140.0, seconds=30)
    assert await second.take_lease(story, "b", now=150.0, seconds=30)
    assert not await first.renew_lease(story, "a", now=151.0, seconds=30)
    await first.release_lease(story, "a")
    assert await first.lease_held(story, now=151.0)
    await second.release_lease(story, "b")
    assert not await first.lease_held(story, now=151.0)
    assert await first.take_lease(story, "c", now=152.0, seconds=30)


async def test_concurrent_lease_takers_get_exactly_one_lease(two_stores):
    first, second = two_stores
    story = await stored_story(first)
    for round_number in range(20):
        now = 1000.0 + round_number * 100
        taken = await asyncio.gather(
            *(
                store.take_lease(story, f"{name}{round_number}", now=now, seconds=30)
                for store, name in ((first, "a"), (second, "b"), (first, "c"), (second, "d"))
            )
        )
        assert sorted(taken) == [False, False, False, True]


async def test_a_cooldown_refuses_until_it_has_passed_and_can_be_given_back(two_stores):
    first, second = two_stores
    assert await first.take_cooldown(1, 7, now=100.0, seconds=30) == (0.0, None)
    assert await second.take_cooldown(1, 7, now=110.0, seconds=30) == (20.0, 100.0)
    assert (await second.take_cooldown(2, 7, now=110.0, seconds=30))[0] == 0.0
    assert await second.take_cooldown(1, 7, now=131.0, seconds=30) == (0.0, 100.0)
    await second.restore_cooldown(1, 7, started=131.0, previous=100.0)
    assert await first.take_cooldown(1, 7, now=131.0, seconds=30) == (0.0, 100.0)
    await first.restore_cooldown(1, 7, started=131.0, previous=100.0)
    await first.restore_cooldown(1, 7, started=100.0, previous=None)
    assert await first.take_cooldown(1, 7, now=101.0, seconds=30) == (0.0, None)


async def test_concurrent_cooldown_takers_get_exactly_one(two_stores):
    first, second = two_stores
    results = await asyncio.gather(
        *(store.take_cooldown(1, 7, now=100.0, seconds=30) for store in (first, second) * 3)
    )
    assert sorted(wait for wait, _ in results) == [0.0, 30.0, 30.0, 30.0, 30.0, 30.0]


async def test_a_ballot_closes_exactly_once_however_many_try_at_once(two_stores):
    first, second = two_stores
    story = await stored_story(first)
    head = (await first.story(story)).head_id
    ballot = await first.create_ballot(
        story,
        "direction",
        head_id=head,
        opened_by=3,
        opened_at=0.0,
        deadline=1.0,
        quorum=0,
        options=[("🅰️", None, "A storm comes.", 3)],
    )
    closes = await asyncio.gather(
        *(
            store.close_ballot(
                ballot.id, closed_at=2.0, outcome="chosen", winner_id=None, pending_direction=d
            )
            for store, d in ((first, "one"), (second, "two"), (first, "three"), (second, "four"))
        )
    )
    assert sorted(closes) == [False, False, False, True]
    winner = ("one", "two", "three", "four")[closes.index(True)]
    assert (await second.story(story)).pending_direction == winner
