"""Free repairs: cutting what the judge faults, without another model call."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.judge import StoryView, judge_passage, judge_summary
from bot.repair import clean, repair_passage, repair_summary, tidy, unmangled, without_debris

OPENING = (
    "Mara pushed the door of the lighthouse open and climbed the stairs two at a time. The lamp "
    "room smelled of oil and salt, and the great lens threw her shadow across the glass."
)
BODY = (
    "The light came closer. Mara could make out a small boat now, its oars dipping unevenly. "
    '"Ahoy!" she called, but the wind took her voice and threw it back at the rocks. '
    "Below, the bell on "
    "the jetty began to ring, once, twice, though nobody stood beside it."
)
STORY = StoryView(opening=OPENING, summary="", recent=())


def test_an_assistant_preamble_is_stripped() -> None:
    text = f"Sure! Here is the next passage:\n\n{BODY}"
    assert judge_passage(text, STORY).faults == ("meta", "assistant")
    repaired = repair_passage(text, STORY)
    assert repaired == BODY
    assert judge_passage(repaired, STORY).ok


def test_a_trailing_meta_sentence_is_stripped() -> None:
    text = f"{BODY} This passage shows how the tension builds as the boat arrives."
    assert repair_passage(text, STORY) == BODY


def test_a_cut_off_ending_is_cut_at_the_last_full_sentence() -> None:
    assert repair_passage(f"{BODY} She ran down the stairs and", STORY) == BODY


def test_a_recycled_opening_sentence_is_dropped() -> None:
    copied = "Mara pushed the door of the lighthouse open and climbed the stairs two at a time."
    repaired = repair_passage(f"{copied} {BODY}", STORY)
    assert repaired == BODY
    assert "recycled" not in judge_passage(repaired, STORY).faults


def test_a_sentence_told_again_is_dropped_wherever_it_stands() -> None:
    told = "Mara looked at the boat one last time, as if to make sure she would not lose it."
    again = "Mara looked at the boat one last time, as if to makesure she would not lose it."
    story = StoryView(opening=OPENING, summary="", recent=(told,))
    assert repair_passage(f"Mara waited. {again} {BODY}", story) == (f"Mara waited. {BODY}")
    assert repair_passage(f"Mara waited. {again}", story) == f"Mara waited. {again}"
    older = StoryView(opening=OPENING, summary="", recent=(), earlier=(told,))
    assert repair_passage(f"Mara waited. {again} {BODY}", older) == f"Mara waited. {BODY}"


def test_dialogue_is_kept() -> None:
    text = f'{BODY} "Let me know if you see them," she said.'
    assert repair_passage(text, STORY) == text


def test_a_repair_that_would_leave_nothing_leaves_the_text() -> None:
    text = "Here is the next passage of your story:"
    assert repair_passage(text, STORY) == text


def test_a_summary_is_made_to_state_events() -> None:
    text = (
        "Sure, here is a summary. In this passage, Mara climbs the lighthouse and sees a boat. "
        "The story summary ends with the bell ringing. She runs down to the jetty and"
    )
    repaired = repair_summary(text)
    assert repaired == "Mara climbs the lighthouse and sees a boat."
    assert judge_summary(repaired, STORY).ok


def test_a_story_sentence_ending_in_a_colon_is_kept() -> None:
    text = f'She read the note aloud:\n\n"Meet me at the jetty." {BODY}'
    assert repair_passage(text, STORY) == text


def test_a_faultless_passage_comes_back_unchanged_line_breaks_and_all() -> None:
    text = (
        Path(__file__).resolve().parents[1] / "bench" / "openings" / "3_interview.txt"
    ).read_text()
    assert judge_passage(text.strip(), StoryView(OPENING, "", ())).ok
    assert repair_passage(text, STORY) == text.strip()
    assert repair_summary("  Mara climbs the lighthouse.\n") == "Mara climbs the lighthouse."


@pytest.mark.parametrize(
    ("mangled", "text"),
    [
        ("She wasnâ€™t sure.", "She wasn’t sure."),
        ("He said â€œhelloâ€\x9d and leftâ€¦", "He said “hello” and left…"),
        ("cafÃ© au lait", "café au lait"),
        ("couldn\ufffdÂ€™T", "couldn’T"),
    ],
)
def test_mojibake_is_read_back_as_utf8(mangled, text):
    assert unmangled(mangled) == text


@pytest.mark.parametrize(
    "text",
    [
        "Plain “text” — fine… naïve café ½ 5€.",
        "Ça va? Où êtes-vous? Äpfel über Öl.",
        "Señor Muñoz.",
    ],
)
def test_text_that_is_already_right_is_left_alone(text):
    assert unmangled(text) == text


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  The door opened. END ", "The door opened."),
        ("Here is the next passage:\nThe door opened.", "The door opened."),
        ("The door opened.\n\nNEXT PARAGRAPH: more", "The door opened."),
        ("Chapter one:", "Chapter one:"),
        (
            "A mistake.\u201d<start_of_image>Mavis was upset.<end_of_turn>",
            "A mistake.\u201d\n\nMavis was upset.",
        ),
        ("The door opened. <|im_end|>\n<|im_start|>It shut.</s>", "The door opened.\n\nIt shut."),
        ("She wrote <b>bold</b> and 3 < 4 > 2.", "She wrote <b>bold</b> and 3 < 4 > 2."),
        ("She wasnâ€™t sure. â€œNo,â€\x9d he said.", "She wasn’t sure. “No,” he said."),
        ("I couldn\ufffdÂ€™t.", "I couldn’t."),
    ],
)
def test_clean_strips_markers_and_announcements(raw, cleaned):
    assert clean(raw) == cleaned


def test_tidy_drops_repeated_and_cut_off_sentences():
    assert tidy("He looked. She ran. He looked. She ran. Then the") == "He looked. She ran."


def test_debris_that_can_go_for_free_goes_and_the_words_stay():
    text = (
        "<strong>Lena</strong> ran.\n* She fell.\\n\u2022 Up again.\n(Source)\n\n* * *\n\n"
        "* * * Dawn came."
    )
    assert without_debris(text) == "Lena ran.\nShe fell.\nUp again.\n\n* * *\n\nDawn came."


def test_a_broken_paragraph_and_a_fused_word_are_repaired_for_free() -> None:
    text = BODY.replace(
        "Mara could make out", "Mara could make out thesmall boat; Mrs.\n\nMara saw"
    )
    assert {"paragraph", "fused"} <= set(judge_passage(text, STORY).faults)
    repaired = repair_passage(text, STORY)
    assert "the small boat; Mrs. Mara saw" in repaired
    assert not {"paragraph", "fused"} & set(judge_passage(repaired, STORY).faults)


def test_a_text_ending_on_an_abbreviation_is_cut_back_to_its_last_sentence() -> None:
    assert repair_passage(f"{BODY} He turned to Mrs.", STORY) == BODY


def test_control_characters_in_a_model_answer_are_never_kept() -> None:
    answer = "The lamp\x00 went out.\x1b[31m She\x07 waited.\r\nThen\x9b the bell\trang."
    assert clean(answer) == "The lamp went out.[31m She waited.\nThen the bell\trang."
