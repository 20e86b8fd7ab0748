"""Threads: kept per story, moved on by the passages that become part of it, closed by the
one that resolves them or by a member."""

from bot.store import NewPassage, Store, Story


async def started(store: Store) -> Story:
    return await store.create_story(
        guild_id=1,
        channel_id=2,
        title="T",
        started_by=5,
        settings={},
        opening=NewPassage(text="A signal came from the dead moon.", summary="s0"),
    )


async def test_threads_are_listed_oldest_first_and_closed_ones_only_when_asked(store):
    story = await started(store)
    signal = await store.add_thread(story.id, "Who sent the signal?")
    letter = await store.add_thread(story.id, "What does the letter say?", opened_by=9)
    assert [t.text for t in await store.threads(story.id)] == [signal.text, letter.text]
    assert letter.opened_by == 9 and signal.opened_by is None and signal.status == "open"
    assert await store.close_thread(story.id, signal.id)
    assert not await store.close_thread(story.id, signal.id)
    assert not await store.close_thread(story.id + 1, letter.id)
    assert await store.threads(story.id) == [letter]
    assert [t.status for t in await store.threads(story.id, closed=True)] == ["closed", "open"]


async def test_a_passage_advances_its_thread_and_the_resolving_one_closes_it(store):
    story = await started(store)
    thread = await store.add_thread(story.id, "Who sent the signal?")
    first = await store.append_passage(
        story.id, story.head_id, NewPassage(text="A trace.", thread_id=thread.id)
    )
    assert first.thread_id == thread.id and not first.resolves
    [advanced] = await store.threads(story.id)
    assert advanced.advanced == 1 and advanced.status == "open"
    branches = await store.add_branches(
        story.id,
        first.id,
        [
            NewPassage(text="The answer.", thread_id=thread.id, resolves=True),
            NewPassage(text="Nothing."),
        ],
    )
    [still] = await store.threads(story.id)
    assert still.advanced == 1, "a candidate not chosen moves nothing on"
    await store.choose_branch(story.id, first.id, branches[0].id, None)
    assert await store.threads(story.id) == []
    [closed] = await store.threads(story.id, closed=True)
    assert closed.advanced == 2 and closed.status == "closed"


async def test_the_plan_for_the_next_passage_is_kept_with_the_passage(store):
    story = await started(store)
    await store.set_plan(story.head_id, '{"text": "A ship lands."}')
    opening = await store.passage(story.head_id)
    assert opening is not None and opening.planned == '{"text": "A ship lands."}'


async def test_an_undone_or_retried_passage_takes_back_its_step_and_its_answer(store):
    story = await started(store)
    thread = await store.add_thread(story.id, "Who sent the signal?")
    step = NewPassage(text="A trace.", thread_id=thread.id)
    first = await store.append_passage(story.id, story.head_id, step)
    answer = NewPassage(text="The answer.", thread_id=thread.id, resolves=True)
    second = await store.append_passage(story.id, first.id, answer)
    assert await store.threads(story.id) == []
    await store.move_head(story.id, second.id, first.id)
    [reopened] = await store.threads(story.id)
    assert reopened.advanced == 1 and reopened.status == "open"
    await store.append_passage(story.id, first.id, step, parent_id=story.head_id)
    [retried] = await store.threads(story.id)
    assert retried.advanced == 1, "the retried step is counted once"
