"""The continuity ledger, read from the text: a story's named characters and places
(`bot/names.py`), and the facts a reader holds it to (who has died, who holds what, where
everyone is). Pure functions, with no model call: cheap enough to run after every passage.
Facts are read from plain patterns: "Tom died", "Agnes took the key", "Agnes went to the
harbour".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.names import (
    DESIGNATION,
    NAME,
    NOT_NAMES,
    TITLES,
    UNDERSCORED,
    acts_as_person,
    called,
    is_name,
    named_as_place,
    names_in,
    runs_in,
    sentences,
    untitled,
)
from bot.narration import narration_person
from bot.store.records import LedgerEntry
from bot.surface import english_words

DIGIT = re.compile(r"\d")
CAST_SHOWN = 8
PLACES_SHOWN = 5
FACTS_SHOWN = 6
"""How many of each kind of entry the context shows, most mentioned first."""
DIED = [
    r"\b(?P<who>{name}) (?:died|was killed|was murdered|was dead|lay dead|had died|is dead)\b",
    r"\b(?:killed|murdered|buried) (?P<who>{name})\b",
    r"\b(?P<who>{name})'s (?:body|corpse|funeral|grave)\b",
]
HOLDS = (
    r"\b(?P<who>{name}) (?:took|picked up|grabbed|held|carried|pocketed|clutched|lifted)"
    r" (?P<what>(?:the|a|an|his|her|their) (?:[a-z]+ ){{0,2}}?[a-z]+)"
    r"(?=[.,;:!?]|$| (?:and|from|to|in|into|out|off|up|with|from|as|before|then)\b)"
)
GOES = (
    r"\b(?P<who>{name}) (?:went|walked|ran|hurried|came|returned|climbed|drove|sailed|rowed"
    r"|stepped|moved|fled|headed) (?:back )?(?:in)?to (?P<where>(?:the )?(?:{name}|[a-z]+))"
)
NAMED = (
    r"\b(?:(?P<head>(?:[Tt]he|[Aa]n?|[Mm]y|[Hh]is|[Hh]er|[Oo]ur|[Tt]heir) [a-z]+), )?"
    r"(?P<what>(?:[Aa]n?|[Tt]he) (?:[a-z]+ ){{0,2}}?[a-z]+),? (?:named|called) (?P<who>{name})"
)
"""Who or what someone is, as the text names them: "the cat, a grey tom named Admiral", "an
engineer called Shinichi"."""
IS = ": is"
"""How the key of a fact of who someone is ends."""
ADDRESSED = re.compile(rf"[\"\u201c](?P<who>{NAME}), you\b")
"""A quotation that opens by calling someone by name: "Engineer Sato, you have been revived"."""
I_SAY = re.compile(
    r"\bI (?:said|asked|called|shouted|whispered|told|replied|answered|cried|muttered)\b"
)
NARRATOR = ": narrator"
"""How the key of the fact that a name is the narrator's own ends."""
ALIVE = re.compile(
    r"\b(?:said|asked|replied|answered|whispered|shouted|called|smiled|laughed|nodded|walked"
    r"|ran|stood|sat|turned|looked|opened|took|went|came|spoke|cried)\b"
)
DEATH_WORDS = re.compile(
    r"\b(?:ghost|spirit|corpse|body|dead|died|death|grave|funeral|buried|memory|remembered"
    r"|dream|dreamed|dreamt|late)\b",
    re.I,
)


def _patterns(template: str) -> re.Pattern[str]:
    return re.compile(template.format(name=NAME))


def facts_in(text: str) -> list[LedgerEntry]:
    """The facts `text` states: who died, who took what, who went where, who is what."""
    found: list[LedgerEntry] = []
    for sentence in sentences(text):
        for template in DIED:
            for match in _patterns(template).finditer(sentence):
                who = match.group("who")
                if is_name(who, False):
                    found.append(LedgerEntry("fact", f"{who}: dead", who, f"{who} is dead."))
        for match in _patterns(HOLDS).finditer(sentence):
            who, what = match.group("who"), match.group("what")
            if is_name(who, False):
                thing = re.sub(r"^(?:his|her|their|a|an) ", "the ", what)
                key = f"{who}: holds {thing}"
                found.append(LedgerEntry("fact", key, who, f"{who} has {thing}."))
        for match in _patterns(GOES).finditer(sentence):
            who, where = match.group("who"), match.group("where")
            if is_name(who, False) and where.lower() not in NOT_NAMES:
                found.append(LedgerEntry("fact", f"{who}: at", who, f"{who} is at {where}."))
        for match in _patterns(NAMED).finditer(sentence):
            who, what, head = match.group("who", "what", "head")
            if is_name(who, False):
                what = f"{head}, {what}" if head else what
                what = what[0].lower() + what[1:]
                found.append(LedgerEntry("fact", f"{who}{IS}", who, f"{who} is {what}."))
    return found


def narrator_names(text: str) -> list[str]:
    """The names a first-person `text` calls its narrator by: those a quotation opens by
    addressing when the narrator is not the one speaking ("Engineer Sato, you have been
    revived," the ship said)."""
    if narration_person(text) != "first":
        return []
    found = []
    for sentence in sentences(text):
        for match in ADDRESSED.finditer(sentence):
            if not I_SAY.search(sentence) and is_name(match.group("who"), False):
                found.append(match.group("who"))
    return list(dict.fromkeys(found))


ANIMAL = re.compile(
    r"\b(?:cat|kitten|tom|dog|puppy|hound|horse|pony|mule|donkey|goat|bird|parrot|owl|crow"
    r"|raven|fox|wolf|rabbit|mouse|rat)\b"
)


def animals(ledger: Iterable[LedgerEntry]) -> set[str]:
    """The names the ledger knows as animals' ("Admiral is the cat, a grey tom.")."""
    return {
        e.name
        for e in ledger
        if e.key.endswith(IS) and ANIMAL.search(e.text.removeprefix(f"{e.name} is ").lower())
    }


def narrators(ledger: Iterable[LedgerEntry]) -> set[str]:
    """The names the ledger knows as the narrator's own."""
    return {entry.name for entry in ledger if entry.key.endswith(NARRATOR)}


def read_ledger(text: str, known: Iterable[str] = ()) -> list[LedgerEntry]:
    """Every entry `text` gives the ledger: each name it mentions (a place or a character),
    and each fact it states. A name that is part of a longer one, in the text or in `known`
    (the names already recorded), is that one ("Tom" of "Tom Reid"); a full name with or
    without a title, or a part of it with a title, is the one first recorded ("Commander Ines
    Valdór" of "Ines Valdór" and of "Commander Ines")."""
    entries: dict[str, LedgerEntry] = {}
    known = list(known)
    found = names_in(text, {word for name in known for word in name.replace("-", " ").split()})
    longer = [
        n for n in [*known, *(name for name, _ in found)] if len(n.replace("-", " ").split()) > 1
    ]
    short = {part: name for name in longer for part in called(name)[1:]}
    short |= {run: name for name in longer if named_as_place(name) for run in runs_in(name)}
    # A full name without its title, or a word of it with the title, to the form first recorded.
    full: dict[str, str] = {}
    for name in longer:
        bare = untitled(name)
        if len(bare.split()) > 1:
            full.setdefault(bare, name)
            title = name.removesuffix(bare)
            for part in called(name)[1:] if title else ():
                full.setdefault(f"{title}{part}", name)

    def first_recorded(name: str) -> str:
        return full.get(untitled(name)) or full.get(name) or name

    # A title alone is the one person the story gives that title ("Grandpa" of "Grandpa Teodor").
    titled: dict[str, set[str]] = {}
    for name in longer:
        title = name.split()[0].rstrip(".")
        if title in TITLES:
            titled.setdefault(title, set()).add(first_recorded(name))
    short |= {title: next(iter(names)) for title, names in titled.items() if len(names) == 1}

    for name, place in found:
        name = first_recorded(short.get(name, name))
        place = place and untitled(name) == name and not acts_as_person(name, text)
        place = place or named_as_place(name)
        place = place or bool(DESIGNATION.search(name))
        kind = "place" if place else "character"
        key = name.lower()
        if key in entries and entries[key].kind == "place":
            continue
        entries[key] = LedgerEntry(kind, key, name, name)
    for fact in facts_in(text):
        entries[fact.key.lower()] = fact
    for name in narrator_names(text):
        key = f"{name}{NARRATOR}"
        entries[key.lower()] = LedgerEntry("fact", key, name, f'{name} is the narrator, "I".')
    return list(entries.values())


def entries_after(text: str, ledger: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """What passage `text` adds to the story's `ledger` (`read_ledger`), less a second account
    of who someone is: the first holds, so a cat named in the opening stays a cat when a later
    passage calls him a man. So does the first reading of a name as someone or somewhere: a
    character whom a passage runs "to" stays a character; a place becomes someone only when a
    passage has them act as only people do ("Lena looked up")."""
    described = {entry.name for entry in ledger if entry.key.endswith(IS)}
    kinds = {entry.key: entry.kind for entry in ledger if entry.kind != "fact"}
    found = read_ledger(text, [entry.name for entry in ledger])

    def kind(entry: LedgerEntry) -> str:
        was = kinds.get(entry.key, entry.kind)
        if was == "place" and entry.kind == "character" and acts_as_person(entry.name, text):
            return "character"
        return was

    return [
        replace(e, kind=kind(e)) if e.kind != "fact" else e
        for e in found
        if not (e.key.endswith(IS) and e.name in described)
    ]


def ledger_names(ledger: Iterable[LedgerEntry]) -> set[str]:
    """Every word of every name the ledger holds."""
    return {
        word
        for entry in ledger
        if entry.kind != "fact"
        for word in entry.name.replace("-", " ").split()
    }


def dead(ledger: Iterable[LedgerEntry]) -> set[str]:
    """The names the ledger records as dead."""
    return {entry.name for entry in ledger if entry.key.endswith(": dead")}


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between `a` and `b`."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def mutated_names(text: str, ledger: Sequence[LedgerEntry]) -> tuple[str, ...]:
    """Names in `text` that the ledger does not hold but that are a letter or two from one
    it does (Hale → Heale), or one it holds as two words run together (Carrow Head →
    Carrowhead, Carrow_head): a name of five letters or fewer may differ by one, a longer one
    by two. Ordinary English words, plurals and designations ("442b") are not names gone
    wrong."""
    known = ledger_names(ledger)
    joined = {
        "".join(entry.name.replace("-", " ").split()).lower(): entry.name
        for entry in ledger
        if entry.kind != "fact" and len(entry.name.replace("-", " ").split()) > 1
    }
    words = english_words()
    found = []
    for run in UNDERSCORED.findall(text):
        spaced = run.replace("_", " ").lower()
        name = next((n for n in joined.values() if n.lower().replace("-", " ") == spaced), "")
        if name:
            found.append(f"{name} \u2192 {run}")
    for name, _ in names_in(text):
        for word in name.replace("-", " ").split():
            if word in known or len(word) < 4 or word.lower() in words or DIGIT.search(word):
                continue
            if word.lower() in joined:
                found.append(f"{joined[word.lower()]} \u2192 {word}")
                continue
            limit = 1 if len(word) <= 5 else 2
            for other in known:
                if len(other) < 4 or word in (f"{other}s", f"{other}es"):
                    continue
                if abs(len(other) - len(word)) <= limit and edit_distance(word, other) <= limit:
                    found.append(f"{other} \u2192 {word}")
                    break
    return tuple(dict.fromkeys(found))


def dead_alive(text: str, ledger: Sequence[LedgerEntry]) -> tuple[str, ...]:
    """The characters the ledger records as dead who speak or act in `text`, unless the
    passage itself speaks of their death, a ghost or a memory."""
    if DEATH_WORDS.search(text):
        return ()
    found = []
    for name in sorted(dead(ledger)):
        for sentence in sentences(text):
            if _acts(sentence, called(name)):
                found.append(name)
                break
    return tuple(found)


def _acts(sentence: str, words: Sequence[str]) -> bool:
    """Whether someone called by one of `words` speaks or acts in `sentence`."""
    for word in words:
        for match in re.finditer(rf"\b{re.escape(word)}\b", sentence):
            after = sentence[match.end() :].split()[:3]
            before = sentence[: match.start()].split()[-1:]
            if ALIVE.search(" ".join(after)) or (before and ALIVE.fullmatch(before[0])):
                return True
    return False


def cast(ledger: Sequence[LedgerEntry], count: int = 6) -> list[str]:
    """The story's characters most mentioned, most first."""
    people = Counter({e.name: e.mentions for e in ledger if e.kind == "character"})
    return [name for name, _ in people.most_common(count)]


def ledger_text(ledger: Sequence[LedgerEntry], lore_names: Iterable[str] = ()) -> str:
    """The ledger as the context shows it, in sentences, most mentioned first: the
    characters, the places, then the facts. Names that members' lore describes are left to
    the lore."""
    skip = {name.lower() for name in lore_names}
    kept = [e for e in ledger if e.name.lower() not in skip]
    people = [e.name for e in kept if e.kind == "character"][:CAST_SHOWN]
    places = [e.name for e in kept if e.kind == "place"][:PLACES_SHOWN]
    parts = []
    if people:
        parts.append(f"Characters: {', '.join(people)}.")
    if places:
        parts.append(f"Places: {', '.join(places)}.")
    parts += [e.text for e in kept if e.kind == "fact"][:FACTS_SHOWN]
    return " ".join(parts)
