"""Prompt files, and the context of one step: assembled, fitted to a budget, rendered.

Every prompt is a file in `prompts/`, filled with `str.format`. `context.txt` holds the
labels of the context sections as `[name]` blocks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from bot.inert import inert_chat, inert_completion, inert_prose, tagged_section
from bot.llm.base import Message, Prompt
from bot.split import SENTENCE_END

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
COMPLETION_MARKER = "\n\nNEXT PARAGRAPH:"
COMPLETION_STOP = "END"
ENDING_SENTENCES = 2
"""How many of the latest passage's sentences a chat model writing from a lead is shown."""


@cache
def template(prompt: str) -> str:
    """The text of `prompts/PROMPT.txt`, without its final newline."""
    return (PROMPTS_DIR / f"{prompt}.txt").read_text(encoding="utf-8").removesuffix("\n")


def fill(prompt: str, **values: Any) -> str:
    return template(prompt).format(**values)


@cache
def labels(prompt: str = "context") -> dict[str, str]:
    """The `[name]` blocks of `prompts/PROMPT.txt`."""
    names = re.findall(r"^\[(\w+)\]$", template(prompt), flags=re.M)
    bodies = re.split(r"^\[\w+\]\n", template(prompt), flags=re.M)[1:]
    return {name: body.strip("\n") for name, body in zip(names, bodies, strict=True)}


def estimate_tokens(text: str) -> int:
    """A backend-independent token estimate: one token per four characters, rounded up."""
    return math.ceil(len(text) / 4)


def words_for(tokens: int) -> int:
    """About how many English words fit in `tokens` tokens."""
    return max(10, tokens * 3 // 4)


@dataclass(frozen=True)
class LoreNote:
    kind: str
    name: str
    text: str


@dataclass(frozen=True)
class Context:
    """Everything one step is generated from. `passages` is oldest first; the last is never
    trimmed."""

    passages: tuple[str, ...]
    summary: str = ""
    memory: str = ""
    lore: tuple[LoreNote, ...] = ()
    note: str = ""
    direction: str = ""
    nudges: str = ""
    warning: str = ""
    title: str = ""
    opening: str = ""
    """The story's first passage: in the chat style always, at the head of the frame, so every
    step keeps the narrator, the setting and the question the story began with; in the prose
    style when it is no longer among `passages` (a base model keeps the names, places and voice
    of the page it can see)."""
    lead: str = ""
    """The first words of the next paragraph, for the model to go on from: a base model's
    page runs on to them (prose), a chat model's answer starts with them (chat)."""
    ledger: str = ""
    """What the continuity ledger holds of the story: its people, places and facts."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Context:
        lore = tuple(LoreNote(**entry) for entry in data.get("lore", ()))
        return cls(**{**data, "passages": tuple(data["passages"]), "lore": lore})


def labelled(section: str, **values: str) -> str:
    return labels()[section].format(**values)


@cache
def chat_labels() -> tuple[str, ...]:
    """The label each context section starts with in chat style, such as `Latest passages:`."""
    return tuple(body.split("{")[0].strip() for body in labels().values())


@cache
def prose_labels() -> tuple[str, ...]:
    """The labels of the prose front matter, such as `Previously:`."""
    return tuple(body.split("{")[0].strip() for body in labels("prose_context").values())


def one_line(text: str) -> str:
    """`text` on one line: a member's title or premise cannot start a line of the prompt."""
    return " ".join(text.split())


def inert_for(style: str) -> Callable[[str], str]:
    """The function that makes member or model text inert in a prompt of this style."""
    if style == "chat":
        return lambda text: inert_chat(text, chat_labels())
    if style == "prose":
        return lambda text: inert_prose(text, prose_labels())
    return inert_completion


def inert_context(context: Context, style: str) -> Context:
    """`context` with every text a member or the model wrote made inert for `style`."""
    inert = inert_for(style)
    return replace(
        context,
        passages=tuple(inert(passage) for passage in context.passages),
        lore=tuple(LoreNote(n.kind, inert(n.name), inert(n.text)) for n in context.lore),
        **{
            name: inert(getattr(context, name))
            for name in (
                *("summary", "memory", "opening", "note", "direction", "nudges", "warning"),
                *("ledger", "lead"),
            )
        },
    )


def _standing(context: Context) -> list[tuple[str, str]]:
    """The sections that change least from one step to the next, named and labelled: the
    opening, the memory, the lore, the ledger."""
    sections = []
    if context.opening:
        sections.append(("opening", labelled("opening", text=context.opening)))
    if context.memory:
        sections.append(("memory", labelled("memory", text=context.memory)))
    sections += [
        ("lore", labelled("lore", kind=entry.kind, name=entry.name, text=entry.text))
        for entry in context.lore
    ]
    if context.ledger:
        sections.append(("ledger", labelled("ledger", text=context.ledger)))
    return sections


def _steering(context: Context) -> list[tuple[str, str]]:
    """The sections that steer this one step: the note, the direction, nudges, a warning."""
    return [
        (name, labelled(name, text=getattr(context, name)))
        for name in ("note", "direction", "nudges", "warning")
        if getattr(context, name)
    ]


def _sections(context: Context) -> list[tuple[str, str]]:
    """The non-story sections, named and labelled, in the order they are shown."""
    return _standing(context) + _steering(context)


def render_frame(context: Context) -> str:
    """What every chat prompt about the story starts with, in one form: the opening, the
    memory, the lore, the ledger and the summary, each between tags member text cannot close.

    The writer's, the planner's and the summariser's prompts all begin with the chat system
    message and this frame, so a model that runs them one after another (llama.cpp keeps what
    it evaluated of the longest common prefix) reads the shared part once."""
    context = inert_context(context, "chat")
    parts = _standing(context)
    if context.summary:
        parts.append(("summary", labelled("summary", text=context.summary)))
    return "\n\n".join(tagged_section(name, text) for name, text in parts)


def story_chat(context: Context, task: str) -> list[Message]:
    """A chat about the story: the system message, then one user message holding the frame of
    `context` (render_frame) and `task`, the part that is this call's own."""
    frame = render_frame(context)
    return [
        {"role": "system", "content": template("chat_system")},
        {"role": "user", "content": "\n\n".join(filter(None, (frame, task)))},
    ]


def render_chat(context: Context, words: int) -> list[Message]:
    """A system message and one user message with the labelled context, each section between
    tags that member text cannot close.

    With a `lead` (the beat, as the passage's first sentence), the model is shown only the
    end of the latest passage, so there is little to tell again, and its answer is the lead
    continued: a closing assistant message holds it."""
    inert = inert_context(context, "chat")
    parts = _steering(inert)
    if inert.lead:
        ending = " ".join(SENTENCE_END.split(inert.passages[-1].strip())[-ENDING_SENTENCES:])
        parts.append(("ending", labelled("ending", text=ending)))
    else:
        parts.append(("passages", labelled("passages", text="\n\n".join(inert.passages))))
    sections = "\n\n".join(tagged_section(name, text) for name, text in parts)
    lead = one_line(inert.lead.strip())
    task = (
        fill("chat_beat", context=sections, words=words, lead=lead)
        if lead
        else fill("chat_passage", context=sections, words=words)
    )
    messages = story_chat(context, task)
    if lead:
        messages.append({"role": "assistant", "content": lead})
    return messages


def render_completion(context: Context) -> str:
    """The fine-tuning format: story text, then `\\n\\nNEXT PARAGRAPH:`.

    Non-story sections come first, each in square brackets; without them the prompt is
    exactly `summary + " " + passages + "\\n\\nNEXT PARAGRAPH:"`, as the model was trained.
    Member text cannot add a marker of this format.
    """
    context = inert_context(context, "completion")
    notes = "".join(f"[{text}]\n" for _, text in _sections(context))
    story = " ".join(part for part in (context.summary, *context.passages) if part)
    return fill("completion_passage", context=notes + story)


def render_prose(context: Context) -> str:
    """Prose for a base model to continue, framed the way a book frames it: a title page with
    the memory and the lore, a "Previously", then the story running on to where the next
    paragraph begins, or to the `lead` words it begins with. Instructions would be read as
    text, so warnings are left out. Member text cannot end the front matter early."""
    context = inert_context(context, "prose")
    block = labels("prose_context")
    title = one_line(inert_prose(context.title, prose_labels()))
    front = [block["title"].format(text=title)] if title else []
    if context.memory:
        front.append(block["memory"].format(text=context.memory))
    if context.ledger:
        front.append(block["ledger"].format(text=context.ledger))
    front += [block["lore"].format(name=note.name, text=note.text) for note in context.lore]
    if context.summary:
        front.append(block["summary"].format(text=context.summary))
    steer = " ".join(filter(None, (context.direction, context.note, context.nudges)))
    if steer:
        front.append(block["direction"].format(text=steer))
    story = block["passages"].format(
        text="\n\n".join(filter(None, (context.opening, *context.passages)))
    )
    if front:
        story = fill("prose_passage", front="\n\n".join(front), story=story)
    return f"{story}\n\n{context.lead}".rstrip(" ")


def render(context: Context, style: str, words: int) -> Prompt:
    """The prompt for `context` in `style`: "chat" messages, "prose" for a base model, or
    "completion", the exact fine-tuning format."""
    if style == "chat":
        return render_chat(context, words)
    if style == "prose":
        return render_prose(context)
    return render_completion(context)


def size(context: Context) -> int:
    """The estimated token size of a context's text, whichever style renders it."""
    texts = [
        context.summary,
        context.memory,
        context.opening,
        context.note,
        context.direction,
        context.nudges,
        context.warning,
        context.ledger,
        *context.passages,
        *(entry.text for entry in context.lore),
    ]
    return sum(estimate_tokens(text) for text in texts)


def shorten(text: str, tokens: int, keep_end: bool) -> str:
    """Drop whole sentences (from the start if `keep_end`) until `text` fits `tokens`."""
    sentences = SENTENCE_END.split(text.strip())
    while sentences and estimate_tokens(" ".join(sentences)) > tokens:
        sentences.pop(0 if keep_end else -1)
    return " ".join(sentences)


def fit(context: Context, budget: int) -> Context:
    """Trim `context` to fit `budget` estimated tokens, in this order:

    1. the older passages, oldest first;
    2. the continuity ledger, last (least mentioned) first: members' lore comes before it;
    3. lore entries, last (least relevant) first;
    4. the opening, last sentences first;
    5. the summary, oldest sentences first;
    6. the memory, last sentences first.

    The last passage, the author's note, the direction and the nudges are never trimmed.
    """
    while size(context) > budget and len(context.passages) > 1:
        context = replace(context, passages=context.passages[1:])
    context = _shortened(context, "ledger", budget, keep_end=False)
    while size(context) > budget and context.lore:
        context = replace(context, lore=context.lore[:-1])
    for name, keep_end in (("opening", False), ("summary", True), ("memory", False)):
        context = _shortened(context, name, budget, keep_end)
    return context


def _shortened(context: Context, name: str, budget: int, keep_end: bool) -> Context:
    """`context` with its text `name` shortened by whole sentences, as far as it is over
    `budget`."""
    over = size(context) - budget
    if over <= 0:
        return context
    text = getattr(context, name)
    room = max(0, estimate_tokens(text) - over)
    return replace(context, **{name: shorten(text, room, keep_end)})


def relevant_lore(
    entries: list[tuple[str, str, tuple[str, ...], str]], recent_text: str
) -> tuple[LoreNote, ...]:
    """Lore entries (kind, name, keywords, text) whose keywords occur in `recent_text`,
    most mentioned first."""
    lowered = recent_text.lower()
    scored = []
    for kind, name, keywords, text in entries:
        hits = sum(
            len(re.findall(rf"\b{re.escape(word.lower())}\b", lowered)) for word in keywords if word
        )
        if hits:
            scored.append((-hits, name.lower(), LoreNote(kind, name, text)))
    return tuple(note for *_, note in sorted(scored, key=lambda item: item[:2]))


def recap_prompt(title: str, summary: str, passage: str) -> Prompt:
    """The request for a short "previously on…" of the story `title`; every text in it is made
    inert."""
    inert = inert_for("chat")
    text = fill(
        "recap", summary=inert(summary), passage=inert(passage), title=one_line(inert(title))
    )
    return [{"role": "user", "content": text}]


def directions_prompt(summary: str, passage: str, count: int) -> Prompt:
    """The request for `count` short, different options for what could happen next; every
    text in it is made inert."""
    inert = inert_for("chat")
    text = fill("directions", summary=inert(summary), passage=inert(passage), count=count)
    return [{"role": "user", "content": text}]
