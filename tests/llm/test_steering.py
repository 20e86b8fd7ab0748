"""Steering the embedded model: the masks on a toy vocabulary, then on the real Gemma model."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from bot import surface
from bot.llm import Sampling
from bot.llm.llama import LocalModel, end_tokens
from bot.llm.packaged import GEMMA_NAME, gemma_gguf_path
from bot.llm.steering import (
    Steering,
    blank_tokens,
    is_steered,
    markup_tokens,
    script_tokens,
    scripts_in,
    twin_spellings,
    unused_scripts,
    word_tokens,
)
from bot.narration import FIRST, SECOND, narration
from bot.repetition import words

VOCAB = [
    *("<eos>", " the", " cat", " sat", " on", " mat", " I", "I", " my", " he", ' "', '."', "\n"),
    *(" don", "\u2019", "t", "sat", " Sat", "Sat", "\n\n", "\t", " ", "  "),
]
END = 0


def tokenize(text: str) -> list[int]:
    """Whole tokens of VOCAB only; anything else takes two tokens, as a long word would."""
    return [VOCAB.index(text)] if text in VOCAB else [1, 2]


def detokenize(token: int) -> str:
    return VOCAB[token]


def ids(*pieces: str) -> list[int]:
    return [VOCAB.index(piece) for piece in pieces]


def steering(prompt: list[int], blanks: list[int] | None = None, **options: object) -> Steering:
    return Steering(
        Sampling(**options), len(prompt), tokenize, detokenize, [END], blanks=blanks or []
    )


def test_nothing_is_steered_by_default() -> None:
    assert not is_steered(Sampling())
    assert is_steered(Sampling(no_repeat=6))
    assert is_steered(Sampling(narration_avoid=("I",)))
    assert is_steered(Sampling(min_tokens=10))
    assert is_steered(Sampling(prose_only=True))
    assert is_steered(Sampling(scripts_avoid=("cjk",)))


def test_word_tokens_take_every_single_token_spelling() -> None:
    assert word_tokens(["i", "my"], tokenize) == sorted(ids(" I", "I", " my"))
    assert word_tokens(["elephant"], tokenize) == []


def test_a_run_from_the_prompt_cannot_be_copied() -> None:
    prompt = ids(" the", " cat", " sat", " on", " the", " mat")
    steer = steering(prompt, no_repeat=3)
    assert steer.banned(prompt + ids(" the", " cat")) == ids(" sat", "sat", " Sat", "Sat")
    assert steer.banned(prompt + ids(" the", " cat", " on", " the")) == ids(" mat")
    assert steer.banned(prompt + ids(" he")) == []


def test_twin_spellings_are_the_same_word_without_its_space_or_capitalised() -> None:
    assert twin_spellings(" sat") == {"sat", " Sat", "Sat"}
    assert twin_spellings("\nThe") == {"The", " The", "the", " the"}
    assert twin_spellings(" ") == set()


def test_a_held_back_copy_cannot_be_fused_broken_or_slipped_past_after_white_space() -> None:
    prompt = ids(" the", " cat", " sat", " on")
    blanks = blank_tokens(enumerate(VOCAB))
    assert blanks == ids("\n", "\n\n", "\t", " ", "  ")
    steer = steering(prompt, blanks=blanks, no_repeat=3)
    held = steer.banned(prompt + ids(" the", " cat"))
    assert set(held) == set(ids(" sat", "sat", " Sat", "Sat", "\n", "\n\n", "\t", " ", "  "))
    assert steer.banned(prompt + ids(" he")) == []


def test_the_rest_of_a_word_is_never_held_back() -> None:
    prompt = ids(" I", " don", "\u2019", "t", " sat")
    steer = steering(prompt, no_repeat=3)
    assert steer.banned(prompt + ids(" I", " don", "\u2019")) == []
    assert steer.banned(prompt + ids(" I", " don", "\u2019", "t"))[0] == VOCAB.index(" sat")


def test_a_run_the_answer_wrote_cannot_be_repeated() -> None:
    prompt = ids(" he")
    steer = steering(prompt, no_repeat=3)
    answer = prompt + ids(" cat", " sat", " on")
    for end in range(len(prompt), len(answer) + 1):
        steer.banned(answer[:end])
    assert steer.banned(answer + ids(" cat", " sat")) == ids(" on")


def test_avoided_words_are_banned_in_narration_but_free_in_dialogue() -> None:
    prompt = ids(" he", " sat")
    steer = steering(prompt, narration_avoid=("I", "my"))
    avoided = sorted(ids(" I", "I", " my"))
    assert sorted(steer.banned(prompt)) == avoided
    answer = prompt + ids(" he")
    assert sorted(steer.banned(answer)) == avoided
    for piece in (' "', " I", " sat"):
        answer += ids(piece)
        assert steer.banned(answer) == []
    assert sorted(steer.banned(answer + ids('."'))) == avoided


def test_a_line_break_ends_an_unclosed_quotation() -> None:
    prompt = ids(" he")
    steer = steering(prompt, narration_avoid=("I",))
    assert steer.banned(prompt + ids(' "')) == []
    assert steer.banned(prompt + ids(' "', " sat")) == []
    assert steer.banned(prompt + ids(' "', " sat", "\n")) == sorted(ids(" I", "I"))


def test_quotation_marks_in_the_prompt_do_not_count() -> None:
    prompt = ids(" he", ' "', " sat")
    steer = steering(prompt, narration_avoid=("I",))
    assert steer.banned(prompt) == sorted(ids(" I", "I"))


def test_the_answer_cannot_end_before_its_minimum() -> None:
    prompt = ids(" he")
    steer = steering(prompt, min_tokens=3)
    assert steer.banned(prompt + ids(" sat", " on")) == [END]
    assert steer.banned(prompt + ids(" sat", " on", " the")) == []


def test_markup_tokens_are_found_by_their_text() -> None:
    pieces = enumerate(["<strong>", " the", "\u2022", " #tag", "\\n", " http", " a > b", "."])
    assert markup_tokens(pieces) == [0, 2, 3, 4, 5, 6]


def test_prose_only_bans_markup_everywhere_and_only_when_asked() -> None:
    prompt = ids(" he")
    plain = Steering(Sampling(min_tokens=1), len(prompt), tokenize, detokenize, [END], [3, 4])
    prose = Steering(Sampling(prose_only=True), len(prompt), tokenize, detokenize, [END], [3, 4])
    assert plain.banned(prompt + ids(" sat")) == []
    assert prose.banned(prompt + ids(" sat")) == [3, 4]
    assert prose.banned(prompt + ids(" sat", ' "')) == [3, 4]


def test_a_story_s_writing_systems_are_read_from_its_letters() -> None:
    assert scripts_in("The keeper saw a green light.") == frozenset()
    assert scripts_in("\u6211\u770b\u89c1\u4e86\u706f\u3002 \u041e\u043d") == {"cjk", "cyrillic"}
    assert "cjk" in unused_scripts("The keeper saw a green light, caf\u00e9 au lait.")
    assert "cjk" not in unused_scripts("\u706f\u5854\u5b88\u62a4\u8005")
    assert "greek" in unused_scripts("\u706f\u5854")
    texts = [" the", "\u6447", " caf\u00e9", "\u0434\u0430", "\u65e5\u672c", "\u2014\u201c"]
    pieces = [(token, text.encode()) for token, text in enumerate(texts)]
    pieces += [(6, "\u6447".encode()[:1]), (7, "\u6447".encode()[1:2]), (8, b"\xd0")]
    found = script_tokens(pieces)
    assert found["cjk"] == [1, 4, 6], "a byte that begins a letter counts; one inside it not"
    assert found["cyrillic"] == [3, 8] and found["greek"] == []


def test_letters_of_an_unused_writing_system_are_banned_everywhere() -> None:
    prompt = ids(" he")
    sampling = Sampling(scripts_avoid=("cjk",))
    steered = Steering(sampling, len(prompt), tokenize, detokenize, [END], foreign=[7, 8])
    assert steered.banned(prompt + ids(" sat")) == [7, 8]
    assert steered.banned(prompt + ids(" sat", ' "')) == [7, 8], "in dialogue too"


def test_the_processor_masks_scores_in_place() -> None:
    prompt = ids(" the", " cat", " sat")
    steer = steering(prompt, no_repeat=3, min_tokens=5)
    scores = np.zeros(len(VOCAB), dtype=np.float32)
    steer(np.array(prompt + ids(" the", " cat")), scores)
    masked = [END, *ids(" sat", "sat", " Sat", "Sat")]
    assert (scores[masked] == -math.inf).all()
    assert np.isfinite(np.delete(scores, masked)).all()


def longest_shared_run(answer: list[int], prompt: list[int]) -> int:
    """The longest run of tokens `answer` shares with `prompt` or repeats from itself."""
    longest = 0
    for size in range(1, len(answer) + 1):
        runs = {tuple(prompt[i : i + size]) for i in range(len(prompt) - size + 1)}
        found = False
        for i in range(len(answer) - size + 1):
            run = tuple(answer[i : i + size])
            if run in runs or run in {tuple(answer[j : j + size]) for j in range(i)}:
                found = True
                break
        if not found:
            break
        longest = size
    return longest


@pytest.fixture(scope="module")
def gemma() -> LocalModel:
    return LocalModel(gemma_gguf_path(), name=GEMMA_NAME, threads=2, context_tokens=1024)


async def test_gemma_copies_no_run_of_the_prompt_when_steered(gemma: LocalModel) -> None:
    prompt = "The bell rang and the boat came in. " * 8
    sampling = Sampling(temperature=0.0, max_tokens=60, seed=1)
    free = await gemma.generate(prompt, sampling)
    steered = await gemma.generate(prompt, sampling.but(no_repeat=4))
    llama = gemma._load()
    prompt_tokens = gemma.prompt_tokens(prompt)

    def tokens(text: str) -> list[int]:
        return llama.tokenize(text.encode(), add_bos=False, special=False)

    assert longest_shared_run(tokens(free.text), prompt_tokens) >= 8
    assert longest_shared_run(tokens(steered.text), prompt_tokens) < 6


async def test_gemma_keeps_a_third_person_narration_when_steered(gemma: LocalModel) -> None:
    prompt = (
        "I remember the summer I turned twelve. My father took me to the lake, and I learned"
        " to swim there. I was afraid of the water at first. My"
    )
    avoided = tuple(sorted(FIRST | SECOND))
    sampling = Sampling(temperature=0.0, max_tokens=80, seed=1)
    free = await gemma.generate(prompt, sampling)
    steered = await gemma.generate(prompt, sampling.but(narration_avoid=avoided))
    pronoun = re.compile(rf"\b(?:{'|'.join(avoided)})\b", re.IGNORECASE)
    assert pronoun.search(narration(free.text))
    assert not pronoun.search(narration(steered.text))


async def test_a_chat_model_writes_at_least_its_minimum_when_steered() -> None:
    model = LocalModel(threads=2, context_tokens=512)
    prompt = [{"role": "user", "content": "Answer with one word: is water wet?"}]
    sampling = Sampling(temperature=0.0, max_tokens=60, seed=1)
    try:
        short = await model.generate(prompt, sampling)
        steered = await model.generate(prompt, sampling.but(min_tokens=30))
    finally:
        await model.close()
    assert short.completion_tokens < 30
    assert steered.completion_tokens >= 30


def test_end_tokens_hold_the_models_end_of_text(gemma: LocalModel) -> None:
    llama = gemma._load()
    assert llama.token_eos() in end_tokens(llama)


async def test_gemma_writes_no_markup_when_steered(gemma: LocalModel) -> None:
    prompt = "<html><body><h1>My page</h1>\n<ul>\n<li>First</li>\n<li>"
    sampling = Sampling(temperature=0.0, max_tokens=40, seed=1)
    free = await gemma.generate(prompt, sampling)
    steered = await gemma.generate(prompt, sampling.but(prose_only=True))
    assert "<" in free.text
    assert not re.search(r"[<>#\u2022\\]|http", steered.text)


async def test_gemma_writes_no_letter_of_a_writing_system_the_story_does_not_use(
    gemma: LocalModel,
) -> None:
    prompt = (
        "English: cat, dog, house.\nChinese: \u732b, \u72d7, \u623f\u5b50.\n"
        "English: tea, water, fire.\nChinese:"
    )
    sampling = Sampling(temperature=0.0, max_tokens=16, seed=1)
    free = await gemma.generate(prompt, sampling)
    steered = await gemma.generate(prompt, sampling.but(scripts_avoid=("cjk",)))
    assert scripts_in(free.text) == {"cjk"}
    assert scripts_in(steered.text) == frozenset()


async def test_a_copy_gemma_is_kept_from_is_never_fused_or_broken(gemma: LocalModel) -> None:
    prompt = (
        "Agnes had even committed the letter to memory before Mrs. Heale came in from the rain. "
    ) * 6
    sampling = Sampling(temperature=0.0, max_tokens=80, seed=1)
    free = await gemma.generate(prompt, sampling)
    steered = await gemma.generate(prompt, sampling.but(no_repeat=4))
    assert "even committed" in free.text and "Mrs. Heale" in free.text
    assert surface.fused_words(steered.text, words(prompt)) == ()
    assert surface.broken_paragraphs(steered.text) == ()
    assert "evencommitted" not in steered.text.lower()
    assert not re.search(r"Mrs\.\s*\n", steered.text)
