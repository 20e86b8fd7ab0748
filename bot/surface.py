"""Faults on the surface of prose: broken paragraphs, fused words, endings cut off. Pure
functions over one passage (and the words its story already uses)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from wordfreq import zipf_frequency

WORD_LIST = Path(__file__).resolve().parent.parent / "data" / "words" / "english.txt"
"""English words, one a line, in lower case, American and British spellings (SCOWL, via
Debian's wamerican-huge and wbritish-huge; see its LICENSE)."""

ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "mt", "prof", "capt", "col", "gen", "lt", "sgt", "rev"}
    | {"jr", "sr", "vs", "fr", "hon", "gov", "sen", "rep", "messrs", "mme", "mlle"}
)
"""Abbreviations a sentence never ends on: a text or a paragraph that stops on one ("Mrs.")
was cut off before the name it announces."""

END_MARK = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]*_]*$")
LAST_WORD = re.compile(r"([A-Za-z]+)\.[\"'\u201d\u2019)\]]*$")
PARAGRAPHS = re.compile(r"\n[ \t]*\n")
FIRST_LETTER = re.compile(r"^[\s\"'\u201c\u2018*_\u2014\u2013-]*([^\s\"'\u201c\u2018*_])")
"""A paragraph's first letter, past quotation marks and dashes; a paragraph that opens on a
bracket, such as a stage direction, has none."""
WORDS = re.compile(r"[A-Za-z]+")
SCENE_BREAK = re.compile(r"^[\s*\u2022\u2026.#~-]*$")
PARAGRAPH_WORDS = 4
"""Shorter lines are headings or furniture (debris), not paragraphs of prose."""
SHORT_PART = 3
"""Parts of a fused word this short or shorter must be SHORT_WORDS: the list holds many
two- and three-letter abbreviations that would split any word ("co" + "lour")."""
SHORT_WORDS = frozenset(
    re.findall(
        r"\w+",
        """a an as at be by do go he if in is it me my no of on or so to up us we
        all and any are but can did for got had has her him his its let may nor not now off
        one our out own saw say she the too two was way who why yet you""",
    )
)
FUSED_LENGTH = 6
"""The shortest run of letters read as two fused words; shorter ones are too often names or
words the list lacks."""


@cache
def english_words() -> frozenset[str]:
    """The English word list, in lower case."""
    return frozenset(WORD_LIST.read_text(encoding="utf-8").split())


def ends_on_abbreviation(text: str) -> bool:
    """Whether `text` stops on an abbreviation such as "Mrs.", which no sentence ends on."""
    match = LAST_WORD.search(text.strip())
    return bool(match) and match.group(1).lower() in ABBREVIATIONS


def cut_off(text: str) -> bool:
    """Whether `text` ends mid-sentence: without closing punctuation, or on an abbreviation."""
    text = text.strip()
    return not END_MARK.search(text) or ends_on_abbreviation(text)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of `text`, split at blank lines, without scene breaks."""
    found = (part.strip() for part in PARAGRAPHS.split(text.strip()))
    return [part for part in found if part and not SCENE_BREAK.match(part)]


def broken_paragraphs(text: str) -> tuple[str, ...]:
    """The paragraphs of `text` that break inside a sentence: one that begins in lower case,
    or one before the last that ends with no end mark or on an abbreviation. The last
    paragraph's ending is the cut-off check's."""
    parts = paragraphs(text)
    broken = []
    for index, part in enumerate(parts):
        if len(part.split()) < PARAGRAPH_WORDS:
            continue
        first = FIRST_LETTER.match(part)
        starts_low = bool(first) and first.group(1).islower()
        ends_open = index < len(parts) - 1 and _open(part)
        if starts_low or ends_open:
            broken.append(part)
    return tuple(broken)


def mended_paragraphs(text: str) -> str:
    """`text` with every paragraph break that falls inside a sentence closed up: after a
    paragraph that ends with no end mark or on an abbreviation, or before one that begins in
    lower case."""
    parts = [part.strip() for part in PARAGRAPHS.split(text.strip())]
    mended: list[str] = []
    for part in parts:
        first = FIRST_LETTER.match(part)
        starts_low = bool(first) and first.group(1).islower()
        scene_break = bool(SCENE_BREAK.match(part))
        if mended and part and not scene_break and (starts_low or _open(mended[-1])):
            mended[-1] = f"{mended[-1]} {part}"
        else:
            mended.append(part)
    return "\n\n".join(part for part in mended if part)


def _open(paragraph: str) -> bool:
    """Whether a paragraph stops inside a sentence: a scene break never does, nor one that
    ends on a colon, announcing what follows, nor one ending on a tag (that is debris)."""
    paragraph = paragraph.rstrip()
    if SCENE_BREAK.match(paragraph) or paragraph.endswith((":", ">")):
        return False
    return cut_off(paragraph)


def split_in_two(word: str, known: frozenset[str]) -> tuple[str, str] | None:
    """Two known words that `word` is made of, run together, or None."""
    splits = all_splits(word, known)
    return splits[0] if splits else None


def all_splits(word: str, known: frozenset[str]) -> list[tuple[str, str]]:
    """Every way of reading `word` as two known words run together."""
    cuts = ((word[:cut], word[cut:]) for cut in range(1, len(word)))
    return [(left, right) for left, right in cuts if _part(left, known) and _part(right, known)]


def _part(word: str, known: frozenset[str]) -> bool:
    return word in SHORT_WORDS if len(word) <= SHORT_PART else word in known


def in_use(word: str) -> bool:
    """Whether English text uses `word` at all (wordfreq's frequencies): compounds the word
    list lacks ("rearview", "toolbelt") are in use; two words run together are not."""
    return zipf_frequency(word, "en") > 0


def fused_words(text: str, story_words: Iterable[str] = ()) -> tuple[str, ...]:
    """The words of `text` that are two words run together ("evencommitted"): in lower case,
    neither in the English word list, nor in use in English, nor anywhere else in the story,
    and made of two words that are. Capitalised words are names, and left alone."""
    known = english_words()
    story = {word.lower() for word in story_words}
    found = []
    for word in WORDS.findall(text):
        if len(word) < FUSED_LENGTH or not word.islower():
            continue
        if word in known or word in story or _inflected(word, known) or in_use(word):
            continue
        if split_in_two(word, known):
            found.append(word)
    return tuple(dict.fromkeys(found))


def unfused(text: str, story_words: Iterable[str] = ()) -> str:
    """`text` with each fused word (`fused_words`) written as the two words it runs together,
    where it can be read only one way ("thehelm" → "the helm"); a word that splits more ways
    is left as it is."""
    known = english_words()
    for word in fused_words(text, story_words):
        splits = all_splits(word, known)
        if len(splits) == 1:
            text = re.sub(rf"\b{word}\b", " ".join(splits[0]), text)
    return text


def _inflected(word: str, known: frozenset[str]) -> bool:
    """Whether `word` is a known word with a common ending the list may lack."""
    for ending in ("s", "es", "ed", "d", "ing", "ly", "er", "est", "ness"):
        stem = word.removesuffix(ending)
        if stem != word and (stem in known or stem + "e" in known):
            return True
    return False
