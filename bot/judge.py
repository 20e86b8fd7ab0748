"""The passage judge: what is wrong with a passage or a summary, and how badly. Pure functions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot import continuity, ledger, surface
from bot.narration import (
    STOP_NAMES,
    drifts,
    narration,
    narration_person,
)
from bot.repetition import REPETITION_LIMIT, near_copy, ngrams, seq_rep, words
from bot.split import SENTENCE_END
from bot.store.records import LedgerEntry

FAULTS = (
    *("meta", "assistant", "debris", "person", "recycled", "cutoff", "stub", "repetition"),
    *("retelling", "refrain", "mutation", "contradiction", "paragraph", "fused", "offbeat"),
)

RECYCLED_WORDS = 10
"""A run of this many words shared with the story so far is recycled: below it, shared runs are
stock phrases ("at the end of the day he"); from it on, copying shows."""

SELF_REPEAT_WORDS = 12
"""A passage that says the same run of this many words twice repeats itself; a shorter clause
said twice can be a refrain, a whole sentence cannot."""

STUB_WORDS = 40
"""A passage shorter than this many words is a stub."""


WEIGHTS = {
    "meta": 3.0,
    "assistant": 3.0,
    "debris": 2.0,
    "person": 2.0,
    "recycled": 2.0,
    "cutoff": 1.0,
    "stub": 1.5,
    "repetition": 2.0,
    "retelling": 2.0,
    "refrain": 1.0,
    "mutation": 1.5,
    "contradiction": 2.0,
    "paragraph": 1.0,
    "fused": 1.0,
    "offbeat": 1.5,
}
"""How much each fault costs in the score; talk about the text costs most, a cut ending least."""

_DOC = r"(?:passage|paragraph|excerpt|summary|chapter|prompt)"
NARRATOR_TALK = r"\bthe narrator\b"
"""Talk about the text in a passage; a summary of a first-person story may well say it."""
META = [
    rf"\b(?:this|next|previous|following|above|your|my|last|first|second|latest|the next)"
    rf"(?:\s+(?:new|next|last|\d+[- ]word))?\s+{_DOC}s?\b",
    r"\b(?:next|following|previous|first few|opening) sentences?\b(?! of\b)",
    r"\b(?:sentences?|passages?|story|stories) (?:has|have) already been told\b"
    r"|\bdo not tell (?:it|this|that) again\b",
    r"\bparagraphs?\b",
    r"\bsummar(?:y|ies|ize|ise)\b",
    r"\breaders?\b",
    r"\b(?:in|of) the (?:passage|excerpt|text)\b",
    r"\bthe (?:passage|excerpt|text) (?:is|was|continues|begins|ends|introduces|shows|describes)\b",
    r"\b(?:the|this|our|your|my) (?:story|tale|narrative)(?:'s)? "
    r"(?:continues|begins|began|starts|started|opens|opened|ends|ended|unfolds|unfolded|shifts"
    r"|so far|is going|tone|world|characters?|ending|beginning|is now)\b",
    r"\b(?:the|this|our|your|my) (?:new )?(?:story|tale|narrative)'s (?:first|opening|last)\b",
    r"\bthis (?:story|tale|narrative)\b",
    r"\bmeaning of (?:a|the|this) (?:story|tale)\b|\bnarration's person\b",
    r"\b(?:the|this|our|your) narrative\b",
    r"\bstory ?lines?\b|\bstory so far\b|\bstory now\b",
    r"\b(?:the )?main characters?\b|\bthe protagonist\b|\bcharacter development\b",
    r"\bworld-?building\b|\bplot twist\b|\bthe plot\b",
    r"\b\d+[- ]words?\b|\bwords? (?:long|count)\b",
    r"\b(?:the|this) scene (?:changes|shifts|opens|begins|ends)\b",
    r"\b(?:new|next|previous|last) (?:scene|one) (?:that|which|is|was|introduces|continues"
    r"|involves|begins|follows|starts)\b",
    r"\b(?:the|this) (?:story|tale) has (?:been written|already begun|already started)\b",
    r"\b(?:write|writing|rewrite|rework|written) (?:a |the |this |your |my )?"
    r"(?:stor(?:y|ies)|passage|paragraph|chapter|next|sentence|text)",
    r"\bnext in line\b|\bthe story\b(?= is (?:interrupted|rewoven))|\bthe writing\b",
    r"\b(?:finish|end|continue)(?: up)? (?:my|your|the|this) story\b|\bfinal act\b",
    r"\bmeaning of the (?:sentence|word|passage|text)\b",
    r"\b(?:the )?(?:final|last|next|first|opening|closing) (?:scene|sentence|line)\s*:",
    r"\bthe story's own (?:prose|words)\b",
    r"\b(?:first|second|third) person and (?:the )?(?:past|present) tense\b",
    NARRATOR_TALK,
]
ASSISTANT = [
    r"^\W*(?:sure|certainly|absolutely|okay|ok|alright|gladly)[,!.]",
    r"\bhere(?:'s| is| are)\b(?= (?:the|a|an|my|your|what|how|some|one|another)\b)",
    r"\bi hope\b|\blet me know\b|\bfeel free\b|\bhappy to help\b|\bas an ai\b|\bai assistant\b",
    r"\blanguage model\b|\b(?:i am|i'm) here to help\b|\bi can help\b|\bi(?:'d| would) be happy\b",
    r"\b(?:i'll|i will|i'm going to|let me|let's) (?:start writing|write|continue|rework|craft|"
    r"weave|rewrite)\b",
    r"\b(?:you|i)(?:'ve| have) (?:written|provided|created|added|already|the answer)\b",
    r"\byour (?:new |next )?(?:story|passage|chapter|narrative|request|writing|prompt|craft|text"
    r"|\d+-word)\b",
    r"\byou (?:will|should|can|must) (?:write|continue|add|create)\b|\bi(?:'ll| will) tell you\b",
    r"\bhere (?:today )?to help\b|\bi must say\b|\bwithout further ado\b",
    r"\bwhat (?:do|would|can) you (?:need|like|want|have me)\b|\bwould you like\b",
    r"\bwhat an? (?:incredible|exciting|great|interesting|inspiring|wonderful|amazing)"
    r"(?: and \w+)? (?:idea|beginning|story|journey|question|start)\b",
    r"\byou're a master\b|\bgreat question\b|\bi love how you\b",
]
HTML_TAG = r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>\n]*)?/?>"
FURNITURE = r"^[ \t]*\(?(?:source|via|photo|image|credit|copyright)s?\)?[ \t]*:?[ \t]*$"
"""A line that only credits a source, as web text has under a picture: "(Source)"."""
PLACEHOLDER = (
    r"\[(?:insert\b[^\]]*|(?:[a-z']+ ){0,2}(?:name|date|place|address|city|town|location|time"
    r"|number))\]"
)
"""A template's blank left unfilled: "[Name]", "[Your Name]", "[cat name]", "[Insert date]"."""
FOREIGN_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
"""Runs of Chinese, Japanese or Korean characters."""
DEBRIS = [
    r"\\[nt]",
    r"^[ \t]*(?:[\u2022\u00b7\u25aa\u25ba\u2713\u2714]|[-+][ \t]|\d{1,2}[.)][ \t])",
    r"^[ \t]*\*(?:[ \t]*\*)*[ \t]+[^\s*]",
    r"^[ \t]*#{1,6}[ \t]",
    HTML_TAG,
    r"https?://|\bwww\.\w",
    FURNITURE,
    r"^[ \t]*(?:source|photo|image|credits?|posted by|tags|filed under|related posts?|read more"
    r"|click here|subscribe|share this)[ \t]*:",
    r"\b(?:this week's|today's) (?:topic|post|episode|question)\b",
    r"(?<![\w&])#[A-Za-z]\w+",
    r"\*\*\w|\w\*\*",
    PLACEHOLDER,
]
"""Text that is not story prose: escaped characters, list bullets, headings, HTML tags, links,
blog furniture ("(Source)", "This week's topic:"), hashtags, Markdown emphasis and a
template's blanks ("Dear [Name],"). A scene break (`* * *`) is prose."""
SUMMARY_META = [
    *(pattern for pattern in META if pattern != NARRATOR_TALK),
    r"\bthe (?:story|text|author|writer|excerpt)\b",
    r"\b(?:in|of) (?:this|the) (?:story|tale|section|part)\b",
]
CAPITALISED = re.compile(r"(?<![.!?:\"\u201c] )(?<![\"\u201c'(])(?<!^)\b[A-Z][a-z]+(?:'s)?\b")


@dataclass(frozen=True)
class StoryView:
    """What the judge knows of the story so far, and of the passage asked for."""

    opening: str
    summary: str
    recent: tuple[str, ...]
    person: str | None = None
    earlier: tuple[str, ...] = ()
    """Older passages than `recent`, oldest first: what a refrain or a retelling repeats."""
    ledger: tuple[LedgerEntry, ...] = ()
    beat: str = ""
    """What should happen in the passage (bot/planner.py); empty when nothing was asked."""
    rivals: tuple[str, ...] = ()
    """The other candidates for the same place in the story (a ballot's): a passage must not
    copy or retell them either."""

    @property
    def told(self) -> tuple[str, ...]:
        """Every passage the judge can see, the opening first, each once, then the rivals."""
        texts = (self.opening, *self.earlier, *self.recent, *self.rivals)
        return tuple(dict.fromkeys(filter(None, texts)))


@dataclass(frozen=True)
class Verdict:
    """A judged text: its faults, the evidence, and a score to compare attempts by."""

    faults: tuple[str, ...]
    recycled_span: str
    seq_rep_4: float
    person: str
    characters_carried: tuple[str, ...]
    characters_dropped: tuple[str, ...]
    score: float
    meta_phrases: tuple[str, ...] = ()
    """The phrases that talk about the text or to the requester, as found."""
    words: int = 0

    @property
    def ok(self) -> bool:
        """No fault at all."""
        return not self.faults


def story_person(story: StoryView) -> str:
    """The story's established person: given, or read from the opening (and, if it is short,
    the recent passages too)."""
    if story.person:
        return story.person
    if len(words(story.opening)) >= STUB_WORDS or not story.recent:
        return narration_person(story.opening)
    return narration_person(" ".join([story.opening, *story.recent]))


def matches(text: str, patterns: Iterable[str]) -> tuple[str, ...]:
    """The phrases of `text` that match any of `patterns`, case-insensitively, per sentence."""
    found = []
    for sentence in sentences(text):
        for pattern in patterns:
            match = re.search(pattern, sentence, re.I)
            if match:
                found.append(match.group(0).strip())
    return tuple(found)


def debris(text: str) -> tuple[str, ...]:
    """What in `text` is not story prose (see DEBRIS, and stray_script), as found."""
    found = (re.search(pattern, text, re.I | re.M) for pattern in DEBRIS)
    return tuple(match.group(0).strip() for match in found if match) + stray_script(text)


def stray_script(text: str) -> tuple[str, ...]:
    """Words of another script dropped into prose written in the Latin alphabet ("from另一个
    direction"), as a small model slips into another language it was trained on; a story
    written in that script is left alone."""
    foreign = FOREIGN_SCRIPT.findall(text)
    letters = sum(char.isalpha() for char in text)
    if not foreign or sum(map(len, foreign)) * 10 > letters:
        return ()
    return tuple(foreign[:1])


def sentences(text: str) -> list[str]:
    """The sentences of `text`, across paragraphs and lines."""
    return [s.strip() for line in text.splitlines() for s in SENTENCE_END.split(line) if s.strip()]


def longest_shared_run(text: str, others: Iterable[str]) -> str:
    """The longest run of consecutive words of `text` that also occurs in one of `others`."""
    mine = words(text)
    best = (0, 0)
    for other in others:
        positions: dict[str, list[int]] = {}
        for j, word in enumerate(words(other)):
            positions.setdefault(word, []).append(j)
        previous: dict[int, int] = {}
        for i, word in enumerate(mine, 1):
            current = {j: previous.get(j - 1, 0) + 1 for j in positions.get(word, ())}
            length = max(current.values(), default=0)
            if length > best[1] - best[0]:
                best = (i - length, i)
            previous = current
    return " ".join(mine[best[0] : best[1]])


def repeats_itself(text: str) -> bool:
    """Whether `text` says a run of SELF_REPEAT_WORDS words twice, tells one of its sentences
    twice (`near_copy`), or has too high a seq-rep-4."""
    runs = Counter(ngrams(words(text), SELF_REPEAT_WORDS))
    told = [words(sentence) for sentence in sentences(text)]
    return (
        seq_rep(text) > REPETITION_LIMIT
        or any(count > 1 for count in runs.values())
        or any(near_copy(told[i], other) for i in range(len(told)) for other in told[:i])
    )


def retold_sentence(text: str, others: Iterable[str]) -> str:
    """The first sentence of `text` that nearly copies a sentence of `others` (`near_copy`),
    as its words; empty if there is none."""
    told = [words(sentence) for other in others for sentence in sentences(other)]
    for sentence in sentences(text):
        mine = words(sentence)
        if any(near_copy(mine, other) for other in told):
            return " ".join(mine)
    return ""


def names(text: str) -> list[str]:
    """Capitalised words not at a sentence start, in order of appearance: the named characters
    and places of `text`."""
    found: list[str] = []
    for sentence in sentences(text):
        for match in CAPITALISED.finditer(sentence):
            name = match.group(0).removesuffix("'s")
            if name.lower() not in STOP_NAMES and name not in found:
                found.append(name)
    return found


def characters(text: str, story: StoryView) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The story's named characters (in the summary and the latest text) that `text` carries
    forward, and those it drops."""
    latest = story.recent[-1] if story.recent else story.opening
    known = names(" ".join([story.summary, latest]))
    present = set(re.findall(r"\b[A-Z][a-z]+\b", text))
    carried = tuple(n for n in known if n in present)
    return carried, tuple(n for n in known if n not in present)


def severity(fault: str, *, run: int, rep: float, count: int, phrases: int) -> float:
    """How far past its limit a fault is, at least 1."""
    if fault == "recycled":
        return run / RECYCLED_WORDS
    if fault == "repetition":
        return rep / REPETITION_LIMIT
    if fault == "stub":
        return 1 + (STUB_WORDS - count) / STUB_WORDS
    if fault in ("meta", "assistant"):
        return 1 + 0.25 * min(phrases - 1, 4)
    return 1.0


def verdict(
    text: str,
    story: StoryView,
    faults: set[str],
    *,
    run: str,
    meta: tuple[str, ...],
    assistant: tuple[str, ...],
) -> Verdict:
    """Bundle the findings, in FAULTS order, with their score."""
    rep = seq_rep(text)
    count = len(words(text))
    score = sum(
        WEIGHTS[f]
        * severity(
            f,
            run=len(run.split()),
            rep=rep,
            count=count,
            phrases=len(meta if f == "meta" else assistant),
        )
        for f in faults
    )
    carried, dropped = characters(text, story)
    return Verdict(
        faults=tuple(f for f in FAULTS if f in faults),
        recycled_span=run,
        seq_rep_4=rep,
        person=narration_person(text),
        characters_carried=carried,
        characters_dropped=dropped,
        score=round(score, 4),
        meta_phrases=meta + assistant,
        words=count,
    )


def story_texts(story: StoryView) -> Sequence[str]:
    """The texts a passage must not copy from: the recent passages, the summary, the opening
    and the rival candidates."""
    return [*story.recent, story.summary, story.opening, *story.rivals]


def judge_passage(text: str, story: StoryView) -> Verdict:
    """Every fault of a new passage, judged against the story so far."""
    told = narration(text)
    meta = matches(told, META)
    assistant = matches(told, ASSISTANT)
    run = longest_shared_run(text, story_texts(story))
    faults = {
        "meta": bool(meta),
        "assistant": bool(assistant),
        "debris": bool(debris(text)),
        "person": drifts(text, story_person(story)),
        "recycled": len(run.split()) >= RECYCLED_WORDS,
        "cutoff": surface.cut_off(text),
        "stub": len(words(text)) < STUB_WORDS,
        "repetition": repeats_itself(text),
        **continuity_faults(text, story),
    }
    found = {fault for fault, present in faults.items() if present}
    return verdict(text, story, found, run=run, meta=meta, assistant=assistant)


def story_vocabulary(story: StoryView) -> list[str]:
    """Every word the story has used so far: a word it used is never a fused one."""
    return words(" ".join([*story.told, story.summary]))


def continuity_faults(text: str, story: StoryView) -> dict[str, bool]:
    """Whether the passage moves the story on and keeps it whole: it tells no earlier
    passage again and carries no refrain, keeps its names and its dead, keeps its paragraphs
    and words whole, and tells its beat."""
    told = story.told
    vocabulary = story_vocabulary(story)
    return {
        "retelling": continuity.retold(text, told) > continuity.RETELLING_SHARE
        or bool(retold_sentence(text, told)),
        "refrain": bool(continuity.refrains(text, told)),
        "mutation": bool(ledger.mutated_names(text, story.ledger)),
        "contradiction": bool(ledger.dead_alive(text, story.ledger)),
        "paragraph": bool(surface.broken_paragraphs(text)),
        "fused": bool(surface.fused_words(text, vocabulary)),
        "offbeat": bool(story.beat) and not continuity.beat_happened(text, story.beat),
    }


def judge_summary(text: str, story: StoryView) -> Verdict:
    """The faults of a rolling summary: it must state events, never describe the text, and end
    in a full sentence."""
    meta = matches(text, SUMMARY_META)
    assistant = matches(text, ASSISTANT)
    faults = {
        "meta": bool(meta),
        "assistant": bool(assistant),
        "debris": bool(debris(text)),
        "cutoff": surface.cut_off(text),
        "stub": not words(text),
        "repetition": repeats_itself(text),
    }
    found = {fault for fault, present in faults.items() if present}
    return verdict(text, story, found, run="", meta=meta, assistant=assistant)
