"""A ballot's candidates through the engine: each toward a beat of its own, written together,
each judged on its own and rewritten alone."""

from bot.engine import Engine
from bot.llm import prompt_text
from bot.llm.scripted import ScriptedModel
from tests.test_engine_beats import BEAT, started

BEATS = (
    BEAT,
    "Tom Reid woke in the boat and saw a green light moving along the cliffs.",
    "A storm broke over the island and blew out the lantern in Mira's hand.",
)
GOES_ON = (
    " He said the harbour master had sent him, and that the letter could not wait for morning.",
    " He pushed off from the jetty and rowed hard toward the rocks, calling out to Mira as"
    " the wind rose.",
    " She groped along the wall in the dark and found the door to the lamp room locked"
    " from inside.",
)
COPY = (
    " He said the harbour master had sent him, and that the letter could not wait for"
    " morning, and he left."
)
RECYCLED = (
    " Mira climbed the lighthouse stairs with a lantern while Tom Reid slept in the boat below,"
    " as she had every night."
)
"""Copies the opening word for word: a fault no repair removes."""


async def test_each_candidate_is_written_toward_its_own_beat_all_in_one_batch(
    engine: Engine, model: ScriptedModel
):
    story = await started(engine, model, ahead=(BEATS[0],))
    model.add(BEATS[1], BEATS[2], *GOES_ON)
    options = await engine.candidates(story.id, 3)
    assert [option.beat for option in options] == list(BEATS)
    assert [option.text for option in options] == [
        b + g for b, g in zip(BEATS, GOES_ON, strict=True)
    ]
    assert model.batches == [3], "the three candidates are asked for at once"
    written = [prompt_text(prompt) for prompt in model.prompts[-3:]]
    assert all(beat in prompt for beat, prompt in zip(BEATS, written, strict=True))
    planned = [prompt_text(prompt) for prompt in model.prompts[-5:-3]]
    assert BEATS[0] in planned[0] and BEATS[1] in planned[1], "each plan sees the beats before"


async def test_a_candidate_copying_another_is_rewritten_and_replaces_only_itself(
    engine: Engine, model: ScriptedModel
):
    story = await started(engine, model, ahead=(BEATS[0],))
    model.add(BEATS[1], BEATS[2], GOES_ON[0], COPY, GOES_ON[2], GOES_ON[1])
    options = await engine.candidates(story.id, 3)
    assert model.batches == [3], "the one rewrite is asked for alone"
    assert [option.text for option in options] == [
        b + g for b, g in zip(BEATS, GOES_ON, strict=True)
    ]
    rewrite = prompt_text(model.prompts[-1])
    assert BEATS[1] in rewrite and "harbour master had sent him" in rewrite


async def test_each_candidate_is_judged_on_its_own(engine: Engine, model: ScriptedModel):
    story = await started(engine, model, ahead=(BEATS[0],))
    model.add(BEATS[1], BEATS[2], RECYCLED, GOES_ON[1], RECYCLED, GOES_ON[0], GOES_ON[2])
    options = await engine.candidates(story.id, 3)
    assert model.batches == [3, 2], "the two faulty candidates are rewritten together"
    assert [option.text for option in options] == [
        b + g for b, g in zip(BEATS, GOES_ON, strict=True)
    ]
    assert not any("recycled" in option.faults for option in options)
