"""Counter-measures: how the next attempt at a passage is aimed at what was wrong with the
last one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import continuity, repetition
from bot.drafts import Draft
from bot.judge import StoryView, story_person
from bot.llm import Sampling
from bot.narration import main_character, tense
from bot.prompts import Context, fill, fit, template
from bot.store import LoreEntry


def counter_measures(
    base: Context,
    lore: Sequence[LoreEntry],
    draft: Draft,
    story: StoryView,
    recent: Sequence[str],
    sampling: Sampling,
    round_: int,
    style: str,
    context_tokens: int,
) -> tuple[Context, Sampling]:
    """The next attempt's context and sampling, aimed at what was wrong with `draft`.

    Copying (a recycled span, a refrain, a loop, repetition) is named word for word, raises
    the temperature and the penalties, and from the second round brings in something new:
    an unused lore entry, or else an unexpected event. A retelling is told to begin after
    what the story told and brings in something new at once. A change of person restates the
    story's person and tense (a base model, which takes no instructions, is given the next
    paragraph's first word instead: "I", or the main character's name); talk about the
    story or to the reader is forbidden. A base model's stub is given back to it to go on
    from. Every round samples afresh.
    """
    faults = set(draft.faults)
    copying = draft.check.loops or bool(faults & {"recycled", "repetition", "retelling", "refrain"})
    warnings = []
    if copying:
        phrase = (
            draft.verdict.recycled_span
            or next(iter(continuity.refrains(draft.text, story.told)), "")
            or repetition.repeated_phrase(draft.text, recent)
        )
        if phrase:
            warnings.append(fill("counter_repeat", phrase=" ".join(phrase.split()[:20])))
        if "retelling" in faults:
            warnings.append(fill("counter_retelling", twist=twist_for(base, lore)))
        elif round_ >= 2:
            warnings.append(fill("counter_twist", twist=twist_for(base, lore)))
    lead = base.lead
    if "person" in faults:
        told = " ".join([story.opening, *story.recent])
        person = story_person(story)
        warnings.append(fill("counter_person", person=person, tense=tense(told)))
        if style == "prose":
            lead = lead or ("I" if person == "first" else main_character(told))
    elif "stub" in faults and style == "prose":
        lead = draft.text + "\n\n"
    if faults & {"meta", "assistant", "debris"}:
        warnings.append(template("counter_meta"))
    if "offbeat" in faults:
        warnings.append(fill("counter_beat", beat=story.beat))
    context = replace(base, warning=" ".join(warnings), lead=lead)
    context = fit(context, context_tokens)
    seed = None if sampling.seed is None else sampling.seed + 1000 * round_
    if not copying:
        return context, sampling.but(seed=seed)
    return context, sampling.but(
        temperature=min(1.2, sampling.temperature + 0.1 * round_),
        frequency_penalty=min(1.0, sampling.frequency_penalty + 0.2 * round_),
        presence_penalty=min(1.0, sampling.presence_penalty + 0.2 * round_),
        seed=seed,
    )


def twist_for(context: Context, lore: Sequence[LoreEntry]) -> str:
    """Something new to bring in: the first lore entry the context does not use, or else an
    unexpected event."""
    used = {note.name for note in context.lore}
    for entry in lore:
        if entry.name not in used:
            return fill("twist_lore", kind=entry.kind, name=entry.name, text=entry.text)
    return template("twist_event")
