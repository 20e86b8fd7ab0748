"""Stories out of the database: Markdown to read, JSONL to fine-tune on."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from bot import repetition
from bot.llm import prompt_text
from bot.llm.base import prefill
from bot.prompts import COMPLETION_STOP, Context, inert_for, render, words_for
from bot.store import Passage, Story, Thread
from bot.wording import plural

COPY_LIMIT = repetition.OVERLAP_LIMIT
"""Pairs whose completion shares more than this share of 4-grams with its prompt are dropped."""


def markdown(
    story: Story, line: Sequence[Passage], *, beats: bool = False, threads: Sequence[Thread] = ()
) -> str:
    """The story as one Markdown document: a title, then each passage as a paragraph; with
    `beats`, each passage's beat (what it was written to make happen) above it, quoted, and
    the story's `threads` at the end."""
    parts = [f"# {story.title or 'Untitled story'}"]
    for passage in line:
        if beats and passage.beat:
            parts.append("> " + " ".join(passage.beat.split()))
        parts.append(passage.text.strip())
    if beats and threads:
        parts.append("## Threads")
        parts.append(
            "\n".join(
                f"- {' '.join(t.text.split())} ({'open' if t.status == 'open' else 'closed'},"
                f" moved on {plural(t.advanced, 'time')})"
                for t in threads
            )
        )
    return "\n\n".join(parts) + "\n"


def finetune_rows(line: Sequence[Passage], style: str, length: int) -> Iterator[dict[str, Any]]:
    """One training row per model-written passage on the story's line.

    `completion` rows are `{"prompt", "completion"}` in the original format (completion is
    `" " + text + " END"`); `chat` rows are `{"messages": [...]}` ending with the whole passage
    (one that began with its beat has that sentence in the answer, not a message of its own).
    Each prompt is exactly what the engine sends for that context in that style. Rows whose
    completion copies its prompt are left out. The answer is made inert like the prompt's text,
    so the only markers in a row are the format's own.
    """
    inert = inert_for(style)
    for passage in line:
        if passage.context is None:
            continue
        prompt = render(Context.from_dict(passage.context), style, words_for(length))
        if repetition.overlap(passage.text, prompt_text(prompt)) > COPY_LIMIT:
            continue
        if isinstance(prompt, str):
            yield {"prompt": prompt, "completion": f" {inert(passage.text)} {COMPLETION_STOP}"}
        else:
            answer = {"role": "assistant", "content": inert(passage.text)}
            yield {"messages": [*prefill(prompt)[0], answer]}


def preference_rows(
    choices: Sequence[tuple[Passage, Sequence[Passage]]], length: int
) -> Iterator[dict[str, Any]]:
    """OpenAI preference (DPO) fine-tuning rows: one per chosen/unchosen pair.

    `choices` holds, for each closed passage ballot, the chosen candidate and the unchosen
    ones. The input is the chat prompt the candidates were written from, without the chosen
    one's beat (each candidate began with its own).
    """
    for chosen, unchosen in choices:
        if chosen.context is None:
            continue
        context = replace(Context.from_dict(chosen.context), warning="", lead="")
        messages = render(context, "chat", words_for(length))
        inert = inert_for("chat")
        for other in unchosen:
            yield {
                "input": {"messages": messages, "tools": [], "parallel_tool_calls": True},
                "preferred_output": [{"role": "assistant", "content": inert(chosen.text)}],
                "non_preferred_output": [{"role": "assistant", "content": inert(other.text)}],
            }


def jsonl(rows: Iterator[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
