"""Whether a passage moves the story on: it does not tell an earlier passage again, carries
no refrain from earlier passages, and tells the beat it was written toward. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.repetition import ngrams, words

STOPWORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from",
    "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him",
    "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me",
    "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will",
    "with", "would", "you", "your", "yours", "said", "says", "say", "like", "one", "two",
    "back", "still", "even", "also", "s", "t", "d", "ll", "re", "ve", "m",
})  # fmt: skip

RETELLING_SHARE = 0.25
"""A passage whose content words follow one earlier text's, in order, for this share of its
own content words tells that text again."""

RETELLING_MIN_WORDS = 20
"""Passages with fewer content words than this are too short to judge for retelling."""

REFRAIN_WORDS = 6
"""A phrase of this many words is a refrain once two earlier texts have used it."""

REFRAIN_TEXTS = 2

BEAT_SHARE = 0.5
"""A beat happened when at least this share of its key words occur in the passage."""
BEAT_MIN_WORDS = 3
"""A beat of fewer key words ("something strange", "make it darker") asks for a mood, not an
event that words can show; it is not checked."""

TOLD_SHARE = 0.75
"""A beat whose key words, names apart, a passage holds for at least this share has already
happened there."""

STEM = 5
"""Words are compared by their first letters, so "discovers" meets "discovered"."""


def content_words(text: str) -> list[str]:
    """The words of `text` that carry its content, cut to their stems, in order."""
    return [word[:STEM] for word in words(text) if word not in STOPWORDS and len(word) > 2]


def common_subsequence(a: Sequence[str], b: Sequence[str]) -> int:
    """The length of the longest common subsequence of `a` and `b`."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for item in a:
        current = [0]
        for j, other in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if item == other else max(previous[j], current[-1]))
        previous = current
    return previous[-1]


def retelling_share(text: str, earlier: str) -> float:
    """The share of `text`'s content words that follow `earlier`'s, in order."""
    mine = content_words(text)
    if len(mine) < RETELLING_MIN_WORDS:
        return 0.0
    return common_subsequence(mine, content_words(earlier)) / len(mine)


def retold(text: str, earlier: Sequence[str]) -> float:
    """The largest share of `text` that retells one of the `earlier` texts; over
    RETELLING_SHARE it is a retelling."""
    return max((retelling_share(text, other) for other in earlier if other), default=0.0)


def refrains(text: str, earlier: Sequence[str]) -> tuple[str, ...]:
    """Phrases of REFRAIN_WORDS words in `text` that two or more `earlier` texts already
    hold (a phrase made only of small words is no refrain)."""
    mine = ngrams(words(text), REFRAIN_WORDS)
    counts: dict[tuple[str, ...], int] = {}
    for other in earlier:
        for gram in set(ngrams(words(other), REFRAIN_WORDS)):
            counts[gram] = counts.get(gram, 0) + 1
    found = [
        " ".join(gram)
        for gram in mine
        if counts.get(gram, 0) >= REFRAIN_TEXTS and sum(word not in STOPWORDS for word in gram) >= 2
    ]
    return tuple(dict.fromkeys(found))


def beat_words(beat: str) -> list[str]:
    """The key words of a beat: its content words, each once."""
    return list(dict.fromkeys(content_words(beat)))


def beat_share(text: str, beat: str) -> float:
    """The share of the beat's key words that `text` holds; 1 when there is no beat."""
    keys = beat_words(beat)
    if not keys:
        return 1.0
    told = set(content_words(text))
    return sum(key in told for key in keys) / len(keys)


def told_already(text: str, beat: str) -> bool:
    """Whether `text` already tells `beat`: it holds TOLD_SHARE of the beat's key words other
    than names, since people and places stay in a story while what they do must change
    ("Dale looked at Nora, his eyes widening with concern" after "Dale turned around, his eyes
    widening with concern"). A beat with fewer than BEAT_MIN_WORDS such words is not judged."""
    unnamed = re.sub(r"\b[A-Z][\w'\u2019-]*", " ", beat)
    if len(beat_words(unnamed)) < BEAT_MIN_WORDS:
        return False
    return beat_share(text, unnamed) >= TOLD_SHARE


def beat_happened(text: str, beat: str) -> bool:
    """Whether the passage tells its beat (a beat too vague to check always has)."""
    if len(beat_words(beat)) < BEAT_MIN_WORDS:
        return True
    return beat_share(text, beat) >= BEAT_SHARE
