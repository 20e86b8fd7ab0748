"""Steering the embedded model token by token, where a prompt cannot reach a base model.

A base model takes no instructions, so what the writer asks of it is enforced while it
samples, by masking tokens out before each choice:

- **no copying**: a token that would repeat a run of `no_repeat` tokens already in the
  prompt or the answer is never chosen, so a passage cannot recycle a line of the story. Only
  a token that starts a new word is held back: masking the rest of a word (the "t" of
  "don't") would make the model break the word instead. Its twins are held back with it
  (the same word without its space, or capitalised), and so is every token of white space
  alone, so a held-back copy can neither fuse two words ("evencommitted"), break a paragraph
  ("Mrs.⏎⏎Hale") nor slip through after a tab or a second space ("one last⇥time");
- **the story's person**: outside quotation marks, the words in `narration_avoid` (such as
  "I" and "my" in a third-person story) are never chosen; dialogue may use any word;
- **no stubs**: the end of the text cannot come before `min_tokens` tokens;
- **prose only**: with `prose_only`, no token that writes markup (`<`, `>`, a bullet, `#`, a
  backslash, a link) is ever chosen;
- **the story's writing system**: no token with a letter of a script in `scripts_avoid` (the
  Chinese word a multilingual model slips into an English story) is ever chosen.

The tokenizer is handed in as two functions, so the logic runs without a model in tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.llm.base import Sampling

Tokenize = Callable[[str], list[int]]
"""A text's tokens, without a beginning-of-text token and with no special tokens."""
Detokenize = Callable[[int], str]
"""One token's text."""

MARKUP = re.compile(r"[<>\u2022\u25aa\u25ba#\\]|http|www\.")
"""What a token that writes markup holds; story prose never needs it."""

SCRIPTS = {
    "cjk": re.compile(
        "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
        "\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
    ),
    "cyrillic": re.compile("[\u0400-\u04ff]"),
    "greek": re.compile("[\u0370-\u03ff]"),
    "arabic": re.compile("[\u0600-\u06ff]"),
    "hebrew": re.compile("[\u0590-\u05ff]"),
    "indic and thai": re.compile("[\u0800-\u0fff]"),
}
"""Writing systems other than the Latin alphabet, each by the letters it writes with."""

LEAD_BYTES = {
    "cjk": range(0xE3, 0xEE),
    "cyrillic": range(0xD0, 0xD4),
    "greek": range(0xCD, 0xD0),
    "arabic": range(0xD8, 0xDC),
    "hebrew": range(0xD6, 0xD8),
    "indic and thai": range(0xE0, 0xE1),
}
"""The first bytes of each writing system's letters in UTF-8: a token that is part of a
letter (a byte of it, as a model with byte fallback writes a rare character) starts it with
one of these. None of them starts a Latin letter or the punctuation of English prose."""

OPENING_QUOTES = frozenset('"\u201c')
CLOSING_QUOTES = frozenset('"\u201d')


def is_steered(sampling: Sampling) -> bool:
    """Whether `sampling` asks for any steering at all."""
    return bool(
        sampling.no_repeat
        or sampling.narration_avoid
        or sampling.min_tokens
        or sampling.prose_only
        or sampling.scripts_avoid
    )


def markup_tokens(pieces: Iterable[tuple[int, str]]) -> list[int]:
    """The tokens among `pieces` (token, text) whose text writes markup (see MARKUP)."""
    return [token for token, text in pieces if MARKUP.search(text)]


def scripts_in(text: str) -> frozenset[str]:
    """The writing systems of SCRIPTS that `text` has letters of."""
    return frozenset(name for name, letters in SCRIPTS.items() if letters.search(text))


def unused_scripts(text: str) -> tuple[str, ...]:
    """The writing systems of SCRIPTS that `text` has no letter of: a story told in them is
    never written into."""
    used = scripts_in(text)
    return tuple(name for name in SCRIPTS if name not in used)


def script_tokens(pieces: Iterable[tuple[int, bytes]]) -> dict[str, list[int]]:
    """The tokens among `pieces` (token, its bytes) that write a letter of each writing
    system, or begin one. Plain ASCII tokens, most of a vocabulary, are passed over at once."""
    found: dict[str, list[int]] = {name: [] for name in SCRIPTS}
    for token, raw in pieces:
        if raw.isascii():
            continue
        text = raw.decode("utf-8", errors="ignore")
        for name in SCRIPTS:
            if SCRIPTS[name].search(text) or any(byte in LEAD_BYTES[name] for byte in raw):
                found[name].append(token)
    return found


def blank_tokens(pieces: Iterable[tuple[int, str]]) -> list[int]:
    """The tokens among `pieces` (token, text) that write only white space: a line break, a
    tab, a space on its own or several."""
    return [token for token, text in pieces if text and not text.strip()]


def twin_spellings(text: str) -> set[str]:
    """The spellings a held-back word-start token could be swapped for to write the same
    word anyway: without its space, and in lower case or capitalised, with or without it."""
    word = text.lstrip()
    if not word:
        return set()
    cases = {word, word[0].lower() + word[1:], word[0].upper() + word[1:]}
    return {spelling for case in cases for spelling in (case, f" {case}")} - {text}


def word_tokens(words: Iterable[str], tokenize: Tokenize) -> list[int]:
    """The single tokens that write any of `words` as a whole word: lower case or
    capitalised, with or without a space before it. A spelling that takes more than one
    token is left alone, since masking part of it would mask other words too."""
    found: set[int] = set()
    for word in words:
        for spelling in {word.lower(), word.capitalize(), word.upper()}:
            for variant in (spelling, f" {spelling}"):
                tokens = tokenize(variant)
                if len(tokens) == 1:
                    found.add(tokens[0])
    return sorted(found)


class Steering:
    """A llama-cpp-python logits processor for one generation whose prompt is the first
    `prompt_length` tokens of what it is shown."""

    def __init__(
        self,
        sampling: Sampling,
        prompt_length: int,
        tokenize: Tokenize,
        detokenize: Detokenize,
        ends: Sequence[int],
        markup: Sequence[int] = (),
        blanks: Sequence[int] = (),
        foreign: Sequence[int] = (),
    ) -> None:
        self.size = sampling.no_repeat
        self.min_tokens = sampling.min_tokens
        self.avoided = word_tokens(sampling.narration_avoid, tokenize)
        self.ends = list(ends)
        self.never = [*(markup if sampling.prose_only else ()), *foreign]
        """Tokens never chosen: markup in prose, letters of writing systems the story lacks."""
        self.blanks = list(blanks)
        self.prompt_length = prompt_length
        self.tokenize = tokenize
        self.detokenize = detokenize
        self.followers: dict[tuple[int, ...], set[int]] = {}
        self.indexed = 0
        """How many of the tokens seen so far have had their run recorded."""
        self.read = prompt_length
        """How many tokens have been read for quotation marks (the prompt is not read: the
        answer starts outside any quotation)."""
        self.quoted = False
        self._word_starts: dict[int, bool] = {}
        self._twins: dict[int, list[int]] = {}

    def banned(self, tokens: Sequence[int]) -> list[int]:
        """The tokens that may not come next after `tokens` (the prompt and the answer so
        far)."""
        banned: list[int] = []
        if self.size > 1:
            self._index(tokens)
            followers = self.followers.get(tuple(tokens[len(tokens) - self.size + 1 :]), ())
            held = [token for token in followers if self._starts_word(token)]
            for token in held:
                banned += [token, *self._twins_of(token)]
            if held:
                banned += self.blanks
        self._read_quotes(tokens)
        if not self.quoted:
            banned += self.avoided
        if len(tokens) - self.prompt_length < self.min_tokens:
            banned += self.ends
        return banned + self.never

    def _index(self, tokens: Sequence[int]) -> None:
        """Record, for every run of `size - 1` tokens, the tokens that have followed it."""
        for end in range(max(self.indexed, self.size), len(tokens) + 1):
            run = tuple(tokens[end - self.size : end - 1])
            self.followers.setdefault(run, set()).add(tokens[end - 1])
        self.indexed = len(tokens) + 1

    def _starts_word(self, token: int) -> bool:
        """Whether `token` begins with a space or a line break, so it starts a new word."""
        if token not in self._word_starts:
            self._word_starts[token] = self.detokenize(token)[:1].isspace()
        return self._word_starts[token]

    def _twins_of(self, token: int) -> list[int]:
        """The single tokens that spell `token`'s word another way (see `twin_spellings`)."""
        if token not in self._twins:
            spellings = twin_spellings(self.detokenize(token))
            found = (self.tokenize(spelling) for spelling in sorted(spellings))
            self._twins[token] = sorted({t[0] for t in found if len(t) == 1} - {token})
        return self._twins[token]

    def _read_quotes(self, tokens: Sequence[int]) -> None:
        """Follow whether the answer is inside quotation marks; a line break ends a quote."""
        for token in tokens[self.read :]:
            for char in self.detokenize(token):
                if char == "\n":
                    self.quoted = False
                elif char in OPENING_QUOTES and not self.quoted:
                    self.quoted = True
                elif char in CLOSING_QUOTES:
                    self.quoted = False
        self.read = max(self.read, len(tokens))

    def __call__(self, tokens: Any, scores: Any) -> Any:
        banned = self.banned(list(tokens))
        if banned:
            scores[banned] = -math.inf
        return scores
