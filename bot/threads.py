"""Threads: the questions a story raises (who sent the signal, what the stranger wants) that a
reader expects it to come back to.

The questions an opening raises are found by the planner's model when a story starts;
members add their own. Every few passages the planner's beat takes a step toward answering
the open thread that has moved least, and once a thread has had its steps, a beat answers
it and it is closed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.prompts import labels
from bot.store.records import Thread

EVERY = 3
"""One beat in this many is about an open thread (the second, the fifth, the eighth...)."""
STEPS = 2
"""How many steps a thread takes before a beat answers it."""
MOST = 3
"""The most questions kept from an opening."""
MIN_WORDS, MAX_WORDS = 3, 25
NUMBERING = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022]|q\d*[:.)])\s*", re.IGNORECASE)
ABOUT_THE_TEXT = re.compile(r"\b(?:story|stories|opening|reader|author|passage)\b", re.I)


@dataclass(frozen=True)
class ThreadStep:
    """The thread a beat is to move on, and whether it is to answer it."""

    thread: Thread
    resolves: bool

    @property
    def kind(self) -> str:
        """The kind of event the planner is asked for, with the thread's question in it."""
        body = labels("plan_threads")["resolve" if self.resolves else "advance"]
        return body.format(question=" ".join(self.thread.text.split()))


def due(threads: Sequence[Thread], depth: int) -> ThreadStep | None:
    """The thread the beat of passage number `depth` moves on, if it is a thread's turn: the
    open thread moved least, the oldest among equals."""
    if not threads or depth % EVERY != EVERY - 1:
        return None
    thread = min(threads, key=lambda t: (t.advanced, t.id))
    return ThreadStep(thread, resolves=thread.advanced >= STEPS)


def questions(answer: str) -> list[str]:
    """The questions in a model's answer that can be a story's threads: one per line, a
    whole question about the story's world (not about the story as a text), none the same
    as another."""
    found: list[str] = []
    for line in answer.splitlines():
        question = NUMBERING.sub("", line).strip().strip('"*').strip()
        if not question.endswith("?") or question.count("?") > 1:
            continue
        if not MIN_WORDS <= len(question.split()) <= MAX_WORDS:
            continue
        if ABOUT_THE_TEXT.search(question):
            continue
        if question.lower() not in (known.lower() for known in found):
            found.append(question)
    return found[:MOST]
