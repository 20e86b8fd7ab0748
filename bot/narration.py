"""Telling narration from dialogue, and what the narration says of a story: its person, its
tense and its main character. Pure functions over text."""

from __future__ import annotations

import re
from collections import Counter

from bot.repetition import words

PERSON_WORDS = 2
"""Narration (outside quotes) needs this many first- or second-person words to count as such."""

QUOTED = re.compile(
    r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d|\u201c[^\u201c\u201d\n]*$|\"[^\"\n]*$", re.M
)
FIRST = {"i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"}
SECOND = {"you", "your", "yours", "yourself", "yourselves"}
THIRD = {"he", "him", "his", "himself", "she", "her", "hers", "herself", "they", "them", "their"}
PAST_MARKERS = frozenset({"was", "were", "had", "did", "said", "went", "came", "looked"})
PRESENT_MARKERS = frozenset({"is", "are", "has", "does", "says", "goes", "comes", "looks"})
"""Words that mark the narration's tense."""
STOP_NAMES = {
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "he", "her", "his", "i", "if", "in",
    "it", "its", "my", "no", "not", "now", "of", "on", "once", "one", "or", "our", "she", "so",
    "that", "the", "their", "then", "there", "they", "this", "to", "we", "what", "when", "where",
    "while", "with", "you", "your", "mr", "mrs", "ms", "dr", "god", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december",
    "english", "christmas", "earth",
}  # fmt: skip


def narration(text: str) -> str:
    """`text` without its dialogue: quoted speech removed, unless the whole text is one quote."""
    stripped = text.strip()
    if re.fullmatch(r"[\"\u201c][^\"\u201c\u201d]*[\"\u201d]", stripped):
        return stripped[1:-1]
    return QUOTED.sub(" ", stripped)


def person_counts(text: str) -> tuple[int, int, int]:
    """First-, second- and third-person pronouns in the narration of `text`."""
    tokens = [token.split("'")[0] for token in words(narration(text))]
    return (
        sum(t in FIRST for t in tokens),
        sum(t in SECOND for t in tokens),
        sum(t in THIRD for t in tokens),
    )


def narration_person(text: str) -> str:
    """ "first", "second" or "third": the person the narration (not the dialogue) is told in."""
    first, second, _ = person_counts(text)
    if first >= PERSON_WORDS and first >= second:
        return "first"
    if second >= PERSON_WORDS:
        return "second"
    return "third"


def drifts(text: str, person: str) -> bool:
    """Whether the narration of `text` leaves the story's `person`."""
    first, second, third = person_counts(text)
    if person == "first":
        return (second >= PERSON_WORDS and second > first) or (first == 0 and third >= 3)
    if person == "second":
        return (first >= PERSON_WORDS and first > second) or (second == 0 and third >= 3)
    return first >= PERSON_WORDS or second >= PERSON_WORDS


def main_character(text: str) -> str:
    """The name `text` mentions most (a capitalised word it never writes in lower case), or
    else "He" or "She", whichever it says more."""
    lowered = set(re.findall(r"\b[a-z]+\b", text))
    counts = Counter(
        word
        for word in re.findall(r"\b[A-Z][a-z]+\b", text)
        if word.lower() not in STOP_NAMES and word.lower() not in lowered
    )
    if counts:
        return counts.most_common(1)[0][0]
    pronouns = Counter(re.findall(r"\b(?:he|she)\b", text.lower()))
    return "He" if pronouns["he"] > pronouns["she"] else "She"


def tense(text: str) -> str:
    """ "past" or "present": the tense the narration of `text` is mostly told in."""
    tokens = [token.lower().strip(".,;:!?") for token in narration(text).split()]
    past = sum(token in PAST_MARKERS or token.endswith("ed") for token in tokens)
    present = sum(token in PRESENT_MARKERS for token in tokens)
    return "present" if present > past else "past"
