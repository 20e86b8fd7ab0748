"""Free repairs: model output cleaned, and faults fixed by cutting text, without another model
call. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot import judge, repetition, surface
from bot.judge import (
    ASSISTANT,
    META,
    RECYCLED_WORDS,
    SUMMARY_META,
    StoryView,
    longest_shared_run,
    matches,
    story_texts,
)
from bot.narration import narration
from bot.prompts import COMPLETION_STOP
from bot.split import SENTENCE_END, complete_sentences

BOUNDARY = re.compile(SENTENCE_END.pattern + r"|\s*\n\s*")
CLOSED = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]*_]*(?=\s|$)")
TEXT_PREFIX = re.compile(
    r"^(?:in|throughout|within) (?:this|the) (?:passage|paragraph|excerpt|text|story|summary|"
    r"section|scene)\s*,?\s*",
    re.I,
)


MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u0192\u02c6-\u02dc\u2013-\u2122]{1,3}")
"""A UTF-8 character read as cp1252, as in web text a model learned from: `â€™` for `’`."""
HEADLESS_QUOTE = re.compile("\u00c2?\u20ac([\u2122\u02dc\u0153\u009d])")
"""What is left of a mangled quotation mark whose first byte was lost: `Â€™`."""
QUOTES = {"\u2122": "\u2019", "\u02dc": "\u2018", "\u0153": "\u201c", "\u009d": "\u201d"}


def _cp1252_bytes(text: str) -> bytes:
    """`text` encoded as cp1252, with the five bytes cp1252 leaves undefined as themselves."""
    return b"".join(
        char.encode("cp1252") if char.encode("cp1252", errors="ignore") else bytes([ord(char)])
        for char in text
    )


def unmangled(text: str) -> str:
    """`text` with its mojibake read back as UTF-8 (`â€™` becomes a closing quotation
    mark), and without the replacement characters `\ufffd` that stand for lost bytes."""

    def decoded(match: re.Match[str]) -> str:
        try:
            return _cp1252_bytes(match.group()).decode("utf-8")
        except (UnicodeError, ValueError):
            return match.group()

    text = MOJIBAKE.sub(decoded, text.replace("\ufffd", ""))
    return HEADLESS_QUOTE.sub(lambda match: QUOTES[match.group(1)], text)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence of `text` starts and ends; a line break also ends one."""
    spans = []
    start = 0
    for boundary in BOUNDARY.finditer(text):
        if boundary.start() > start:
            spans.append((start, boundary.start()))
        start = boundary.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def talks(sentence: str, patterns: list[str]) -> bool:
    """Whether the narration of `sentence` talks about the text or to the requester."""
    return bool(matches(narration(sentence), patterns))


def complete(text: str) -> str:
    """`text` cut after its last full sentence, if it has one: a full stop after an
    abbreviation ("Mrs.") ends no sentence."""
    text = text.strip()
    ends = [match.end() for match in CLOSED.finditer(text)]
    ends = [end for end in ends if not surface.ends_on_abbreviation(text[:end])]
    return text[: ends[-1]].rstrip() if ends else text


HTML_TAG = re.compile(judge.HTML_TAG)
BULLET = re.compile(
    r"^[ \t]*(?:[\u2022\u00b7\u25aa\u25ba\u2713\u2714]|[-+]|\*(?:[ \t]*\*)*)[ \t]+(?=[^\s*])", re.M
)
FURNITURE = re.compile(judge.FURNITURE + r"\n?", re.I | re.M)


def without_debris(text: str) -> str:
    """`text` without the debris that can go for free: HTML tags (their words stay), list
    bullets (the line stays), escaped line breaks and lines such as "(Source)"."""
    text = HTML_TAG.sub("", text).replace("\\n", "\n").replace("\\t", " ")
    text = FURNITURE.sub("", BULLET.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def repair_passage(text: str, story: StoryView) -> str:
    """`text` with what can be cut for free cut: a last sentence cut off mid-way, an assistant
    preamble, trailing talk about the text, and opening sentences that copy a run of
    RECYCLED_WORDS words from the story, and debris (`without_debris`); a paragraph break
    inside a sentence is closed up and two words run together are parted where that can be
    done only one way. Only whole sentences at either end are cut, and sentences told again
    in it or anywhere in the story (`without_retold`), so what stays is unchanged; what would
    leave nothing is not cut."""
    text = complete(surface.mended_paragraphs(without_debris(text)))
    text = surface.unfused(text, judge.story_vocabulary(story))
    spans = sentence_spans(text)
    patterns = META + ASSISTANT
    first, last = 0, len(spans)
    while first < last and talks(text[slice(*spans[first])], patterns):
        first += 1
    while last > first and talks(text[slice(*spans[last - 1])], patterns):
        last -= 1
    sources = story_texts(story)
    while last - first > 1:
        run = longest_shared_run(text[slice(*spans[first])], sources)
        if len(run.split()) < RECYCLED_WORDS:
            break
        first += 1
    if first < last:
        text = text[spans[first][0] : spans[last - 1][1]]
    return without_retold(text.strip(), [*sources, *story.earlier])


def without_retold(text: str, sources: Sequence[str]) -> str:
    """`text` without its sentences that tell one of its own or of `sources` again, nearly
    word for word (`repetition.near_copy`), unless that would leave a stub."""
    kept = repetition.drop_repeated_sentences(text, sources)
    left = len(repetition.words(kept))
    if left == len(repetition.words(text)) or left < judge.STUB_WORDS:
        return text
    return kept


def repair_summary(text: str) -> str:
    """A summary that states events: an assistant preamble and sentences describing the text
    dropped, "In this passage, …" openings cut, the last sentence completed."""
    kept = []
    done = complete(without_debris(text))
    for start, end in sentence_spans(done):
        sentence = TEXT_PREFIX.sub("", done[start:end])
        if sentence and not talks(sentence, SUMMARY_META + ASSISTANT):
            kept.append(sentence[0].upper() + sentence[1:])
    return " ".join(kept) or text.strip()


SPECIAL_TOKEN = re.compile(
    r"[ \t]*(?:<\|[^|<>\s]{1,40}\|>|<(?:start|end)_of_[a-z_]{1,20}>|</?(?:bos|eos|pad|unk|s)>)"
    r"[ \t]*"
)
"""A model's own control token written out as text (`<start_of_image>`, `<|im_end|>`, `</s>`)."""


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters (NUL, escape, bell, C1…) that no passage holds; newlines and tabs stay."""


def clean(text: str) -> str:
    """Model output without surrounding space, control characters, its control tokens (each
    becomes a paragraph break), its mojibake (see `unmangled`), a trailing END, a repeated
    marker, or a short first line that only announces the text ("Here is the next passage:")."""
    text = CONTROL_CHARACTERS.sub("", unmangled(text).replace("\r\n", "\n"))
    text = SPECIAL_TOKEN.sub("\n\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = text.split("NEXT PARAGRAPH:")[0].strip()
    text = re.sub(rf"\s*\b{COMPLETION_STOP}\s*$", "", text).strip()
    first, _, rest = text.partition("\n")
    if first.rstrip().endswith(":") and len(first.split()) <= 12 and rest.strip():
        text = rest.strip()
    return "" if text == COMPLETION_STOP else text


def tidy(text: str) -> str:
    """A passage without sentences it already said and without a last sentence cut off by the
    length limit: the cheapest cure for a small model's repetition."""
    return complete_sentences(repetition.drop_repeated_sentences(text)) or text
