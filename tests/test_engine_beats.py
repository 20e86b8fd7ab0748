"""Beats and the continuity ledger through the engine: what each passage is written toward,
and what the story remembers."""

import pytest

from bot.beats import Beat, repeats
from bot.engine import Engine
from bot.errors import NotFound
from bot.llm import prompt_text
from bot.llm.scripted import ScriptedModel
from bot.planner import render_view
from bot.settings import StorySettings
from bot.store import NewPassage, Store

OPENING = "Mira climbed the lighthouse stairs with a lantern while Tom Reid slept in the boat."
BEAT = "A stranger rowed in from Portree with a letter for Mira."
PASSAGE = (
    "That evening a stranger rowed in from Portree. He climbed to the lamp room and gave Mira "
    "a letter sealed with black wax."
)
PLANNED = StorySettings(planner=True, style="chat")
NO_BEAT: tuple[str, ...] = ()
"""No answer for the planner: the model fails, so nothing is planned ahead."""
THREADS = "1. Who is Tom Reid waiting for?\n2. Why does Mira need the lantern?"


async def started(
    engine: Engine,
    model: ScriptedModel,
    settings: StorySettings = PLANNED,
    ahead: tuple[str, ...] = NO_BEAT,
):
    """A story from OPENING; with the planner on, the opening's threads are found and the
    first beat is planned ahead from `ahead`."""
    model.add("Mira climbs the lighthouse; Tom Reid sleeps.")
    if settings.planner and settings.chain != "original":
        model.add(THREADS, *ahead)
    return await engine.start(guild_id=1, channel_id=2, opening=OPENING, settings=settings)


def shared_start(first: str, second: str) -> str:
    """The longest text both start with."""
    length = next(
        (n for n, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
        min(len(first), len(second)),
    )
    return first[:length]


def purposes(calls) -> list[str]:
    return [call.purpose for call in calls]


async def test_with_no_direction_the_planner_s_beat_is_written_and_stored(engine, model, store):
    story = await started(engine, model)
    model.add(BEAT, PASSAGE, "A stranger brings Mira a letter.", *NO_BEAT)
    passage = await engine.next(story.id)
    assert passage.beat == BEAT and passage.direction == ""
    assert BEAT in prompt_text(model.prompts[-3]), "the chat writer is given the beat"
    assert purposes(await store.calls(story.id))[-4:] == ["plan", "passage", "summary", "plan"]


async def test_the_planner_writer_and_summariser_prompts_start_alike_one_after_another(
    engine, model
):
    """Each call starts with what the call before it started with, the summary included, so
    an embedded model reads that part once (llama.cpp reuses the longest common prefix)."""
    story = await started(engine, model, ahead=(BEAT,))
    summary = "A stranger brings Mira a letter from Portree."
    model.add(PASSAGE, summary, "Tom Reid found the letter on the stairs.")
    await engine.next(story.id)
    model.add("Tom Reid read the letter twice and burned it in the lamp.", "Tom burns it.")
    await engine.next(story.id)
    plan, write, summarise, plan_next, write_next = (prompt_text(p) for p in model.prompts[-7:-2])
    assert "Mira climbs the lighthouse; Tom Reid sleeps." in shared_start(plan, write)
    assert "Mira climbs the lighthouse; Tom Reid sleeps." in shared_start(write, summarise)
    assert summary in shared_start(plan_next, write_next)


async def test_a_passage_s_first_words_show_before_the_model_has_read_its_prompt(engine, model):
    story = await started(engine, model, ahead=(BEAT,))
    model.add(PASSAGE, "A stranger brings Mira a letter.")
    shown: list[str] = []
    calls = len(model.prompts)

    def progress(step) -> None:
        if step.text and not shown:
            shown.append(step.text)
            shown.append(str(len(model.prompts) - calls))

    await engine.next(story.id, progress=progress)
    assert shown == [f"{BEAT} ", "0"], "the lead is shown before the writer's call"


async def test_a_member_s_direction_is_the_beat_and_the_passage_opens_where_it_begins(
    engine, model, store
):
    story = await started(engine, model)
    direction = "Tom Reid wakes and rows for Portree."
    opening = "Tom Reid woke in the boat and took up the oars."
    calls = len(await store.calls(story.id))
    model.add(opening, "He rowed for Portree through the dark, the lamp behind him.", "Tom rows.")
    model.add(*NO_BEAT)
    passage = await engine.next(story.id, direction=direction)
    assert passage.beat == direction == passage.direction
    assert passage.text == f"{opening} He rowed for Portree through the dark, the lamp behind him."
    assert model.prompts[-3][-1] == {"role": "assistant", "content": opening}
    assert purposes(await store.calls(story.id))[calls:] == ["plan", "passage", "summary", "plan"]


async def test_a_voted_direction_comes_before_the_planner(engine, model, store):
    story = await started(engine, model, ahead=(BEAT,))
    await store.update_story(story.id, pending_direction="Tom Reid wakes and rows for Portree.")
    model.add("Tom Reid woke in the boat and took up the oars.", "He rowed away.", "Tom rows.")
    model.add(*NO_BEAT)
    passage = await engine.next(story.id)
    assert passage.beat == "Tom Reid wakes and rows for Portree."
    assert "Portree" in prompt_text(model.prompts[-4]) and BEAT not in passage.text


async def test_a_chat_passage_starts_with_its_beat_and_sees_only_the_end_of_the_last_one(
    engine, model
):
    story = await started(engine, model, ahead=(BEAT,))
    model.add(PASSAGE, "A stranger brings Mira a letter.", *NO_BEAT)
    passage = await engine.next(story.id)
    assert passage.text == f"{BEAT} {PASSAGE}"
    _, user, answer = model.prompts[-3]
    assert answer == {"role": "assistant", "content": BEAT}
    assert "The latest passage ended:" in user["content"] and BEAT in user["content"]


async def test_a_server_that_writes_the_beat_again_does_not_get_it_twice(engine, model):
    story = await started(engine, model, ahead=(BEAT,))
    model.add(f"{BEAT}\n{PASSAGE}", "A stranger brings Mira a letter.", *NO_BEAT)
    passage = await engine.next(story.id)
    assert passage.text == f"{BEAT} {PASSAGE}"


async def test_a_passage_that_misses_a_member_s_direction_is_written_again(engine, model):
    story = await started(engine, model, StorySettings(planner=False, style="chat"))
    direction = "A stranger rows in from Portree with a letter for Mira."
    model.add("Mira polished the great lens until it shone in the dusk light.")
    model.add(PASSAGE, "A stranger brings Mira a letter.")
    passage = await engine.next(story.id, direction=direction)
    assert passage.text == PASSAGE


async def test_with_the_planner_off_there_is_no_planned_beat(engine, model, store):
    story = await started(engine, model, StorySettings(planner=False, style="chat"))
    model.add(PASSAGE, "A stranger brings Mira a letter.")
    passage = await engine.next(story.id)
    assert passage.beat == ""
    assert purposes(await store.calls(story.id)) == ["summary", "passage", "summary"]


async def test_the_planner_never_proposes_a_recent_beat_again(engine, model):
    story = await started(engine, model)
    model.add(BEAT, PASSAGE, "A stranger brings Mira a letter.", *NO_BEAT)
    await engine.next(story.id)
    second = "Tom Reid woke and read the letter over Mira's shoulder."
    model.add(BEAT, second, "Tom Reid woke, read the letter over her shoulder and swore.")
    model.add("Tom reads the letter.", *NO_BEAT)
    passage = await engine.next(story.id)
    assert passage.beat == second
    assert BEAT in prompt_text(model.prompts[-4]), "the planner is shown the recent beats"


async def test_the_ledger_is_kept_from_the_opening_on_and_enters_the_context(engine, model):
    story = await started(engine, model)
    assert {e.name for e in await engine.edits.ledger(story.id)} >= {"Mira", "Tom Reid"}
    model.add(BEAT, PASSAGE, "A stranger brings Mira a letter.", *NO_BEAT)
    await engine.next(story.id)
    names = {e.name: e.kind for e in await engine.edits.ledger(story.id)}
    assert names["Portree"] in ("place", "character")
    model.add(
        "The stranger rowed back to Portree at dawn.",
        "At dawn the stranger rowed back to Portree, and Mira read the letter alone.",
        "He left.",
        *NO_BEAT,
    )
    await engine.next(story.id)
    assert "Tom Reid" in prompt_text(model.prompts[-3]), "the writer sees the ledger's cast"


async def test_a_wrong_ledger_entry_can_be_removed_for_good(engine, model):
    story = await started(engine, model)
    assert await engine.edits.remove_lore(story.id, "Tom Reid") == "ledger"
    model.add(BEAT, PASSAGE + " Tom Reid slept on.", "A stranger brings Mira a letter.", *NO_BEAT)
    await engine.next(story.id)
    assert "Tom Reid" not in {e.name for e in await engine.edits.ledger(story.id)}
    with pytest.raises(NotFound, match="no lore or ledger entry named Nobody"):
        await engine.edits.remove_lore(story.id, "Nobody")


async def test_members_lore_comes_before_the_ledger(engine, model):
    story = await started(engine, model)
    await engine.edits.add_lore(
        story.id, "character", "Tom Reid", "Tom", "The keeper's son, a liar."
    )
    model.add(BEAT, PASSAGE, "A stranger brings Mira a letter.", *NO_BEAT)
    await engine.next(story.id)
    prompt = prompt_text(model.prompts[-3])
    assert "The keeper's son, a liar." in prompt
    assert "Characters: Mira." in prompt or "Tom Reid," not in prompt.split("Characters:")[-1]


async def test_the_original_chain_keeps_no_ledger_and_plans_nothing(engine, model, store: Store):
    story = await started(engine, model, StorySettings(chain="original", style="completion"))
    model.add(PASSAGE, "A stranger brings Mira a letter.")
    passage = await engine.next(story.id)
    assert passage.beat == "" and await engine.edits.ledger(story.id) == []
    assert "plan" not in purposes(await store.calls(story.id))


async def test_a_planner_that_gives_nothing_usable_leaves_a_stock_event_with_the_cast(
    engine, model, store
):
    story = await started(engine, model, ahead=("-", "-", "-"))
    opening = await store.passage(story.head_id)
    assert opening is not None
    planned = Beat.from_json(opening.planned).text
    assert planned.startswith(("Mira ", "Tom Reid ")) or " Mira" in planned or "Tom Reid" in planned
    model.add(" She went to see.", "Something was there.")
    passage = await engine.next(story.id)
    assert passage.beat == planned and passage.text.startswith(planned)


async def test_a_beat_of_any_of_the_last_eight_passages_is_not_planned_again(engine, model, store):
    story = await started(engine, model)
    head = story.head_id
    for n in range(6):
        beat = BEAT if n == 0 else f"Day {n} passed on the island without a ship."
        passage = await store.append_passage(
            story.id, head, NewPassage(text=f"{PASSAGE} ({n})", beat=beat), []
        )
        head = passage.id
    story = await engine.stories.story(story.id)
    line = await engine.stories.line(story.id)
    _, _, view = await engine.reader.story_so_far(story, line)
    assert BEAT in view.beats, "six passages back"
    assert repeats("A stranger rowed in from Portree with a letter for Tom.", view.beats)
    assert BEAT not in render_view(view), "the prompt shows only the last four"
