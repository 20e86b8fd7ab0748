"""Splitting long text into message-sized pieces at natural boundaries."""

from __future__ import annotations

import re

DISCORD_LIMIT = 2000
PASSAGE_LIMIT = 6000
"""The most characters a model's answer keeps (a 1,000-token passage is about 4,500)."""
SENTENCE_END = re.compile(r"(?<=[.!?\u2026\"'\u201d\u2019)])\s+")
BOUNDARIES = (r"\n\s*\n", r"\s*\n\s*", SENTENCE_END.pattern, r"\s+")
"""Paragraphs, then lines, then sentences, then words."""
JOINERS = ("\n\n", "\n", " ", " ")


def split_text(text: str, limit: int = DISCORD_LIMIT, level: int = 0) -> list[str]:
    """Pieces of at most `limit` characters, split between paragraphs where possible, else
    between lines, else between sentences, else between words. Pieces rejoin with the kind of
    break they were split at, so a line (a header) never runs into the next one. Only a
    single word longer than `limit` is cut."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    if level == len(BOUNDARIES):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    joiner = JOINERS[level]
    pieces: list[str] = []
    current = ""
    for part in re.split(BOUNDARIES[level], text):
        for piece in split_text(part, limit, level + 1):
            candidate = f"{current}{joiner}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = piece
    if current:
        pieces.append(current)
    return pieces


def split_under(header: str, body: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """`header` above `body`, in pieces of at most `limit` characters: the header always goes
    with the first piece of the body, never alone."""
    if not header:
        return split_text(body, limit)
    pieces = split_text(body, limit - len(header) - 1)
    if not pieces:
        return split_text(header, limit)
    return [f"{header}\n{pieces[0]}", *pieces[1:]]


def complete_sentences(text: str) -> str:
    """`text` without a last sentence that was cut off mid-way, if it has a complete one."""
    text = text.strip()
    ends = [match.start() for match in SENTENCE_END.finditer(text)]
    if re.search(r"[.!?\u2026\"'\u201d\u2019)]$", text) or not ends:
        return text
    return text[: ends[-1]].rstrip()


def capped(text: str, limit: int = PASSAGE_LIMIT) -> str:
    """`text` in at most `limit` characters: cut after the last whole sentence that fits, or
    else after the last whole word."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    ends = [match.start() for match in SENTENCE_END.finditer(head)]
    if ends:
        return head[: ends[-1]].rstrip()
    space = max(head.rfind(" "), head.rfind("\n"))
    return text[:space].rstrip() if space > 0 else text[:limit]
