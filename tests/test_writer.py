import pytest

from bot.writer import clean, tidy


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  The door opened. END ", "The door opened."),
        ("Here is the next passage:\nThe door opened.", "The door opened."),
        ("The door opened.\n\nNEXT PARAGRAPH: more", "The door opened."),
        ("Chapter one:", "Chapter one:"),
    ],
)
def test_clean_strips_markers_and_announcements(raw, cleaned):
    assert clean(raw) == cleaned


def test_tidy_drops_repeated_and_cut_off_sentences():
    assert tidy("He looked. She ran. He looked. She ran. Then the") == "He looked. She ran."
