"""Names read from text: who or where a run of capitalised words names."""

from bot.names import names_in


def test_a_sentence_starting_on_an_ordinary_word_names_no_one():
    assert [name for name, _ in names_in("Then the rain came. Rain fell on Mira.")] == ["Mira"]


def test_a_quotation_s_first_word_starts_a_sentence_and_let_s_names_no_one():
    text = 'Grandpa Teodor said, "After mixing the flour, we wait." Lena said, "Let\'s go."'
    assert [name for name, _ in names_in(text)] == ["Grandpa Teodor", "Lena"]
    assert [name for name, _ in names_in('Lena said, "Tom Reid knows."')] == ["Lena", "Tom Reid"]


def test_someone_whose_house_is_gone_to_is_no_place():
    assert names_in("Mira walked over to Tom's house and knocked.") == [
        ("Mira", False),
        ("Tom", False),
    ]
    assert names_in("Mira sailed to Skerry at dawn.")[-1] == ("Skerry", True)


def test_someone_with_a_title_is_no_place():
    found = names_in("A fire broke out near Mr Lea, and Dale saw a stranger at Mrs. Lee's door.")
    assert ("Mr Lea", False) in found and ("Mrs Lee", False) in found
    kitchen = "That morning the kitchen belonged to Grandpa Teodor, and Lena watched."
    assert names_in(kitchen) == [("Grandpa Teodor", False), ("Lena", False)]


def test_thanks_name_no_one():
    assert names_in('Lena smiled back and said "Thank you, Grandpa Teodor."') == [
        ("Lena", False),
        ("Grandpa Teodor", False),
    ]


def test_a_template_s_blank_names_no_one():
    letter = 'I read her message: "Dear [Name], we have heard that something happened to Admiral."'
    assert [name for name, _ in names_in(letter)] == ["Admiral"]


def test_a_question_word_is_no_one():
    said = '"Wait!" Tom Reid said. "This can\'t be real! How did you get in here? Why now?"'
    assert [name for name, _ in names_in(said)] == ["Tom Reid"]


def test_a_name_with_accents_is_read_whole():
    assert names_in("Ines Valdór waved to Zoë across the square.") == [
        ("Ines Valdór", False),
        ("Zoë", False),
    ]


def test_a_contraction_or_here_is_no_one():
    text = 'Tom Reid left a note - "Don\'t leave the shop." "Here\'s some more," Lena said.'
    assert names_in(text) == [("Tom Reid", False), ("Lena", False)]
    assert names_in("He wrote: \u201cDon\u2019t go.\u201d Today's bread rose.") == []


def test_a_word_after_a_hyphen_is_part_of_another():
    text = "Ines Valdór, Commander-in-Chief of the team, stood."
    assert names_in(text) == [("Ines Valdór", False)]


def test_a_numbered_thing_or_a_common_word_is_no_one():
    assert names_in("All but Tank 117's lid were shut.") == [("Tank 117", True)]
    assert names_in('"Just wanted to make sure," I said.') == []


def test_an_adverb_names_no_one_wherever_it_stands():
    assert names_in("Dear Aunt, Thankfully, my aunt is not dead yet.") == []
    assert names_in("I saw Emily, Beverly and Kelly.") == [
        ("Emily", False),
        ("Beverly", False),
        ("Kelly", False),
    ]
