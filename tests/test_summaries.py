"""Rolling summaries: repaired for free where they can be, rewritten once where not."""

from bot.calls import CallLog
from bot.llm import Models, prompt_text
from bot.llm.scripted import ScriptedModel
from bot.settings import StorySettings
from bot.summaries import Summarizer
from bot.voice import WriterConfig

GOOD = (
    "She set the lantern on the floor and pushed the door wider. A young man in an oilskin coat "
    "was polishing the great lens with his sleeve, as calmly as if he had been hired to do it. "
    '"You are late," he said, without turning round. "The ship will be here before midnight." '
    "Mira did not move."
)
SUMMARY = "Mira climbed to the lamp room at night and found its locked door open."
CHAT = StorySettings(style="chat")


def scripted(*responses: str) -> tuple[Summarizer, ScriptedModel]:
    model = ScriptedModel(responses)
    return Summarizer(Models(model, model), WriterConfig(seed=3)), model


async def test_a_summary_that_describes_the_text_is_repaired_for_free() -> None:
    summarizer, model = scripted(
        "In this passage, Mira finds a stranger in the lamp room. The story continues."
    )
    text = await summarizer.summary(SUMMARY, GOOD, CHAT, CallLog())
    assert text == "Mira finds a stranger in the lamp room."
    assert len(model.prompts) == 1


async def test_a_summary_that_only_talks_about_the_text_is_rewritten() -> None:
    summarizer, model = scripted(
        "This summary describes the passage for the reader.",
        "Mira finds a stranger polishing the lens, who says a ship will come by midnight.",
    )
    text = await summarizer.summary(SUMMARY, GOOD, CHAT, CallLog())
    assert text.startswith("Mira finds a stranger polishing the lens")
    assert "Never mention the story" in prompt_text(model.prompts[1])
