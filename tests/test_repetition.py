from pathlib import Path

import pytest

from bot import repetition


def story_run(scenesim: Path) -> list[str]:
    return [p.read_text() for p in sorted((scenesim / "story_run").glob("*.txt"))]


def test_flags_the_looping_passages_of_the_original_run_and_not_the_first_two(scenesim):
    texts = story_run(scenesim)
    flagged = []
    for number in range(1, len(texts)):
        recent = texts[max(0, number - repetition.RECENT) : number]
        if repetition.check(texts[number], recent).loops:
            flagged.append(number)
    assert flagged == [3, 4, 5, 6, 7, 8, 9, 10]


def test_overlap_matches_the_figures_measured_on_the_original_run(scenesim):
    texts = story_run(scenesim)
    measured = [round(repetition.overlap(texts[i], texts[i - 1]), 2) for i in range(1, len(texts))]
    assert measured[:2] == [0.06, 0.11]
    assert measured[2] == 0.77
    assert measured[3:5] == [1.0, 1.0]
    assert measured[5] == 0.5
    assert measured[6:] == [1.0] * 4


def test_seq_rep_counts_repeated_ngrams_within_a_text():
    assert repetition.seq_rep("one two three four five six") == 0
    looping = "the cat sat down. " * 10
    assert repetition.seq_rep(looping) > 0.8
    assert repetition.check(looping, []).loops


def test_distinct_is_one_for_all_new_ngrams_and_lower_for_repeats():
    assert repetition.distinct(["a b c d", "e f g h"]) == 1
    assert repetition.distinct(["a b c d", "a b c d"]) == 0.5


def test_repeated_phrase_names_the_longest_copied_run():
    earlier = "The dragons let out a loud roar and flew away into the night."
    text = "Sylas waited. The dragons let out a loud roar and flew away. Then he ran."
    assert (
        repetition.repeated_phrase(text, [earlier])
        == "the dragons let out a loud roar and flew away"
    )
    assert repetition.repeated_phrase("all new words here today", [earlier]) == ""


def test_badness_orders_attempts_by_how_far_past_the_limits_they_are():
    mild = repetition.LoopCheck(overlap=0.35, repetition=0.0)
    bad = repetition.LoopCheck(overlap=1.0, repetition=0.0)
    fine = repetition.LoopCheck(overlap=0.1, repetition=0.05)
    assert fine.badness < mild.badness < bad.badness
    assert not fine.loops and mild.loops


def test_drop_repeated_sentences_keeps_the_first_of_each():
    text = "He ran. She laughed. He ran. The end.\n\nShe laughed."
    assert repetition.drop_repeated_sentences(text) == "He ran. She laughed. The end."


@pytest.mark.parametrize(
    ("sentence", "other", "copy"),
    [
        (
            "I looked at the boat one last time, as if trying to makesure I would not lose it.",
            "I looked at the boat one last time, as if trying to make sure I would not lose it.",
            True,
        ),
        (
            "Ines turned her attention back to the screen of the survey drones.",
            "Ines turned her focus back on the screen of the survey drones.",
            True,
        ),
        (
            "I took a deep breath and stepped out into the night.",
            "I took a deep breath and stepped out of the study again, ready to try something.",
            False,
        ),
        ("He said it in a soft voice.", "He said it in a deep voice.", False),
    ],
)
def test_a_near_copy_is_one_sentence_told_again(sentence: str, other: str, copy: bool) -> None:
    mine, theirs = repetition.words(sentence), repetition.words(other)
    assert repetition.near_copy(mine, theirs) is copy


def test_drop_repeated_sentences_drops_near_copies_of_itself_and_of_sources():
    first = "I watched as the fire spread, consuming everything in its path."
    again = "I watched as the fire spread, consumed everything in its path."
    told = "Ines turned her attention back to the screen of the survey drones."
    retold = "Ines turned her focus back on the screen of the survey drones."
    text = f"{first} The roof fell in. {again}\n\n{retold} She wept."
    assert repetition.drop_repeated_sentences(text, [told]) == (
        f"{first} The roof fell in.\n\nShe wept."
    )
