"""The loop guard on real output from the embedded model: the greedy answer that copies the
opening when left alone does not copy it under the writer's steering, and the passage the engine
keeps copies nothing."""

from bot import repetition
from bot.engine import Engine, EngineConfig
from bot.llm import Models
from bot.llm.llama import LocalModel
from bot.prompts import Context, render, words_for
from bot.settings import StorySettings
from bot.writer import Writer

SETTINGS = StorySettings(style="chat", temperature=0.0, length=120)


async def test_steering_keeps_a_greedy_model_from_copying_the_opening(scenesim):
    model = LocalModel(threads=1)
    opening = (scenesim / "story_run" / "00_opening.txt").read_text()
    prompt = render(Context(passages=(opening,)), "chat", words_for(SETTINGS.length))
    steered = Writer(Models(model, model)).passage_sampling(SETTINGS, 0, "third")
    free = steered.but(
        no_repeat=0, narration_avoid=(), min_tokens=0, prose_only=False, scripts_avoid=()
    )
    try:
        left_alone = await model.generate(prompt, free.but(seed=1))
        guarded = await model.generate(prompt, steered.but(seed=1))
    finally:
        await model.close()
    assert repetition.check(left_alone.text, [opening]).loops, (
        "greedy, the model copies the opening"
    )
    assert not repetition.check(guarded.text, [opening]).loops


async def test_the_passage_kept_copies_nothing(store, scenesim):
    model = LocalModel(threads=1)
    engine = Engine(store, Models(model, model), EngineConfig(seed=1, summary_words=40))
    opening = (scenesim / "story_run" / "00_opening.txt").read_text()
    story = await engine.start(opening=opening, settings=SETTINGS)
    try:
        passage = await engine.next(story.id)
    finally:
        await model.close()
    recent = [opening, (await engine.stories.line(story.id))[0].summary or ""]
    assert not passage.looped and not repetition.check(passage.text, recent).loops
    assert "recycled" not in passage.faults and "repetition" not in passage.faults
