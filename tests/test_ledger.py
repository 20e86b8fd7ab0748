"""The continuity ledger read from passages, and the judge's checks against it."""

from bot.ledger import (
    animals,
    dead_alive,
    entries_after,
    ledger_text,
    mutated_names,
    narrator_names,
    narrators,
    read_ledger,
)
from bot.names import names_in

PASSAGE = (
    "Mrs. Hale walked to Skerry Island with Tom Reid. Tom took the lantern. "
    "Old Marta died in the night. Then the rain came."
)


def entries(text: str) -> dict[str, str]:
    return {entry.key: entry.text for entry in read_ledger(text)}


def test_the_ledger_holds_characters_places_and_facts():
    found = {entry.key: entry.kind for entry in read_ledger(PASSAGE)}
    assert found["mrs hale"] == "character" and found["tom reid"] == "character"
    assert found["skerry island"] == "place"
    assert entries(PASSAGE)["Old Marta: dead"] == "Old Marta is dead."
    assert entries(PASSAGE)["Tom: holds the lantern"] == "Tom has the lantern."


def test_who_or_what_someone_is_called_is_a_fact():
    text = (
        "The cat, a grey tom named Admiral, met me in the hall. Later an engineer called "
        "Shinichi woke. Admiral purred at a man in the doorway."
    )
    found = entries(text)
    assert found["Admiral: is"] == "Admiral is the cat, a grey tom."
    assert found["Shinichi: is"] == "Shinichi is an engineer."
    assert [key for key in found if key.endswith(": is")] == ["Admiral: is", "Shinichi: is"]


def test_an_animal_is_known_by_what_it_is_called():
    text = "The cat, a grey tom named Admiral, slept. A fisherman called Tom rowed in."
    assert animals(read_ledger(text)) == {"Admiral"}
    assert animals(read_ledger("A dog, named Max, had wandered in from the road.")) == {"Max"}


def test_who_someone_is_is_kept_as_first_told():
    ledger = read_ledger("The cat, a grey tom named Admiral, met me in the hall.")
    later = entries_after("An older man named Admiral and a girl named Lily came in.", ledger)
    assert {e.key: e.text for e in later if e.kind == "fact"} == {"Lily: is": "Lily is a girl."}


def test_the_name_a_first_person_narrator_is_called_by_is_the_narrator_s():
    opening = (
        "I woke up forty years early. The ship told me so while I was still coughing. "
        '"Engineer Sato, you have been revived ahead of schedule." I asked who else was awake.'
    )
    assert narrator_names(opening) == ["Engineer Sato"]
    assert entries(opening)["Engineer Sato: narrator"] == 'Engineer Sato is the narrator, "I".'
    assert narrators(read_ledger(opening)) == {"Engineer Sato"}
    spoken = 'I waited at the quay. "Tom, you came back," I said, and I took his bag.'
    assert narrator_names(spoken) == []
    told = 'Mira waited at the quay. "Tom, you came back," the ferryman said to him.'
    assert narrator_names(told) == [], "a third-person story's narrator is nobody in it"


def test_a_name_a_letter_or_two_from_a_known_one_has_mutated():
    ledger = read_ledger(PASSAGE)
    assert mutated_names("Mrs. Heale said nothing to Tom.", ledger) == ("Hale \u2192 Heale",)
    assert mutated_names("Mrs. Hale said nothing to Tom.", ledger) == ()


def test_a_known_name_run_together_or_joined_by_an_underscore_has_mutated():
    ledger = read_ledger(PASSAGE)
    assert mutated_names("She rowed back to Skerryisland at dawn.", ledger) == (
        "Skerry Island \u2192 Skerryisland",
    )
    assert mutated_names("She rowed back to Skerry_island at dawn.", ledger) == (
        "Skerry Island \u2192 Skerry_island",
    )


def test_a_new_name_or_an_english_word_is_no_mutation():
    ledger = read_ledger(PASSAGE)
    assert mutated_names("Gareth rowed over from Portree.", ledger) == ()
    assert mutated_names("Hales of wind beat the Toms of the island.", ledger) == ()


def test_the_dead_do_not_speak_unless_the_passage_says_why():
    ledger = read_ledger(PASSAGE)
    assert dead_alive('Marta said, "Go home."', ledger) == ("Old Marta",)
    assert dead_alive("They buried Marta at dawn; Marta said nothing now.", ledger) == ()
    assert dead_alive("Marta's ghost said nothing.", ledger) == ()
    assert dead_alive("Tom said nothing.", ledger) == ()


def test_members_lore_takes_precedence_over_the_ledger():
    shown = ledger_text(read_ledger(PASSAGE), ["Tom Reid"])
    assert "Tom Reid" not in shown
    assert shown.startswith("Characters: Mrs Hale, Old Marta. Places: Skerry Island.")


def test_a_headland_is_a_place_and_an_institution_after_the_is_no_one():
    text = (
        "I had kept the lamp on Carrow Head for eleven winters. At midnight I wrote it in the "
        "log, because the Board reads the log and the Board does not like things it cannot "
        "explain. Jack Farrell rowed out to meet me."
    )
    found = {entry.name: entry.kind for entry in read_ledger(text)}
    assert found == {"Carrow Head": "place", "Jack Farrell": "character"}


def test_a_greeting_is_no_one():
    text = 'Tom Reid said "Hello, how are you?" and the stranger said "Thanks, well enough."'
    found = {entry.name: entry.kind for entry in read_ledger(text)}
    assert found == {"Tom Reid": "character"}


def test_a_name_after_the_at_a_sentence_s_start_is_no_one():
    text = "The North Star had been waiting for us, its sails billowing. Nora waved from it."
    found = {entry.name: entry.kind for entry in read_ledger(text)}
    assert found == {"Nora": "character"}


def test_a_name_with_a_place_word_after_its_first_is_a_place():
    found = {
        e.name: e.kind for e in read_ledger("Ines ran the relay. Relay Station Nine was dark.")
    }
    assert found == {"Ines": "character", "Relay Station Nine": "place"}


def test_a_name_with_a_plural_place_word_is_a_place():
    text = "North Rocks rose out of the fog as Tom rowed, and the Black Cliffs were behind him."
    found = {entry.name: entry.kind for entry in read_ledger(text)}
    assert found == {"North Rocks": "place", "Tom": "character", "Black Cliffs": "place"}


def test_a_full_name_with_or_without_its_title_is_one_person():
    ledger = read_ledger("Ines Valdór read the signal twice.")
    later = entries_after(
        "A call came from Commander Ines Valdór. Dr Ines Valdór was tired.", ledger
    )
    assert [e.name for e in later if e.kind == "character"] == ["Ines Valdór"]
    titled_first = read_ledger("Commander Ines Valdór landed. Ines Valdór slept.")
    assert [e.name for e in titled_first] == ["Commander Ines Valdór"]


def test_one_surname_with_two_titles_is_two_people():
    found = [e.name for e in read_ledger("Mr Hale and Mrs Hale argued in the hall.")]
    assert found == ["Mr Hale", "Mrs Hale"]


def test_a_first_name_is_the_full_name_its_title_goes_with():
    ledger = read_ledger("Commander Ines Valdór watched the planet turn.")
    later = entries_after("Commander Ines stood up, and Ines spoke.", ledger)
    assert [e.name for e in later] == ["Commander Ines Valdór"]


def test_a_titled_surname_is_not_a_longer_name_without_that_title():
    ledger = read_ledger("After Mrs Smith-Hale spoke, the boy cried.")
    assert [e.name for e in entries_after("Mrs Hale frowned.", ledger)] == ["Mrs Hale"]


def test_an_english_word_named_once_must_act_as_only_people_do():
    kitchen = "She liked the way he measured nothing. Flour went in by the handful."
    assert names_in(kitchen) == []
    assert names_in("Grace was late. Grace ran.") == [("Grace", False), ("Grace", False)]
    assert names_in("Grace was late.", known={"Grace"}) == [("Grace", False)]
    assert [e.name for e in entries_after("Grace was late.", read_ledger("I met Grace."))] == [
        "Grace"
    ]


def test_a_designated_planet_is_no_one_even_by_its_short_name():
    opening = "Commander Ines Valdór watched the blue curve of Kepler-442b slide by."
    ledger = read_ledger(opening)
    assert {e.name: e.kind for e in ledger} == {
        "Commander Ines Valdór": "character",
        "Kepler-442b": "place",
    }
    assert mutated_names("They orbited Kepler-452b.", ledger) == ()
    later = entries_after("Kepler glowed below them, and Ines ran.", ledger)
    assert {e.name: e.kind for e in later} == {
        "Kepler-442b": "place",
        "Commander Ines Valdór": "character",
    }


def kinds_after(opening: str, passage: str) -> dict[str, str]:
    """The names `passage` adds to the ledger of `opening`, each with its kind."""
    later = entries_after(passage, read_ledger(opening))
    return {e.name: e.kind for e in later if e.kind != "fact"}


def test_a_titled_person_s_first_name_is_no_place():
    found = kinds_after(
        "Commander Ines Valdór watched the planet turn.",
        "Ava ran to Ines. She took the box from Ines' hands.",
    )
    assert found == {"Ava": "character", "Commander Ines Valdór": "character"}


def test_part_of_a_place_s_name_is_that_place():
    ledger = read_ledger("Relay Station Nine turned once every ninety seconds.")
    later = entries_after("Station Nine's new resident arrived. Dear Aunt, I wrote.", ledger)
    assert [(e.name, e.kind) for e in later] == [("Relay Station Nine", "place")]


def test_someone_first_read_as_a_character_stays_one():
    found = kinds_after("Pell stood by the stall. Pell said nothing.", "Tamsin ran to Pell.")
    assert found == {"Tamsin": "character", "Pell": "character"}


def test_someone_who_acts_as_only_people_do_is_no_place():
    assert kinds_after("", "Grandpa Teodor turned to Lena. Lena looked up.") == {
        "Grandpa Teodor": "character",
        "Lena": "character",
    }
    assert kinds_after("The boat left Wellsby at dawn.", "Wellsby's eyes were red.") == {
        "Wellsby": "character"
    }
    assert kinds_after("The boat left Wellsby at dawn.", "They rowed to Wellsby.") == {
        "Wellsby": "place"
    }


def test_someone_introduced_with_who_is_named():
    found = read_ledger("Lena, who was nine, watched from the stool.")
    assert [(e.name, e.kind) for e in found] == [("Lena", "character")]


def test_a_title_alone_is_the_one_person_with_that_title():
    ledger = read_ledger("On Sundays the kitchen belonged to Grandpa Teodor.")
    assert kinds_after("", '"Sorry," Grandpa replied.') == {"Grandpa": "character"}
    later = entries_after('"Sorry, little one," Grandpa replied.', ledger)
    assert [e.name for e in later] == ["Grandpa Teodor"]
    two = read_ledger("Mr Hale met Mr Reid.")
    assert [e.name for e in entries_after('"No," Mr replied.', two)] == ["Mr"]  # which one?
