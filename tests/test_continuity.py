"""Retellings, refrains and beats."""

from bot.continuity import beat_happened, refrains, retold, told_already

EARLIER = (
    "Agnes woke in the cold cottage and found the fire out. She pulled on her boots, walked "
    "down to the harbour and watched the ferry leave without her brother, who had promised "
    "to wait for her until the morning tide."
)


def test_telling_an_earlier_passage_again_in_new_words_is_a_retelling():
    again = (
        "Agnes felt a mix of relief and dread as she woke in the cottage, cold, the fire out. "
        "Pulling on her boots she walked to the harbour, where the ferry was leaving without "
        "her brother, though he had promised to wait until the morning tide."
    )
    assert retold(again, [EARLIER]) > 0.3


def test_a_passage_that_moves_on_is_no_retelling():
    onward = (
        "By noon the storm had reached the island. A stranger in a grey coat knocked at the "
        "inn, asking for a room and for anyone who knew the way to the old lighthouse; the "
        "landlord sent him to the church, where the vicar kept the keys."
    )
    assert retold(onward, [EARLIER]) < 0.3


def test_a_phrase_of_six_words_from_two_earlier_texts_is_a_refrain():
    refrain = "the ferryman sat on her lap"
    earlier = [f"At dawn {refrain} and wept.", f"Later {refrain} again."]
    assert refrains(f"Then {refrain} with tears in his eyes.", earlier) == (refrain,)
    assert refrains(f"Then {refrain} with tears in his eyes.", earlier[:1]) == ()


def test_small_words_alone_make_no_refrain():
    earlier = ["and then it was in the end", "and then it was in the end"]
    assert refrains("and then it was in the end", earlier) == ()


def test_a_beat_happened_when_the_passage_tells_it():
    beat = "An earthquake strikes Skerry Island and the ferry cannot reach it."
    told = "The earthquake struck at noon. Skerry Island shook, and no ferry could reach it."
    assert beat_happened(told, beat)
    assert not beat_happened("Agnes made tea and sat by the window.", beat)
    assert beat_happened("Agnes made tea.", "Make it darker.")


def test_a_beat_the_latest_passage_already_tells_is_told():
    passage = "Dale turned around, his eyes widening with concern. Nora looked at her watch."
    assert told_already(passage, "Dale looked at Nora, his eyes widening with concern.")
    assert not told_already(passage, "Dale locked Nora in the cellar of the shop.")


def test_names_alone_do_not_make_a_beat_told():
    passage = "Inspector Dale and Nora Price sat in the back room of Hale's Bakery."
    assert not told_already(passage, "Inspector Dale and Nora Price fled the room.")
    assert not told_already(passage, "Nora Price sat down.")
