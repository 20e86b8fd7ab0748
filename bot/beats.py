"""A beat, what is to happen in a passage, and whether one the planner proposes can be used.

A usable beat is one sentence of the story's own prose in its person and tense, in which
something changes, that neither copies what happened nor tells a recent beat again. When the
model proposes none, a stock event (`prompts/plan_stock.txt`) is filled in with the story's
own cast and places.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache

from bot import continuity, surface
from bot.judge import ASSISTANT, META, longest_shared_run, matches
from bot.names import WORD
from bot.narration import drifts, narration, person_counts, tense
from bot.prompts import LoreNote, chat_labels, labels, template
from bot.repetition import ngrams, words
from bot.split import SENTENCE_END
from bot.store.records import LoreEntry, Thread

BEAT_LIMIT = 300
"""The longest beat kept, in characters (a direction's limit)."""
MIN_WORDS = 4
SIMILAR = 0.5
"""A beat sharing this share of its key words with a recent one repeats it."""
ECHO_WORDS = 4
"""A beat that shares a run of this many words with the planner's own instructions, labels or
kinds of event echoes the prompt instead of telling the story."""
COPIED_WORDS = 6
"""A beat sharing a run of this many words with the latest passage, the summary or the opening
copies what happened instead of moving on."""
ABOUT_THE_TEXT = re.compile(
    r"\b(?:story|stories|scene|passage|chapter|sentence|update|characters?|narrator)\b", re.I
)
"""A beat names what happens in the story's world; one that names the story itself, a scene, a
passage, a character or the narrator is talk about the text ("The story starts with a scene
with…", "Teodor noticed a new character", "The narrator and Sato rowed out")."""
WHO_ECHO = re.compile(r"^\W*it\s+(?:happens|happened)\s+to\b", re.I)
"""A beat that starts as the planner's "who" instruction does ("It happened to us together
with Sound, …") repeats the instruction instead of saying what happens."""
STANDING_STILL = re.compile(
    r"\b(?:kept|keeps|keep|continued|continues|continue|went on|goes on|carried on|remained|"
    r"remains|stayed|stays|still|felt|feels|feeling|seemed|seems|wondered|wonders)\b",
    re.IGNORECASE,
)
"""Words of a beat that only goes on ("they kept working", "she felt nervous"): nothing in it
changes."""
LIST_WORDS = {"and", "or", "the", "of", "a", "an"}
NOW_WORDS = {"am", "is", "are", "has", "does", "says", "goes", "comes"}
"""Words that tell a beat in the present tense; a past-tense story's beat has none of them
outside dialogue."""
PRESENT_VERB = re.compile(rf"\b(?:he|she|it|{WORD})\s+([a-z]{{2,}}[^s\W]s)\b")
"""A verb in the present tense after its subject: "Dale calls", "she opens"."""
PRESENT_AFTER_APPOSITION = re.compile(
    r",\s+([a-z]{2,}[^s\W]s)\s+(?:the|a|an|his|her|their|its|to|into|toward|towards|through"
    rf"|at|on|in|out|up|down|back|with|from|{WORD})\b"
)
"""The same after an apposition or a clause: "Tom, seeing the door, approaches the door",
"Kepler, an alien, approaches Relay Station Nine"."""
PRESENT_AFTER_NOUN = re.compile(
    r"\b(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir|[Ii]ts|[Mm]y|[Oo]ur)\s+(?:[a-z]+\s+){1,2}"
    rf"([a-z]{{2,}}[^s\W]s)\s+(?:the|a|an|his|her|their|its|my|our|{WORD})\b"
)
"""The same after a noun, when an object follows: "The stranger asks Tom", "the old boat hits
the rocks" (a plural noun before a preposition, "the docks in the harbour", is no verb)."""
PRONOUN_VERB = re.compile(
    r"\b(?:I|[Ww]e|[Tt]hey)\s+((?:[a-z]+ly\s+|(?:also|then|just|still|never|"
    r"soon|only|even|already|again|both|all|too|together|at once)\s+)*)([a-z]+)\b"
)
"""The word after "I", "we" or "they", past any adverbs: the verb whose tense tells the
beat's."""
PAST_FORMS = {
    "was", "were", "had", "did", "could", "would", "should", "might", "must", "said", "went",
    "came", "saw", "heard", "found", "got", "took", "made", "knew", "thought", "told", "gave",
    "felt", "left", "kept", "held", "stood", "sat", "ran", "began", "brought", "bought",
    "caught", "taught", "fought", "sought", "woke", "awoke", "drove", "dove", "rode", "wrote",
    "spoke", "broke", "chose", "froze", "stole", "wove", "rose", "arose", "fell", "led", "fed",
    "fled", "bled", "met", "sent", "spent", "bent", "lent", "built", "meant", "dealt", "slept",
    "swept", "wept", "crept", "knelt", "leapt", "dreamt", "burnt", "lost", "shot", "sold",
    "understood", "became", "overcame", "forgot", "forgave", "hid", "lit", "bit", "slid",
    "spat", "won", "hung", "clung", "flung", "swung", "stung", "stuck", "struck", "dug",
    "sang", "rang", "sprang", "swam", "drank", "sank", "shrank", "threw", "grew", "flew",
    "drew", "withdrew", "blew", "wore", "tore", "swore", "bore", "ate", "lay", "laid", "paid",
    "shook", "mistook", "spun", "wound", "bound", "sped", "strode", "shone", "beheld",
    "set", "put", "cut", "hit", "let", "read", "shut", "spread", "cast", "hurt", "burst",
    "quit", "not", "alone", "myself", "ourselves", "themselves",
}  # fmt: skip
"""Words after "I", "we" or "they" that a past-tense story may say: past forms (those
that are also present, "set", "read", included) and the words that are no verb. A
past-tense story's beat holds one of them, or a word in -ed."""
PRESENT_IN_ED = {"need", "feed", "bleed", "breed", "heed", "succeed", "proceed", "exceed"}
"""Present forms that end as a past one does."""
NOT_VERBS = {
    "always", "perhaps", "towards", "afterwards", "sometimes", "nevertheless", "besides",
    "across", "unless", "series", "news", "lens", "glass", "business", "was", "has", "this",
    "thus", "whereas", "plus", "famous", "nervous", "curious", "anxious", "furious", "jealous",
}  # fmt: skip
LEADING = re.compile(
    r"^\s*(?:\d+[.)]|[-*\u2022]|(?:first )?sentence:|next:|beat:|answer:)\s*", re.IGNORECASE
)


@dataclass(frozen=True)
class PlanView:
    """What the planner reads of the story."""

    summary: str
    passage: str
    opening: str = ""
    ledger: str = ""
    lore: tuple[LoreNote, ...] = ()
    memory: str = ""
    beats: tuple[str, ...] = ()
    """The story's recent beats, oldest first: none may be told again; the last SHOWN_BEATS
    are shown to the planner."""
    person: str = "third"
    tense: str = "past"
    depth: int = 0
    """How many passages the story has; it picks the kind of thing that happens next."""
    lore_entries: tuple[LoreEntry, ...] = ()
    """The story's whole lore book, which the writer checks names against."""
    threads: tuple[Thread, ...] = ()
    """The story's open threads."""
    cast: tuple[str, ...] = ()
    """The story's characters, from members' lore and the continuity ledger, most mentioned
    first."""
    places: tuple[str, ...] = ()
    animals: tuple[str, ...] = ()
    """Those of the cast the ledger knows as animals ("a grey tom named Admiral"): no stock
    event makes them bring news or argue."""


@dataclass(frozen=True)
class Beat:
    """What is to happen in a passage, and the open thread it moves on or answers."""

    text: str = ""
    thread_id: int | None = None
    resolves: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self)) if self.text else ""

    @classmethod
    def from_json(cls, stored: str) -> Beat:
        """The beat kept as JSON, or an empty one when there is none or it is unreadable."""
        try:
            found = json.loads(stored) if stored else {}
            return cls(str(found["text"]), found.get("thread_id"), bool(found.get("resolves")))
        except (ValueError, TypeError, KeyError):
            return cls()


@cache
def kinds() -> tuple[str, ...]:
    return tuple(line for line in template("plan_kinds").splitlines() if line.strip())


@cache
def instructions() -> tuple[str, ...]:
    """The planner's own words: its prompts without their blanks, their labels and its kinds of
    event."""
    names = (
        "chat_system",
        "context",
        "plan_beat",
        "plan_direction",
        "plan_context",
        "plan_threads",
        "plan_who",
        "plan_who_narrator",
    )
    parts = [template(name) for name in names]
    return (*(re.sub(r"\{\w+\}|\[\w+\]", "\n", part) for part in parts), *kinds())


def echoes_prompt(beat: str) -> bool:
    """Whether `beat` repeats the planner's instructions, or starts with one of its labels,
    rather than telling the story."""
    if any(label and beat.lower().startswith(label.lower()) for label in plan_labels()):
        return True
    if WHO_ECHO.match(beat):
        return True
    return len(longest_shared_run(beat, instructions()).split()) >= ECHO_WORDS


@cache
def plan_labels() -> tuple[str, ...]:
    return (
        *chat_labels(),
        *(body.split("{")[0].strip() for body in labels("plan_context").values()),
    )


def first_sentence(answer: str) -> str:
    """The first sentence of a model's answer (a title such as "Mrs." does not end it),
    without a list number, a label or quotes around it."""
    for line in answer.strip().splitlines():
        line = LEADING.sub("", line).strip()
        if line.startswith('"') and line.endswith('"') and line.count('"') == 2:
            line = line[1:-1].strip()
        if line:
            sentence = ""
            for piece in SENTENCE_END.split(line):
                sentence = f"{sentence} {piece}".strip()
                if not surface.ends_on_abbreviation(sentence):
                    break
            return sentence[:BEAT_LIMIT]
    return ""


def event_words(beat: str) -> set[str]:
    """The key words of `beat` that say what happens: its content words without the names
    (capitalised words) of who it happens to, which any two beats about them share."""
    names = set(continuity.content_words(" ".join(re.findall(r"\b[A-Z][\w']*", beat))))
    return set(continuity.beat_words(beat)) - names


def repeats(beat: str, beats: Sequence[str]) -> bool:
    """Whether `beat` tells again one of the `beats`: shares most of the words that say what
    happens (names left aside)."""
    mine = event_words(beat)
    for other in beats:
        theirs = event_words(other)
        if mine and theirs and len(mine & theirs) / min(len(mine), len(theirs)) >= SIMILAR:
            return True
    return False


def tells_now(beat: str) -> bool:
    """Whether `beat` is told in the present tense ("I am heading", "I need to go", "Dale calls
    the police", "she opens the door", "the stranger asks Tom"), or holds no verb in the past
    at all ("A woman arrives and tells Dale", "Dale and Nora arrive at the station")."""
    said = narration(beat)
    told = {word.lower() for word in re.findall(r"[A-Za-z]+", said)}
    found = [
        *PRESENT_VERB.findall(said),
        *PRESENT_AFTER_APPOSITION.findall(said),
        *PRESENT_AFTER_NOUN.findall(said),
    ]
    verbs = {verb for verb in found if verb not in NOT_VERBS}
    mine = {verb for _, verb in PRONOUN_VERB.findall(said) if not past_form(verb)}
    no_past = bool(told) and not any(past_form(word) for word in words(said))
    return bool(told & NOW_WORDS or verbs or mine or no_past) or tense(beat) == "present"


def past_form(word: str) -> bool:
    """Whether `word`, after "I", "we" or "they", may belong to a past-tense story."""
    return (word.endswith("ed") and word not in PRESENT_IN_ED) or word in PAST_FORMS


def names_only(beat: str) -> bool:
    """Whether `beat` is only names, as a list is ("Tom, Mira and Agnes.")."""
    found = re.findall(r"[^\W\d_][\w'-]*", beat)
    return all(word[0].isupper() or word.lower() in LIST_WORDS for word in found)


def usable(beat: str, view: PlanView) -> bool:
    """Whether `beat` can steer a passage (see `refusal`)."""
    return not refusal(beat, view)


def refusal(beat: str, view: PlanView) -> str:
    """Why `beat` cannot steer a passage, in a word, or "" when it can. A usable beat is a whole
    sentence of the story's prose, not a question, in which something changes (not a list of
    names, not one that only goes on), in its person (a third-person beat has no "I" or "you"
    outside quotes at all; a first-person beat says what happens to the narrator, "I" or "we",
    so the passage stays in their voice), not about the story, not an echo of the planner's
    prompt or a copy from the latest passage, the summary or the opening, not what the latest
    passage already told, not saying the same words twice, not a recent beat again, and not in
    the present tense when the story is told in the past."""
    if len(beat.split()) < MIN_WORDS or not re.search(r"[.!\u2026][\"'\u201d]*$", beat):
        return "unfinished"
    if names_only(beat):
        return "names"
    if STANDING_STILL.search(narration(beat)):
        return "still"
    if matches(narration(beat), [*META, *ASSISTANT]) or ABOUT_THE_TEXT.search(narration(beat)):
        return "about the text"
    first, second, _ = person_counts(beat)
    if drifts(beat, view.person) or (view.person == "third" and first + second > 0):
        return "person"
    if view.person == "first" and first == 0:
        return "no narrator"
    if echoes_prompt(beat):
        return "echo"
    if view.tense == "past" and tells_now(beat):
        return "tense"
    grams = ngrams(words(beat), 4)
    if len(set(grams)) < len(grams):
        return "said twice"
    told = [view.passage, view.summary, view.opening]
    if len(longest_shared_run(beat, told).split()) >= COPIED_WORDS:
        return "copied"
    if continuity.told_already(view.passage, beat):
        return "told"
    return "repeat" if repeats(beat, view.beats) else ""


@cache
def stock() -> tuple[str, ...]:
    return tuple(line for line in template("plan_stock").splitlines() if line.strip())


def named_in(text: str, names: Sequence[str]) -> list[str]:
    """Those of `names` that `text` names as whole words, anywhere, in `names`' order."""
    return [name for name in names if re.search(rf"\b{re.escape(name)}\b", text)]


def present(view: PlanView) -> list[str]:
    """The story's characters whom the latest passage names, in the cast's order."""
    return named_in(view.passage, view.cast)


def stock_beat(view: PlanView, variant: int = 0) -> str:
    """A beat from the table of stock events (`prompts/plan_stock.txt`), filled in with the
    story's own cast (those in the latest passage first) and places, for when the model
    proposes none that can be used: the first in turn that the story can fill, in its person,
    and that repeats no recent beat (in a first-person story, one that brings in someone from
    the latest passage comes first).
    Empty for a story told in the present tense, or in the third person with no characters
    (a first-person story always has its narrator). Animals take no part in them."""
    if view.tense != "past":
        return ""
    here = [name for name in present(view) if name not in view.animals]
    cast = [*here, *(name for name in view.cast if name not in here and name not in view.animals)]
    if view.person == "first":
        name, others = "I", cast
    elif cast:
        name, others = cast[0], cast[1:]
    else:
        return ""
    slots = {
        "name": name,
        "other": others[0] if others else "",
        "place": next(iter(view.places), ""),
    }
    table = stock()
    lines = [table[(view.depth + variant + offset) % len(table)] for offset in range(len(table))]
    if view.person == "first" and here:
        lines.sort(key=lambda line: "{other}" not in line)
    for line in lines:
        needed = re.findall(r"\{(\w+)\}", line)
        if not all(slots.get(slot) for slot in needed):
            continue
        beat = line.format(**slots)
        if usable(beat, view):
            return beat
    return ""


@cache
def stock_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile(re.sub(r"\\\{\w+\\\}", ".+?", re.escape(line)) + "$") for line in stock()
    )


def is_stock(beat: str) -> bool:
    """Whether `beat` is one of the stock events, whoever fills it in."""
    return any(pattern.match(beat) for pattern in stock_patterns())


def still_usable(beat: Beat, view: PlanView) -> bool:
    """Whether `beat`, planned ahead, can still steer the passage `view` leads to: its
    thread, if any, is still open and it is still a beat the planner would keep."""
    if not beat.text or not usable(beat.text, view):
        return False
    return beat.thread_id is None or any(t.id == beat.thread_id for t in view.threads)
