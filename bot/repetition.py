"""Repetition metrics and the loop guard's verdict. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.split import SENTENCE_END

WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")

OVERLAP_LIMIT = 0.3
"""A passage sharing more than this share of its word 4-grams with a recent text loops."""

REPETITION_LIMIT = 0.2
"""A passage whose seq-rep-4 is above this repeats itself."""

RECENT = 3
"""How many earlier passages a new one is compared with."""

NEAR_COPY_RATIO = 0.8
"""Two sentences whose words, in order, are this alike are one sentence told twice: a word
swapped or broken ("make sure" written "makesure") does not make a new one."""

NEAR_COPY_WORDS = 8
"""A sentence shorter than this is never a near copy: short lines ("He nodded.") recur."""


def words(text: str) -> list[str]:
    """Lower-cased words, punctuation dropped."""
    return WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def overlap(text: str, earlier: str, n: int = 4) -> float:
    """The share of `text`'s distinct word n-grams that also occur in `earlier`."""
    mine = set(ngrams(words(text), n))
    if not mine:
        return 0.0
    return len(mine & set(ngrams(words(earlier), n))) / len(mine)


def seq_rep(text: str, n: int = 4) -> float:
    """Within-text repetition: 1 - unique / total word n-grams."""
    grams = ngrams(words(text), n)
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def distinct(texts: Iterable[str], n: int = 3) -> float:
    """Distinct-n over several texts: unique / total word n-grams."""
    grams = [gram for text in texts for gram in ngrams(words(text), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repeated_phrase(text: str, references: Sequence[str], n: int = 4) -> str:
    """The longest run of words in `text` that is repeated from `references` or from itself.

    Used to tell the model exactly what not to repeat.
    """
    tokens = words(text)
    seen = {gram for reference in references for gram in ngrams(words(reference), n)}
    counts = Counter(ngrams(tokens, n))
    best: tuple[int, int] = (0, 0)
    start = None
    for i, gram in enumerate([*ngrams(tokens, n), None]):
        repeated = gram is not None and (gram in seen or counts[gram] > 1)
        if repeated and start is None:
            start = i
        elif not repeated and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    if best == (0, 0):
        return ""
    return " ".join(tokens[best[0] : best[1] + n - 1])


@dataclass(frozen=True)
class LoopCheck:
    """How much a passage repeats recent text and itself."""

    overlap: float
    repetition: float

    @property
    def loops(self) -> bool:
        return self.overlap > OVERLAP_LIMIT or self.repetition > REPETITION_LIMIT

    @property
    def badness(self) -> float:
        """How far past the limits it is; lower is better, and used to pick among attempts."""
        return max(self.overlap / OVERLAP_LIMIT, self.repetition / REPETITION_LIMIT)


def check(text: str, recent: Sequence[str]) -> LoopCheck:
    """Measure `text` against the recent texts (passages, summary) and against itself."""
    worst = max((overlap(text, earlier) for earlier in recent if earlier), default=0.0)
    return LoopCheck(overlap=worst, repetition=seq_rep(text))


def near_copy(mine: Sequence[str], theirs: Sequence[str]) -> bool:
    """Whether a sentence of words `mine` tells one of words `theirs` again, word for word or
    nearly (see NEAR_COPY_RATIO)."""
    short, long = sorted((len(mine), len(theirs)))
    if short < NEAR_COPY_WORDS or short < NEAR_COPY_RATIO / (2 - NEAR_COPY_RATIO) * long:
        return False
    shared = sum((Counter(mine) & Counter(theirs)).values())
    if 2 * shared < NEAR_COPY_RATIO * (len(mine) + len(theirs)):
        return False
    return SequenceMatcher(None, mine, theirs, autojunk=False).ratio() >= NEAR_COPY_RATIO


def drop_repeated_sentences(text: str, sources: Iterable[str] = ()) -> str:
    """`text` without the sentences that already appeared in it, or nearly (`near_copy`), in
    it or in one of `sources`; paragraphs kept."""
    told = [words(s) for source in sources for s in SENTENCE_END.split(source) if s.strip()]
    seen: set[str] = set()
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        kept = []
        for sentence in SENTENCE_END.split(paragraph.strip()):
            mine = words(sentence)
            key = " ".join(mine)
            if key and key not in seen and not any(near_copy(mine, s) for s in told):
                seen.add(key)
                told.append(mine)
                kept.append(sentence.strip())
        if kept:
            paragraphs.append(" ".join(kept))
    return "\n\n".join(paragraphs)
