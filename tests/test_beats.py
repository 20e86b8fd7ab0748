"""Beats: one usable sentence of the story's prose in which something changes, never a
recent beat again."""

from dataclasses import replace

import pytest

from bot.beats import PlanView, first_sentence, refusal, repeats, usable

VIEW = PlanView(
    summary="Agnes waits on Skerry Island for the ferry.",
    passage="The ferry did not come. Agnes went back to the cottage.",
    ledger="Characters: Agnes. Places: Skerry Island.",
    beats=("Agnes found the ferry moored empty at the harbour.",),
)


def test_the_first_sentence_is_kept_without_its_label_or_quotes():
    assert first_sentence('1. "An earthquake shook the island."\nMore.') == (
        "An earthquake shook the island."
    )
    assert first_sentence("Beat: A stranger rowed in. Then more.") == "A stranger rowed in."


def test_a_title_does_not_end_the_beat_and_a_question_is_no_beat():
    assert first_sentence("A woman named Mrs. Miller came in. She sat.") == (
        "A woman named Mrs. Miller came in."
    )
    assert not usable("Why did Agnes ask Callum to describe the stranger?", VIEW)
    assert usable("Agnes asked Callum to describe the stranger.", VIEW)


def test_a_beat_must_be_a_whole_sentence_of_the_story_in_its_person():
    assert usable("An earthquake shook Skerry Island that night.", VIEW)
    assert not usable("An earthquake", VIEW)
    assert not usable("I ran to my boat and I shouted for my mother.", VIEW)
    assert not usable("In this passage, the story introduces an earthquake.", VIEW)


def test_a_beat_that_echoes_the_planner_s_prompt_or_itself_is_not_used():
    assert not usable("Known so far: Characters: Agnes, Skerry Island.", VIEW)
    assert not usable(
        "To decide what to do next, choose one sentence from the story's own prose.", VIEW
    )
    assert not usable("Later that day, that night, that night, or the next morning.", VIEW)
    assert not usable(
        "Agnes went to the far-away town of Skerry, yes, to the far-away town of Skerry.", VIEW
    )
    assert usable("Later that night a stranger knocked at Agnes's door.", VIEW)


def test_a_third_person_story_s_beat_says_no_i_and_copies_no_run_of_what_happened():
    assert not usable("As I stood there on the rock, Agnes watched the sea.", VIEW)
    assert usable('Agnes shouted at the gulls, "I will never leave!"', VIEW)
    assert not usable("The ferry did not come, and Agnes went back to the cottage.", VIEW)
    summarised = replace(VIEW, summary="Agnes waited on Skerry Island for a ferry.")
    assert not usable("At dawn Agnes waited on Skerry Island for a ferry again.", summarised)


def test_a_beat_about_the_story_rather_than_in_it_is_not_used():
    assert not usable("The story starts with a scene with Flour and Lena.", VIEW)
    assert not usable("The recent update to the story has been a dramatic change.", VIEW)
    assert not usable("At the harbour Agnes noticed a new character with a news brief.", VIEW)
    assert usable('Agnes shouted, "Tell me the story of the wreck!"', VIEW)


def test_a_beat_that_tells_a_recent_one_again_is_not_used():
    assert repeats("Agnes found the ferry empty at the harbour again.", VIEW.beats)
    assert not repeats("A stranger rowed in from Portree with news.", VIEW.beats)
    assert not usable("Agnes found the ferry moored empty in the harbour.", VIEW)


def test_a_beat_in_which_nothing_changes_or_that_is_only_names_is_not_used():
    assert not usable("They kept working through the night, feeling nervous.", VIEW)
    assert not usable("Agnes felt a mix of relief and fear.", VIEW)
    assert not usable("Agnes, Callum, Skerry Island and The Ferryman.", VIEW)
    assert usable("Callum broke the lock on the boathouse and let the dogs out.", VIEW)


def test_a_first_person_story_s_beat_happens_to_the_narrator():
    told_by_me = replace(VIEW, person="first")
    assert not usable("The supply boat's crew faced a storm off the north rock.", told_by_me)
    assert usable("I saw the supply boat founder off the north rock.", told_by_me)
    assert not usable("I am heading back to Carrow Head to find out what happened.", told_by_me)


FIRST = replace(VIEW, person="first")


def test_a_past_tense_story_s_beat_in_the_present_is_not_used():
    for beat in (
        "Inspector Dale calls the police to report the man's appearance.",
        "Agnes returns to the cottage and begins to pack.",
        "Agnes, seeing the ferry was not the only boat, approaches the harbour with caution.",
        "One night Mr Hale, a customer of the shop, arrives with news about the ferry.",
        "Kepler, an alien from the planet Kepler-442b, approaches Relay Station Nine.",
        "The stranger asks Agnes about the ferry and the island's history.",
        "The old boat hits the rocks below the quay.",
        "A woman arrives and tells Agnes of the ferryman's death.",
        "Agnes and Callum arrive at the harbour the next morning.",
        "The first day, a new beginning.",
        "Dr. Valdór arrives at the quay, shocked by the strange situation.",
    ):
        assert not usable(beat, VIEW)
    for beat in (
        "I need to go to the harbour to find out what happened to Callum.",
        "I call the police and tell Callum to stay at the quay.",
        "We finally meet the ferryman who took Agnes across.",
    ):
        assert not usable(beat, FIRST)
    assert usable("I finally met the ferryman, and we agreed to sail at dawn.", FIRST)
    assert usable("We set out at dawn, and I read the letter as Callum rowed.", FIRST)
    assert usable("Agnes walked past the old docks in the harbour to the quay.", VIEW)
    assert usable("The next morning Agnes paid the ferryman in old coins.", VIEW)
    assert usable("The next morning Agnes woke to find the ferry gone.", VIEW)
    assert usable("That night Agnes packed boots, coats and letters into a trunk.", VIEW)
    assert usable("At dawn the ferry came back, thus Agnes had to choose.", VIEW)
    assert usable("Callum ran to the quay, furious Agnes had gone without him.", VIEW)


def test_two_beats_about_the_same_people_are_not_the_same_event():
    assert not repeats(
        "Grandpa Teodor burned the letter in the stove.",
        ["Grandpa Teodor returned to the kitchen."],
    )
    assert repeats(
        "Lena found the ferry empty at the harbour.", ["Grandpa Teodor found the ferry empty."]
    )


OPENED = replace(VIEW, opening="The gulls rose over Skerry Island all at once, and Agnes woke.")
REFUSALS = [
    ("An earthquake", VIEW, "unfinished"),
    ("Agnes, Callum, Skerry Island and The Ferryman.", VIEW, "names"),
    ("Agnes felt a mix of relief and fear.", VIEW, "still"),
    ("The story starts with a scene with Flour and Lena.", VIEW, "about the text"),
    ("The narrator and Callum rowed out to the wreck.", FIRST, "about the text"),
    ("As I stood there on the rock, Agnes watched the sea.", VIEW, "person"),
    ("Callum rowed out to the wreck.", FIRST, "no narrator"),
    ("Agnes returns to the cottage and begins to pack.", VIEW, "tense"),
    ("Later that day, that night, that night, or the next morning.", VIEW, "echo"),
    ("It happened to us together with Sound, when I saw the light.", FIRST, "echo"),
    ("Agnes ran to the boat and Agnes ran to the boat again.", VIEW, "said twice"),
    ("The ferry did not come, and Agnes went back to the cottage.", VIEW, "copied"),
    ("At dawn the gulls rose over Skerry Island all at once.", OPENED, "copied"),
    ("Agnes went to her cottage, for the ferry did not come.", VIEW, "told"),
    ("Agnes found the ferry moored empty in the harbour.", VIEW, "repeat"),
    ("Callum broke the lock on the boathouse and let the dogs out.", VIEW, ""),
]


@pytest.mark.parametrize(("beat", "view", "reason"), REFUSALS)
def test_a_refused_beat_says_which_check_refused_it(beat: str, view: PlanView, reason: str):
    assert refusal(beat, view) == reason
