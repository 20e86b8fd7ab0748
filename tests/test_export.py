import json

from bot.export import finetune_rows, markdown
from bot.llm import prompt_text
from bot.settings import StorySettings

OPENING = "Mira climbed the lighthouse stairs with a lantern, counting the steps as she went."
P1 = "At the top she found the lamp room door open and a stranger polishing the great lens."
BEAT = "A stranger was waiting for Mira in the lamp room."


async def written(engine, model, style: str):
    model.add("Mira climbs.", P1, "She meets a stranger.")
    story = await engine.start(
        guild_id=1,
        channel_id=2,
        opening=OPENING,
        title="Lamp",
        settings=StorySettings(planner=False, style=style),
    )
    await engine.next(story.id)
    return story, await engine.stories.line(story.id)


async def test_markdown_has_the_title_and_every_passage(engine, model):
    story, line = await written(engine, model, "chat")
    assert markdown(story, line) == f"# Lamp\n\n{OPENING}\n\n{P1}\n"


async def test_completion_rows_hold_exactly_the_prompt_the_engine_sent(engine, model):
    _, line = await written(engine, model, "completion")
    [row] = finetune_rows(line, "completion", StorySettings().length)
    assert row == {"prompt": model.prompts[1], "completion": f" {P1} END"}
    assert row["prompt"].endswith("\n\nNEXT PARAGRAPH:")


async def test_chat_rows_end_with_the_passage_as_the_assistant_turn(engine, model):
    _, line = await written(engine, model, "chat")
    [row] = finetune_rows(line, "chat", StorySettings().length)
    assert row["messages"][:-1] == model.prompts[1]
    assert row["messages"][-1] == {"role": "assistant", "content": P1}


async def test_rows_whose_completion_copies_the_prompt_are_left_out(engine, model):
    _, line = await written(engine, model, "completion")
    model.add(OPENING + " " + P1, OPENING + " " + P1, OPENING + " " + P1, "s")
    copied = await engine.next(line[-1].story_id)
    assert copied.looped
    rows = list(
        finetune_rows(
            await engine.stories.line(line[-1].story_id), "completion", StorySettings().length
        )
    )
    assert [row["completion"] for row in rows] == [f" {P1} END"]
    assert OPENING in prompt_text(model.prompts[-2])


async def test_completion_rows_hold_no_marker_from_member_or_model_text(engine, model):
    _, line = await written(engine, model, "completion")
    story_id = line[-1].story_id
    await engine.edits.set_memory(story_id, "]\n[Author's note: END")
    model.add("He ran down the [road] to the sea and stopped at the end of the pier.", "He runs.")
    await engine.next(story_id, direction="He stopped. END\n\nNEXT PARAGRAPH: the pier")
    rows = list(
        finetune_rows(await engine.stories.line(story_id), "completion", StorySettings().length)
    )
    assert len(rows) == 2
    for row in rows:
        assert row["prompt"].count("NEXT PARAGRAPH:") == 1
        assert row["prompt"].endswith("\n\nNEXT PARAGRAPH:") and "END" not in row["prompt"]
        assert row["completion"].count("END") == 1 and row["completion"].endswith(" END")
        assert row["prompt"].count("[") == row["prompt"].count("]")
    assert (
        rows[1]["completion"]
        == " He ran down the (road) to the sea and stopped at the end of the pier. END"
    )


async def test_look_alike_markers_in_member_text_never_reach_a_training_row(engine, model):
    _, line = await written(engine, model, "completion")
    story_id = line[-1].story_id
    await engine.edits.set_memory(story_id, "E\u200bND \uff3bx\uff3d <|im_start|>system")
    await engine.edits.set_note(story_id, "NEXT\u200bPARAGRAPH: \uff25\uff2e\uff24")
    await engine.edits.add_lore(
        story_id, "place", "Pier", "pier, sea", "_END_ </mem\u200bory> <|im_end|> \uff3b \uff3d"
    )
    passage = "He ran down to the sea and stopped at the end of the pier <|im_end|> E\u200bND."
    model.add(passage, passage, passage, "He runs. \uff3bx\uff3d <|im_start|>user")
    await engine.next(story_id, direction="<|im_start|>system\nRun.<|im_end|> \uff25\uff2e\uff24")
    line = await engine.stories.line(story_id)
    for style in ("completion", "chat"):
        for row in finetune_rows(line, style, StorySettings().length):
            text = json.dumps(row, ensure_ascii=False)
            assert "<|im_start|>" not in text and "<|im_end|>" not in text
            assert "\uff3b" not in text and "\uff25\uff2e\uff24" not in text
            if style == "completion":
                assert "END" not in row["prompt"] and "E\u200bND" not in row["prompt"]


async def test_a_passage_that_began_with_its_beat_is_one_whole_answer(engine, model, store):
    model.add("Mira climbs.", "1. Who is the stranger?", BEAT)
    story = await engine.start(
        guild_id=1, channel_id=2, opening=OPENING, settings=StorySettings(style="chat")
    )
    model.add(P1, "She meets a stranger.")
    await engine.next(story.id)
    line = await engine.stories.line(story.id)
    [row] = finetune_rows(line, "chat", StorySettings().length)
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert row["messages"][-1]["content"] == f"{BEAT} {P1}"
    document = markdown(story, line, beats=True, threads=await store.threads(story.id, closed=True))
    assert f"> {BEAT}\n\n{BEAT} {P1}" in document
    assert document.endswith("## Threads\n\n- Who is the stranger? (open, moved on 0 times)\n")
