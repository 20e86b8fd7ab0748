"""The guard on real output from the embedded model: a first attempt that copies the opening is
caught, and the passage kept does not copy it, whether a free repair or a new attempt fixed it."""

from bot import loops
from bot.engine import Engine, EngineConfig
from bot.llm import Models
from bot.llm.local import LocalModel
from bot.rules import StorySettings


async def test_the_guard_catches_a_real_looping_passage_and_keeps_a_better_one(store, scenesim):
    model = LocalModel(threads=1)
    engine = Engine(store, Models(model, model), EngineConfig(seed=1, summary_words=40))
    opening = (scenesim / "story_run" / "00_opening.txt").read_text()
    settings = StorySettings(style="chat", temperature=0.0, length=120)
    story = await engine.start(opening=opening, settings=settings)
    try:
        passage = await engine.next(story.id)
    finally:
        await model.close()
    attempts = [c.response for c in await store.calls(story.id) if c.purpose == "passage"]
    recent = [opening, (await engine.line(story.id))[0].summary or ""]
    first, kept = loops.check(attempts[0], recent), loops.check(passage.text, recent)
    assert first.loops, "the greedy first attempt should copy the opening"
    assert not passage.looped and not kept.loops
    assert kept.badness < first.badness
    assert "recycled" not in passage.faults and "repetition" not in passage.faults
