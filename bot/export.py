"""Stories out of the database: Markdown to read, JSONL to fine-tune on."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from bot import loops
from bot.llm.scripted import prompt_text
from bot.prompts import COMPLETION_STOP, Context, render, words_for
from bot.store import Passage, Story

COPY_LIMIT = loops.OVERLAP_LIMIT
"""Pairs whose completion shares more than this share of 4-grams with its prompt are dropped."""


def markdown(story: Story, line: Sequence[Passage]) -> str:
    """The story as one Markdown document: a title, then each passage as a paragraph."""
    parts = [f"# {story.title or 'Untitled story'}"]
    parts += [passage.text.strip() for passage in line]
    return "\n\n".join(parts) + "\n"


def finetune_rows(line: Sequence[Passage], style: str, length: int) -> Iterator[dict[str, Any]]:
    """One training row per model-written passage on the story's line.

    `completion` rows are `{"prompt", "completion"}` in the original format (completion is
    `" " + text + " END"`); `chat` rows are `{"messages": [...]}` ending with the passage.
    Each prompt is exactly what the engine sends for that context in that style. Rows whose
    completion copies its prompt are left out.
    """
    for passage in line:
        if passage.context is None:
            continue
        prompt = render(Context.from_dict(passage.context), style, words_for(length))
        if loops.overlap(passage.text, prompt_text(prompt)) > COPY_LIMIT:
            continue
        if isinstance(prompt, str):
            yield {"prompt": prompt, "completion": f" {passage.text} {COMPLETION_STOP}"}
        else:
            yield {"messages": [*prompt, {"role": "assistant", "content": passage.text}]}


def jsonl(rows: Iterator[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
