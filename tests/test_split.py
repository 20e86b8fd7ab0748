from bot.split import PASSAGE_LIMIT, capped, complete_sentences, split_text


def test_short_text_is_one_piece_and_empty_text_none():
    assert split_text("  Hello.  ") == ["Hello."]
    assert split_text("   ") == []


def test_paragraphs_are_kept_whole_when_they_fit():
    paragraphs = ["A" * 900, "B" * 900, "C" * 900]
    assert split_text("\n\n".join(paragraphs)) == ["A" * 900 + "\n\n" + "B" * 900, "C" * 900]


def test_a_long_paragraph_is_split_between_sentences():
    sentence = "The lamp burned low and the keeper watched the sea. "
    text = sentence * 100
    pieces = split_text(text)
    assert len(pieces) == 3
    assert all(len(p) <= 2000 and p.endswith("sea.") for p in pieces)
    assert " ".join(pieces) == text.strip()


def test_a_long_sentence_is_split_between_words_never_inside_one():
    text = " ".join(f"word{i}" for i in range(1000))
    pieces = split_text(text, 300)
    assert all(len(p) <= 300 for p in pieces)
    assert " ".join(pieces) == text


def test_only_a_single_overlong_word_is_cut():
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_complete_sentences_drops_a_sentence_cut_off_midway():
    assert complete_sentences("She ran. Then she saw the") == "She ran."
    assert complete_sentences("She ran. He followed!") == "She ran. He followed!"
    assert complete_sentences('He said "stop." She') == 'He said "stop."'
    assert complete_sentences("no full stop at all") == "no full stop at all"


def test_a_header_line_stays_on_its_own_line_however_the_text_is_split():
    header = "**§3** · chosen by vote (1)"
    sentence = "The wary cellar door creaked open onto a stair nobody remembered building. "
    pieces = split_text(f"{header}\n{sentence * 40}")
    assert len(pieces) == 2
    assert pieces[0].startswith(f"{header}\nThe wary cellar")
    assert all(len(p) <= 2000 for p in pieces)


def test_lines_of_a_long_paragraph_keep_their_breaks():
    lines = [f"Line {i}: the tide came in and went out again, as tides do." for i in range(60)]
    pieces = split_text("\n".join(lines), 1000)
    assert "\n".join(pieces) == "\n".join(lines)


def test_a_long_answer_is_capped_after_its_last_whole_sentence():
    sentence = "The keeper climbed the stairs again. "
    text = sentence * 1000
    cut = capped(text)
    assert len(cut) <= PASSAGE_LIMIT and cut.endswith("again.")
    assert len(cut) > PASSAGE_LIMIT - len(sentence)
    assert text.startswith(cut)


def test_a_capped_answer_without_sentences_is_cut_between_words():
    cut = capped("word " * 5000, 100)
    assert cut == " ".join(["word"] * 20)
    assert capped("x" * 500, 100) == "x" * 100
    assert capped("  short.  ", 100) == "short."
