import asyncio
import time

import pytest

from bot.config import load_settings
from bot.engine import Engine, EngineConfig
from bot.errors import Busy, CoolingDown, GenerationFailed, InvalidInput, NotFound
from bot.llm import ModelError, Models, prompt_text
from bot.llm.scripted import ScriptedModel
from bot.progress import Step
from bot.prompts import render
from bot.settings import StorySettings
from bot.store import NewPassage, Store
from tests.stories import SCRIPTED_CONFIG

OPENING = "Mira climbed the lighthouse stairs with a lantern, counting the steps as she went."
P1 = "At the top she found the lamp room door open and a stranger polishing the great lens."
P2 = "The stranger turned, and Mira saw that his eyes were the colour of the winter sea."


async def started(engine: Engine, model: ScriptedModel, **kwargs):
    model.add("Mira climbs the lighthouse.")
    return await engine.start(guild_id=1, channel_id=2, opening=OPENING, started_by=7, **kwargs)


async def test_start_from_an_opening_stores_it_with_its_summary(engine, model):
    story = await started(engine, model, title="The Lamp")
    [opening] = await engine.stories.line(story.id)
    assert (opening.text, opening.summary, opening.author_id) == (
        OPENING,
        "Mira climbs the lighthouse.",
        7,
    )
    assert story.title == "The Lamp" and story.started_by == 7
    assert [c.purpose for c in await engine.store.calls(story.id)] == ["summary"]


async def test_start_from_a_premise_has_the_model_write_the_opening(engine, model):
    model.add("  The fog came in at noon and did not leave.  ", "Fog arrives.")
    story = await engine.start(guild_id=1, channel_id=2, premise="A town lost in fog.")
    [opening] = await engine.stories.line(story.id)
    assert opening.text == "The fog came in at noon and did not leave."
    assert opening.author_id is None and opening.model == "scripted"
    assert "A town lost in fog." in prompt_text(model.prompts[0])
    assert story.memory == "A town lost in fog."
    model.add("It rained on the fog.", "Rain.")
    story = await engine.start(
        guild_id=1, channel_id=3, premise="A town lost in fog.", memory="Nobody leaves."
    )
    assert story.memory == "Nobody leaves."


async def test_start_with_both_keeps_the_premise_as_memory(engine, model):
    story = await started(engine, model, premise="Lighthouses hide doors.")
    assert story.memory == "Lighthouses hide doors."


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Give an opening or a premise"),
        ({"opening": "   "}, "Give an opening or a premise"),
        ({"opening": "x" * 4001}, "limit is 4,000"),
        ({"premise": "x" * 1001}, "limit is 1,000"),
    ],
)
async def test_start_refuses_bad_input_and_stores_nothing(engine, model, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        await engine.start(guild_id=1, channel_id=2, **kwargs)
    assert await engine.store.stories() == []
    assert model.prompts == []


async def test_a_channel_has_one_active_story(engine, model):
    await started(engine, model)
    with pytest.raises(InvalidInput, match="already has a story"):
        await engine.start(guild_id=1, channel_id=2, opening="Another.")


async def test_next_appends_a_passage_with_its_rolling_summary(engine, model):
    story = await started(engine, model)
    model.add(P1, "Mira meets a stranger at the top.")
    passage = await engine.next(story.id, direction="Introduce a stranger", requested_by=9)
    assert (passage.text, passage.summary, passage.direction, passage.requested_by) == (
        P1,
        "Mira meets a stranger at the top.",
        "Introduce a stranger",
        9,
    )
    assert passage.author_id is None and not passage.looped
    sent = prompt_text(model.prompts[1])
    assert "Story so far: Mira climbs the lighthouse." in sent
    assert "What happens next: Introduce a stranger" in sent
    assert OPENING in sent
    summary_prompt = prompt_text(model.prompts[2])
    assert "Mira climbs the lighthouse." in summary_prompt and P1 in summary_prompt
    assert [p.text for p in await engine.stories.line(story.id)] == [OPENING, P1]
    purposes = [c.purpose for c in await engine.store.calls(story.id)]
    assert purposes == ["summary", "passage", "summary"]


async def test_completion_style_sends_the_fine_tuning_format_after_the_ledger(engine, model):
    story = await started(engine, model, settings=StorySettings(planner=False, style="completion"))
    model.add(f" {P1} END", "Mira meets a stranger.")
    passage = await engine.next(story.id)
    assert passage.text == P1
    assert model.prompts[1] == (
        f"[Known so far: Characters: Mira.]\nMira climbs the lighthouse. {OPENING}"
        "\n\nNEXT PARAGRAPH:"
    )
    assert model.samplings[1].stop == ("END",)


async def test_completion_style_puts_memory_and_notes_in_brackets_before_the_story(engine, model):
    story = await started(engine, model, settings=StorySettings(planner=False, style="completion"))
    await engine.edits.set_memory(story.id, "Mira is afraid of heights.")
    await engine.edits.set_note(story.id, "Keep it eerie.")
    model.add(P1, "s")
    await engine.next(story.id)
    assert model.prompts[1] == (
        "[Always remember: Mira is afraid of heights.]\n[Known so far: Characters: Mira.]\n"
        "[Author's note: Keep it eerie.]\n"
        f"Mira climbs the lighthouse. {OPENING}\n\nNEXT PARAGRAPH:"
    )


async def test_lore_enters_the_prompt_only_when_its_keywords_come_up(engine, model):
    story = await started(engine, model)
    await engine.edits.add_lore(
        story.id, "place", "The Lamp Room", "lamp room, lens", "Glass walls."
    )
    await engine.edits.add_lore(story.id, "character", "Old Tom", "tom", "The last keeper.")
    model.add(P1, "s1")
    await engine.next(story.id)
    assert "Glass walls." not in prompt_text(model.prompts[1])
    model.add(P2, "s2")
    await engine.next(story.id)
    sent = prompt_text(model.prompts[3])
    assert "About the place The Lamp Room: Glass walls." in sent
    assert "Old Tom" not in sent


async def test_a_copying_passage_is_regenerated_with_counter_measures(engine, model):
    story = await started(engine, model)
    model.add(OPENING, P1, "Mira meets a stranger.")
    passage = await engine.next(story.id)
    assert passage.text == P1 and not passage.looped
    retry_prompt = prompt_text(model.prompts[2])
    assert "Do not reuse these words" in retry_prompt
    assert "mira climbed the lighthouse stairs" in retry_prompt
    assert model.samplings[2].temperature > model.samplings[1].temperature
    assert model.samplings[2].frequency_penalty > model.samplings[1].frequency_penalty
    purposes = [c.purpose for c in await engine.store.calls(story.id)]
    assert purposes == ["summary", "passage", "passage", "summary"]


async def test_a_retelling_is_regenerated_told_to_move_on(engine, model):
    opening = (
        "Agnes woke in the cold cottage and found the fire out. She pulled on her boots, walked "
        "down to the harbour and watched the ferry leave without her brother, who had promised "
        "to wait for her until the morning tide."
    )
    retold = (
        "Agnes felt a mix of relief and dread as she woke in the cottage, cold, the fire out. "
        "Pulling on her boots she walked to the harbour, where the ferry was leaving without "
        "her brother, though he had promised to wait until the morning tide."
    )
    onward = (
        "By noon the storm had reached the island. A stranger in a grey coat knocked at the "
        "inn, asking for a room and for anyone who knew the way to the old lighthouse."
    )
    model.add("Agnes misses the ferry.")
    story = await engine.start(guild_id=1, channel_id=2, opening=opening, started_by=7)
    model.add(retold, onward, "A stranger arrives.")
    passage = await engine.next(story.id)
    assert passage.text == onward
    assert "Do not tell again what the story has already told" in prompt_text(model.prompts[2])
    assert "Do not tell again" not in prompt_text(model.prompts[1])


async def test_when_every_attempt_loops_the_least_repetitive_is_kept_and_marked(engine, model):
    story = await started(engine, model)
    await engine.edits.add_lore(story.id, "character", "Old Tom", "tom", "The last keeper.")
    half_copy = "Then something new happened to her at last. " + OPENING
    model.add(OPENING, "word " * 60, half_copy, "Mira meets a stranger.")
    passage = await engine.next(story.id)
    assert passage.text == half_copy and passage.looped
    assert "Old Tom" in prompt_text(model.prompts[3])


@pytest.mark.parametrize("empty", ["", "   \n ", "END", " END "])
async def test_empty_answers_are_retried_then_refused_and_nothing_is_stored(engine, model, empty):
    story = await started(engine, model)
    model.add(empty, empty, empty)
    with pytest.raises(GenerationFailed, match="no text"):
        await engine.next(story.id)
    assert [p.text for p in await engine.stories.line(story.id)] == [OPENING]
    calls = await engine.store.calls(story.id)
    assert [c.error for c in calls[1:]] == ["empty answer"] * 3


async def test_an_empty_answer_then_a_real_one_succeeds(engine, model):
    story = await started(engine, model)
    model.add("END", P1, "s")
    assert (await engine.next(story.id)).text == P1


async def test_a_model_failure_leaves_the_story_unchanged_and_is_logged(engine, model):
    story = await started(engine, model)
    model.add(ModelError("The model server could not be reached."))
    with pytest.raises(GenerationFailed, match="could not be reached"):
        await engine.next(story.id)
    assert (await engine.stories.story(story.id)).head_id == story.head_id
    assert (await engine.store.calls(story.id))[
        -1
    ].error == "The model server could not be reached."


async def test_a_failing_summary_keeps_the_passage_and_is_retried_before_the_next(engine, model):
    story = await started(engine, model)
    model.add(P1, ModelError("The model server took too long to answer."))
    passage = await engine.next(story.id)
    assert passage.summary is None
    assert [p.text for p in await engine.stories.line(story.id)] == [OPENING, P1]
    model.add("Mira meets a stranger.", P2, "A bell rings.")
    second = await engine.next(story.id)
    assert "Mira meets a stranger." in prompt_text(model.prompts[-2])
    assert [p.summary for p in await engine.stories.line(story.id)][1:] == [
        "Mira meets a stranger.",
        "A bell rings.",
    ]
    assert second.text == P2


async def test_progress_reports_each_step_and_streams_the_passage(engine, model):
    story = await started(engine, model)
    steps: list[Step] = []
    model.add(P1)
    passage = await engine.next(story.id, progress=steps.append, summarize=False)
    assert passage.summary is None
    streamed = [s.text for s in steps if s.stage == "writing"]
    assert streamed[-1] == P1 and len(streamed) == len(P1.split())
    assert steps[-1].stage == "checking"
    model.add("Mira meets a stranger.")
    assert await engine.summarize(story.id, steps.append)
    assert steps[-1].stage == "summarising"
    assert (await engine.stories.line(story.id))[-1].summary == "Mira meets a stranger."
    assert await engine.summarize(story.id)  # nothing pending: no model call (none is queued)
    model.add(
        P2,
        "Far below, a bell began to ring, though no ship had passed the rocks in years.",
        "A gull crashed through the window and dropped a brass key at her feet.",
    )
    steps.clear()
    await engine.candidates(story.id, 3, progress=steps.append)
    numbered = [(s.number, s.total) for s in steps if s.stage == "writing" and not s.text]
    assert numbered == [(1, 3)]


async def test_two_concurrent_next_calls_append_once_and_refuse_the_other(store):
    model = ScriptedModel(latency=0.05)
    engine = Engine(store, Models(model, model), SCRIPTED_CONFIG)
    story = await started(engine, model)
    model.add(P1, "s1", P2, "s2")
    results = await asyncio.gather(
        engine.next(story.id), engine.next(story.id), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Busy", "Passage"]
    assert [p.text for p in await engine.stories.line(story.id)] == [OPENING, P1]
    busy = next(r for r in results if isinstance(r, Busy))
    assert str(busy) == "A passage is already being written for this story."


async def test_two_engines_on_one_database_never_both_append(store):
    model = ScriptedModel(latency=0.05)
    first = Engine(store, Models(model, model), SCRIPTED_CONFIG)
    second = Engine(store, Models(model, model), SCRIPTED_CONFIG)
    story = await started(first, model)
    model.add(P1, P2, "s1", "s2")
    results = await asyncio.gather(
        first.next(story.id), second.next(story.id), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Busy", "Passage"]
    assert len(await first.stories.line(story.id)) == 2


async def test_a_second_writer_is_refused_before_any_model_call(database_url):
    model = ScriptedModel(latency=0.05)
    stores = [await Store.open(database_url) for _ in range(2)]
    try:
        first, second = (Engine(store, Models(model, model), SCRIPTED_CONFIG) for store in stores)
        story = await started(first, model)
        model.add(P1, "s1", P2, "s2")
        results = await asyncio.gather(
            first.next(story.id), second.next(story.id), return_exceptions=True
        )
        assert sorted(type(r).__name__ for r in results) == ["Busy", "Passage"]
        assert len(model.prompts) == 3
        assert [c.response for c in await first.store.calls(story.id)] == [
            "Mira climbs the lighthouse.",
            P1,
            "s1",
        ]
        assert not await first.store.lease_held(story.id, time.time())
    finally:
        for store in stores:
            await store.close()


async def test_the_losing_writers_model_calls_are_logged_and_counted(database_url):
    model = ScriptedModel(latency=0.2)
    store = await Store.open(database_url)
    try:
        engine = Engine(store, Models(model, model), SCRIPTED_CONFIG)
        story = await started(engine, model)
        before = await engine.stories.tokens_used_today(1)
        model.add(P1)

        async def meanwhile() -> None:
            await asyncio.sleep(0.1)
            await store.append_passage(story.id, story.head_id, NewPassage(text=P2))

        lost, _ = await asyncio.gather(engine.next(story.id), meanwhile(), return_exceptions=True)
        assert isinstance(lost, Busy) and "nothing was added" in str(lost)
        calls = (await store.calls(story.id))[1:]
        assert [c.response for c in calls] == [P1]
        spent = sum(c.prompt_tokens + c.completion_tokens for c in calls)
        assert spent > 0 and await engine.stories.tokens_used_today(1) == before + spent
    finally:
        await store.close()


async def test_candidates_are_branches_until_one_is_committed(engine, model):
    story = await started(engine, model)
    model.add(P1, P2, "A wholly different thing happened in the cellar below.")
    options = await engine.candidates(story.id, 3, direction="Something strange")
    assert [c.text for c in options][:2] == [P1, P2]
    assert all(c.summary is None and c.parent_id == story.head_id for c in options)
    assert (await engine.stories.story(story.id)).head_id == story.head_id
    model.add("Mira meets the stranger.")
    chosen = await engine.commit(story.id, options[1].id)
    assert chosen.summary == "Mira meets the stranger." and chosen.direction == "Something strange"
    assert [p.text for p in await engine.stories.line(story.id)] == [OPENING, P2]
    assert len(await engine.store.children(story.head_id)) == 3
    with pytest.raises(InvalidInput, match="no longer follows"):
        await engine.commit(story.id, options[0].id)


async def test_undo_and_retry_move_the_head_and_never_delete_text(engine, model):
    story = await started(engine, model)
    with pytest.raises(InvalidInput, match="nothing to undo"):
        await engine.undo(story.id)
    model.add(P1, "s1")
    first = await engine.next(story.id)
    model.add(P2, "s2")
    retried = await engine.retry(story.id)
    assert retried.parent_id == first.parent_id and retried.text == P2
    assert [p.text for p in await engine.stories.line(story.id)] == [OPENING, P2]
    head = await engine.undo(story.id)
    assert head.text == OPENING
    assert [p.text for p in await engine.store.children(head.id)] == [P1, P2]


async def test_recap_and_directions_use_the_summary_and_parse_a_numbered_list(engine, model):
    story = await started(engine, model)
    model.add("Previously: Mira climbed.")
    assert await engine.asides.recap(story.id) == "Previously: Mira climbed."
    model.add("1. A storm breaks.\n2) The lamp goes out.\n- A ship appears.\nThat's all.")
    assert await engine.asides.directions(story.id, 3) == [
        "A storm breaks.",
        "The lamp goes out.",
        "A ship appears.",
    ]
    assert "Suggest 3 different things" in prompt_text(model.prompts[-1])


async def test_directions_that_cannot_be_parsed_fail_plainly(engine, model):
    story = await started(engine, model)
    model.add("I cannot help.", "Still no list.")
    with pytest.raises(GenerationFailed, match="usable directions"):
        await engine.asides.directions(story.id, 3)


async def test_settings_are_validated_and_kept_per_story(engine, model):
    story = await started(engine, model)
    assert (await engine.edits.update_settings(story.id, temperature=1.1)).temperature == 1.1
    with pytest.raises(InvalidInput, match="Temperature"):
        await engine.edits.update_settings(story.id, temperature=3)
    with pytest.raises(InvalidInput, match="Unknown setting"):
        await engine.edits.update_settings(story.id, colour="blue")
    assert StorySettings.of(await engine.stories.story(story.id)).temperature == 1.1


async def test_lore_input_is_checked(engine, model):
    story = await started(engine, model)
    with pytest.raises(InvalidInput, match="kind"):
        await engine.edits.add_lore(story.id, "spell", "Fire", "fire", "Hot.")
    entry = await engine.edits.add_lore(story.id, "Thing", "The Lens", "", "Huge.")
    assert entry.kind == "thing" and entry.keywords == ("the lens",)
    with pytest.raises(InvalidInput, match="already has a lore entry"):
        await engine.edits.add_lore(story.id, "thing", "the lens", "lens", "Again.")
    with pytest.raises(NotFound):
        await engine.edits.remove_lore(story.id, "Nothing")


async def test_unknown_and_ended_stories_are_refused(engine, model):
    with pytest.raises(NotFound, match="no story with id 99"):
        await engine.next(99)
    story = await started(engine, model)
    await engine.end(story.id)
    with pytest.raises(InvalidInput, match="has ended"):
        await engine.next(story.id)
    with pytest.raises(NotFound):
        await engine.stories.active_story(1, 2)


async def test_ids_no_story_can_have_are_refused_before_any_lease(engine, model):
    for operation in (engine.next, engine.retry, engine.undo, engine.summarize):
        with pytest.raises(NotFound, match="no story with id"):
            await operation(2**70)
    with pytest.raises(NotFound):
        await engine.locks.ensure_idle(-1)
    assert model.prompts == []


async def test_text_that_is_not_valid_unicode_is_refused_and_nothing_is_stored(engine, model):
    with pytest.raises(InvalidInput, match="not valid text"):
        await engine.start(guild_id=1, channel_id=2, opening="bad \ud800 text")
    story = await started(engine, model)
    with pytest.raises(InvalidInput, match="not valid text"):
        await engine.edits.set_memory(story.id, "half \udfff a pair")
    assert (await engine.stories.story(story.id)).memory == ""
    assert len(await engine.store.stories()) == 1


async def test_a_setting_of_the_wrong_kind_is_refused(engine, model):
    story = await started(engine, model)
    with pytest.raises(InvalidInput, match="candidates must be a whole number"):
        await engine.edits.update_settings(story.id, candidates="3")
    with pytest.raises(InvalidInput, match="planner must be on or off"):
        await engine.edits.update_settings(story.id, planner="no")
    with pytest.raises(InvalidInput, match="quorum must be a whole number"):
        await engine.edits.update_settings(story.id, quorum=True)
    assert (await engine.edits.update_settings(story.id, temperature=1)).temperature == 1
    assert StorySettings.of(await engine.stories.story(story.id)).candidates == 3


async def test_an_oversized_direction_is_refused_before_any_model_call(engine, model):
    story = await started(engine, model)
    with pytest.raises(InvalidInput, match="direction"):
        await engine.next(story.id, direction="x" * 301)
    assert len(model.prompts) == 1


async def test_the_original_chain_sends_exactly_what_the_original_experiment_sent(
    engine, model, scenesim
):
    """Replays the logged run: every prompt must match the experiment's model logs."""
    logs = sorted((scenesim / "model_logs").glob("*.txt"))[:6]
    calls = [log.read_text().split("\n\n==========\n\n") for log in logs]
    model.add(*(response.strip() for _, response in calls))
    opening = (scenesim / "story_run" / "00_opening.txt").read_text().strip()
    story = await engine.start(
        opening=opening, settings=StorySettings(chain="original", style="completion")
    )
    for _ in range(3):
        await engine.next(story.id)
    assert [prompt_text(p) for p in model.prompts] == [prompt.rstrip() for prompt, _ in calls]
    assert model.samplings[0].temperature == 0.7 and model.samplings[0].stop == ("END",)


async def test_a_passage_asked_for_during_a_summary_waits_for_it_instead_of_being_refused(store):
    model = ScriptedModel(latency=0.1)
    engine = Engine(store, Models(model, model), SCRIPTED_CONFIG)
    story = await started(engine, model)
    model.add(P1)
    await engine.next(story.id, summarize=False)
    model.add("Mira meets a stranger.", P2, "A bell rings.")
    steps: list[Step] = []
    summarized, passage = await asyncio.gather(
        engine.summarize(story.id), engine.next(story.id, progress=steps.append)
    )
    assert summarized and passage.text == P2
    assert steps[0].stage == "summarising", "the waiting request says what it waits for"
    assert [p.summary for p in await engine.stories.line(story.id)][1:] == [
        "Mira meets a stranger.",
        "A bell rings.",
    ]


async def test_the_faults_left_in_the_kept_attempt_are_stored_with_the_passage(engine, model):
    story = await started(engine, model)
    drifting = (
        "You climb after her and you feel the cold on your face. You count the steps as she did, "
        "and you wonder who is whistling up there, and why your hands are shaking so much now. "
        "Your lantern gutters in the draught from the open door above you."
    )
    model.add(drifting, drifting, drifting, "Mira hears whistling.")
    passage = await engine.next(story.id)
    assert passage.faults == ("person",)
    assert (await engine.stories.line(story.id))[-1].faults == ("person",)
    sent = [prompt_text(p) for p in model.prompts[1:4]]
    assert all("third person" in prompt for prompt in sent[1:])


async def test_prose_style_sends_the_story_as_a_book_to_continue(engine, model):
    story = await started(
        engine, model, title="The Lamp", settings=StorySettings(planner=False, style="prose")
    )
    await engine.edits.set_memory(story.id, "Mira is afraid of heights.")
    lead = "A stranger was waiting at the top of the stairs."
    rest = f"{P1} {P2} Neither of them spoke, and the lamp turned slowly above them."
    model.add(lead, rest, "Mira meets a stranger.")
    passage = await engine.next(story.id, direction="a stranger appears")
    assert passage.text == f"{lead} {rest}" and len(model.prompts) == 4
    assert "a stranger appears" in prompt_text(model.prompts[1])
    assert model.prompts[2] == (
        "The Lamp\n\nMira is afraid of heights.\n\nCharacters: Mira.\n\n"
        "Previously: Mira climbs the lighthouse.\n\n"
        f"In this chapter: a stranger appears\n\n* * *\n\n{OPENING}\n\n{lead}"
    )
    assert passage.beat == "a stranger appears"


def test_the_auto_style_is_the_one_the_models_take():
    scripted = ScriptedModel()
    models = Models(scripted, scripted, style="prose", summary_style="chat")
    auto = EngineConfig.from_settings(load_settings(environ={}, env_file=None), models=models)
    assert auto.story_defaults.style == "prose" and auto.summary_style == "chat"
    chosen = load_settings(environ={"AUTOMUSE_STYLE": "completion"}, env_file=None)
    assert EngineConfig.from_settings(chosen, models=models).story_defaults.style == "completion"
    assert EngineConfig.from_settings(chosen, "chat", models).story_defaults.style == "chat"


INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"opening": INVISIBLE}, "The opening has no visible characters."),
        ({"opening": "\x00"}, "Give an opening or a premise to start a story."),
        ({"premise": " \u200b \u3164 "}, "The premise has no visible characters."),
        ({"opening": OPENING, "title": "\u200b\u200b"}, "The title has no visible characters."),
    ],
)
async def test_invisible_input_is_refused_before_any_model_call(engine, model, kwargs, message):
    with pytest.raises(InvalidInput) as refused:
        await engine.start(guild_id=1, channel_id=2, **kwargs)
    assert str(refused.value) == message
    assert await engine.store.stories() == []
    assert model.prompts == []


async def test_invisible_story_text_is_refused_and_changes_nothing(engine, model):
    story = await started(engine, model)
    for change in (
        lambda: engine.edits.set_memory(story.id, INVISIBLE),
        lambda: engine.edits.set_note(story.id, "\x00\u200b"),
        lambda: engine.next(story.id, direction=INVISIBLE),
        lambda: engine.edits.add_lore(story.id, "thing", "\x00", "", "A lens."),
        lambda: engine.edits.add_lore(story.id, "thing", "Lens", "", "\x00"),
        lambda: engine.edits.add_lore(story.id, "thing", "Lens", "", INVISIBLE),
    ):
        with pytest.raises(InvalidInput, match=r"^The [a-z' ]+ (is empty|has no visible char)"):
            await change()
    after = await engine.stories.story(story.id)
    assert (after.memory, after.note, await engine.edits.lore(story.id)) == ("", "", [])
    assert len(await engine.stories.line(story.id)) == 1
    assert len(model.prompts) == 1, "only the opening's summary was asked for"


async def test_nul_and_a_leading_bom_are_stripped_from_member_text(engine, model):
    model.add("Mira climbs.")
    story = await engine.start(
        guild_id=1, channel_id=2, opening="\ufeffMira\x00 climbed.", title="\x00Lamp\x00"
    )
    [opening] = await engine.stories.line(story.id)
    assert (opening.text, story.title) == ("Mira climbed.", "Lamp")
    entry = await engine.edits.add_lore(
        story.id, "thing", "\ufeffLens", "\u200b, lens\x00", "Big\x00."
    )
    assert (entry.name, entry.keywords, entry.text) == ("Lens", ("lens",), "Big.")
    assert (await engine.edits.set_memory(story.id, "\ufeffCold sea.\x00")).memory == "Cold sea."


async def test_with_no_cooldown_a_member_may_ask_twice_at_once(engine):
    async def ask(now: float) -> None:
        async with engine.locks.cooldown(1, 7, 0, now):
            await asyncio.sleep(0.01)

    await asyncio.gather(ask(100.0), ask(99.999))
    async with engine.locks.cooldown(1, 7, 5, 100.0):
        pass
    with pytest.raises(CoolingDown, match="wait 5 more seconds"):
        async with engine.locks.cooldown(1, 7, 5, 100.5):
            pass


PROSE = (
    "The stair turned twice more before Mira reached the gallery, where the wind tore at her"
    " coat and the sea below was a sheet of hammered tin. She held the rail with both hands."
    " Somewhere beneath her a door banged, once, and then the whole tower fell silent.",
    "Tom was waiting in the lamp room with a lantern of his own, its glass cracked down one"
    " side. He did not ask where she had been. He only pointed at the floor, where fresh"
    " footprints, small and bare, led from the trapdoor to the window and stopped there.",
    "Neither of them slept that night. They sat on the bench by the stove and listened to the"
    " boards above them creak in a slow rhythm, like someone pacing, though they had both seen"
    " the room empty. At dawn Mira climbed up again and found the window open to the gulls.",
)


async def context_after_prose(engine: Engine, model: ScriptedModel, style: str):
    """The context for the passage after OPENING and the three PROSE passages, in `style`."""
    story = await started(engine, model, settings=StorySettings(planner=False, style=style))
    for text in PROSE:
        model.add(text, "Mira climbs on.")
        await engine.next(story.id)
    line = await engine.stories.line(story.id)
    return await engine.reader.context(story, line), line


async def test_prose_keeps_the_opening_in_view_once_it_leaves_the_latest_passages(engine, model):
    context, line = await context_after_prose(engine, model, "prose")
    assert context.opening == OPENING and OPENING not in context.passages
    assert context.passages[-1] == line[-1].text


async def test_a_chat_story_keeps_its_opening_at_the_head_of_every_prompt(engine, model):
    context, _ = await context_after_prose(engine, model, "chat")
    assert context.opening == OPENING
    prompt = prompt_text(render(context, "chat", 100))
    assert prompt.index(OPENING) < prompt.index("Mira climbs on.") < prompt.index(PROSE[-1])


async def test_the_completion_style_leaves_the_opening_to_the_summary(engine, model):
    context, _ = await context_after_prose(engine, model, "completion")
    assert context.opening == ""
    assert OPENING not in render(context, "completion", 100)
