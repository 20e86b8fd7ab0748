"""Surface checks: endings, paragraphs and fused words."""

from bot.surface import broken_paragraphs, cut_off, fused_words, mended_paragraphs, unfused


def test_an_ending_on_an_abbreviation_is_cut_off():
    assert cut_off("He spoke to Mrs.")
    assert cut_off("He spoke to")
    assert not cut_off("He spoke to her.")
    assert not cut_off('"Go," she said.')


def test_a_paragraph_that_ends_inside_a_sentence_is_broken():
    text = "He said to Mrs.\n\nHeale's mother that all was well."
    assert broken_paragraphs(text) == ("He said to Mrs.",)
    assert mended_paragraphs(text) == "He said to Mrs. Heale's mother that all was well."


def test_a_paragraph_that_begins_in_lower_case_is_broken():
    text = "One whole paragraph stands here.\n\nand a lower case start here."
    assert broken_paragraphs(text) == ("and a lower case start here.",)
    assert broken_paragraphs("One whole paragraph.\n\n* * *\n\nAnother whole one.") == ()


def test_two_words_run_together_are_fused():
    assert fused_words("She was evencommitted to it, in the candleslight.") == (
        "evencommitted",
        "candleslight",
    )


def test_real_words_and_the_story_s_own_words_are_not_fused():
    assert fused_words("The colour of the lighthouse, the candlelight and the seaweed.") == ()
    assert fused_words("Glenmorrow stood over Skerrymouth.", ["glenmorrow", "skerrymouth"]) == ()


def test_a_fused_word_read_only_one_way_is_parted():
    assert (
        unfused("He stood at thehelm of the smallship.")
        == "He stood at the helm of the small ship."
    )
    assert unfused("She was evencommitted to it.") == "She was even committed to it."


def test_a_word_the_story_uses_is_never_parted():
    assert unfused("Glenmorrow stood tall; thehelm held.", ["thehelm"]) == (
        "Glenmorrow stood tall; thehelm held."
    )
