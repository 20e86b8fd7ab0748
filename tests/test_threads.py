"""Threads: the questions an opening leaves open are kept, and every few passages the planner's
beat moves one on, then answers it."""

from bot import threads
from bot.beats import Beat
from bot.llm import prompt_text
from bot.store import Thread
from tests.test_engine_beats import BEAT, NO_BEAT, PASSAGE, started


def thread(id: int, advanced: int = 0) -> Thread:
    return Thread(id, 1, f"Question {id}?", "open", None, advanced, "")


def test_only_whole_questions_about_the_story_s_world_are_kept():
    answer = (
        "Here are some questions:\n1. Who sent the signal from the dead moon?\n"
        "2) Who sent the signal from the dead moon?\n- What does the story want us to feel?\n"
        "* Why?\n**What is in the sealed letter?**\nThe stranger wants something."
    )
    assert threads.questions(answer) == [
        "Who sent the signal from the dead moon?",
        "What is in the sealed letter?",
    ]


def test_a_thread_s_turn_comes_every_third_beat_to_the_thread_moved_least():
    open_threads = [thread(1, advanced=1), thread(2), thread(3)]
    assert threads.due(open_threads, 1) is None and threads.due(open_threads, 3) is None
    step = threads.due(open_threads, 2)
    assert step is not None and step.thread.id == 2 and not step.resolves
    assert "Question 2?" in step.kind
    last = threads.due([thread(4, advanced=threads.STEPS)], 5)
    assert last is not None and last.resolves and "answer" in last.kind
    assert threads.due([], 2) is None


def test_a_stored_beat_reads_back_and_an_unreadable_one_is_none():
    beat = Beat("Mira opened the letter.", 3, True)
    assert Beat.from_json(beat.to_json()) == beat
    assert Beat.from_json("") == Beat() == Beat.from_json("{not json") == Beat.from_json("[]")
    assert Beat().to_json() == ""


async def test_the_opening_s_questions_become_threads_and_the_first_beat_is_planned_ahead(
    engine, model, store
):
    story = await started(engine, model, ahead=(BEAT,))
    found = await store.threads(story.id)
    assert [t.text for t in found] == [
        "Who is Tom Reid waiting for?",
        "Why does Mira need the lantern?",
    ]
    opening = await store.passage(story.head_id)
    assert opening is not None and Beat.from_json(opening.planned).text == BEAT
    calls = len(await store.calls(story.id))
    model.add(PASSAGE, "A stranger brings Mira a letter.", *NO_BEAT)
    passage = await engine.next(story.id)
    assert passage.beat == BEAT
    after = [call.purpose for call in await store.calls(story.id)][calls:]
    assert after == ["passage", "summary", "plan"], "/next waits only for the writing"


async def test_a_member_s_direction_wins_over_the_beat_planned_ahead(engine, model):
    story = await started(engine, model, ahead=(BEAT,))
    direction = "Tom Reid wakes and rows for Portree."
    model.add("Tom Reid woke and rowed for Portree in the dark.", "Tom rows.", *NO_BEAT)
    passage = await engine.next(story.id, direction=direction)
    assert passage.beat == direction


async def test_the_second_beat_moves_a_thread_on_and_its_passage_is_counted(engine, model, store):
    story = await started(engine, model, ahead=(BEAT,))
    turn = "A fisherman told Mira that Tom Reid was waiting for his brother."
    model.add(PASSAGE, "A stranger brings Mira a letter.", turn)
    await engine.next(story.id)
    plan_prompt = prompt_text(model.prompts[-1])
    assert "Who is Tom Reid waiting for?" in plan_prompt, "the planner is given the thread"
    model.add(
        "At the quay a fisherman told Mira that Tom Reid was waiting for his brother.",
        "Tom waits for his brother.",
        *NO_BEAT,
    )
    passage = await engine.next(story.id)
    [first, _] = await store.threads(story.id)
    assert passage.beat == turn and passage.thread_id == first.id and not passage.resolves
    assert first.advanced == 1 and first.status == "open"


async def test_a_thread_that_had_its_steps_is_answered_and_closed(engine, model, store):
    story = await started(engine, model, ahead=(BEAT,))
    for found in await store.threads(story.id):
        if found.text.startswith("Who"):
            await store.close_thread(story.id, found.id)
    [lantern] = await store.threads(story.id)
    await store.database.fetch(
        "UPDATE threads SET advanced = ? WHERE id = ? RETURNING id", (threads.STEPS, lantern.id)
    )
    answer = "Mira lit the lantern because the lamp had failed and a ship was due."
    model.add(PASSAGE, "A stranger brings Mira a letter.", answer)
    await engine.next(story.id)
    assert "the answer to a question" in prompt_text(model.prompts[-1])
    model.add(
        "Mira lit the lantern, for the lamp had failed and a ship was due before dawn.",
        "Mira lights the lantern for a ship.",
        *NO_BEAT,
    )
    passage = await engine.next(story.id)
    assert passage.resolves and passage.thread_id == lantern.id
    assert await store.threads(story.id) == []


async def test_a_beat_planned_for_a_thread_since_closed_is_planned_again(engine, model, store):
    story = await started(engine, model, ahead=(BEAT,))
    turn = "A fisherman told Mira that Tom Reid was waiting for his brother."
    model.add(PASSAGE, "A stranger brings Mira a letter.", turn)
    await engine.next(story.id)
    for found in await store.threads(story.id):
        await store.close_thread(story.id, found.id)
    fresh = "A gale tore the boat from its mooring below the rock."
    model.add(fresh, "A gale tore Tom Reid's boat from its mooring below the rock.", "Gale.")
    model.add(*NO_BEAT)
    passage = await engine.next(story.id)
    assert passage.beat == fresh and passage.thread_id is None


async def test_a_thread_s_turn_is_kept_to_when_the_first_answer_cannot_be_used(
    engine, model, store
):
    story = await started(engine, model, ahead=(BEAT,))
    turn = "A fisherman told Mira that Tom Reid was waiting for his brother."
    model.add(PASSAGE, "A stranger brings Mira a letter.", "Sure! Here is a beat:", turn)
    await engine.next(story.id)
    assert "Who is Tom Reid waiting for?" in prompt_text(model.prompts[-1])
    head = await store.passage((await engine.stories.story(story.id)).head_id)
    assert head is not None and Beat.from_json(head.planned).thread_id is not None
