"""The continuity ledger, read from the text: a story's named characters and places, and the
facts a reader holds it to (who has died, who holds what, where everyone is). Pure functions,
with no model call: cheap enough to run after every passage.

A name is a run of capitalised words that is not an ordinary word starting a sentence. A
place is a name after "in", "at", "to" and the like, or one with a word such as "Island" or
"Head" after its first ("Carrow Head", "Relay Station Nine"); any other name is a character,
unless it follows "the" ("the Board"). Facts are read from plain patterns: "Tom died", "Agnes
took the key", "Agnes went to the harbour".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from bot.narration import narration_person
from bot.store.records import LedgerEntry
from bot.surface import english_words

TITLES = (
    *("Mr", "Mrs", "Ms", "Miss", "Dr", "Captain", "Father", "Mother", "Aunt", "Uncle"),
    *("Grandpa", "Grandma", "Inspector", "Commander", "Engineer", "Professor", "Sergeant"),
)
TITLE = rf"(?:(?:{'|'.join(TITLES)})\.? )"
UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de"
LOWER = "a-z\u00df-\u00f6\u00f8-\u00ff"
"""Latin letters with their accents, so that "Valdór" and "Zoë" are whole words."""
WORD = f"[{UPPER}][{LOWER}]+"
NAME = rf"{TITLE}?{WORD}(?:[ -]{WORD})*"
DESIGNATION = re.compile(r"-\d[\w-]*")
"""What follows the name of a planet, a ship or a model ("Kepler-442b"), which is no one."""
DIGIT = re.compile(r"\d")
UNDERSCORED = re.compile(rf"\b{WORD}(?:_[{UPPER}{LOWER}]+)+\b")
NAME_RUN = re.compile(rf"(?<![\w'\[-])({NAME})(?![\w\]]|['\u2019]t\b)")
"""A name: not a word's part ("Commander-in-Chief"), nor a template's blank ("Dear
[Name],"), nor a contraction ("Don't")."""
PLACE_WORDS = frozenset({
    "island", "isle", "street", "road", "lane", "hall", "house", "castle", "church", "chapel",
    "village", "town", "city", "harbour", "harbor", "bay", "river", "lake", "sea", "mountain",
    "hill", "forest", "wood", "woods", "park", "station", "square", "bridge", "tower",
    "lighthouse", "manor", "farm", "inn", "tavern", "abbey", "school", "college", "palace",
    "valley", "point", "cove", "falls", "market", "court", "head", "rock", "cape", "loch",
    "quay", "pier", "port", "moor", "ridge", "rocks", "cliff", "cliffs", "hills", "islands",
    "isles", "docks", "gardens", "heights", "sands", "mountains", "shore", "beach", "coast",
    "canyon", "desert", "plains", "wharf", "avenue", "alley",
})  # fmt: skip
PLACE_BEFORE = re.compile(
    r"(?<!looked )(?<!smiled )(?<!stared )(?<!glanced )(?<!shouted )(?<!laughed )(?<!waved )"
    r"(?<!frowned )(?<!grinned )(?<!nodded )(?<!talk )(?<!talked )(?<!turned )(?<!said )"
    r"\b(?:in|at|to|from|into|toward|towards|across|near|reach(?:ed)?|left|leave)\s+(?:the\s+)?$"
)
THE_BEFORE = re.compile(r"\bthe\s+$")
"""A name after "the" that is no place is an institution or a thing ("the Board"), not
someone."""
NOT_NAMES = frozenset({
    "nothing", "everything", "something", "anything", "everyone", "someone", "anyone", "nobody",
    "everybody", "somebody", "anybody", "none", "all", "both", "each", "a", "an", "and", "as",
    "at", "but", "by", "for", "from", "he", "her", "his", "i", "if", "in", "it", "its", "my",
    "no", "not", "now", "of", "on", "once", "one", "or", "our", "she", "so", "that", "the",
    "their", "then", "there", "they", "this", "to", "we", "what", "when", "where", "while",
    "with", "you", "your", "yes", "oh", "let", "god", "sir", "madam", "lord", "lady", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "english", "christmas", "earth", "chapter", "hello", "hi", "hey", "goodbye",
    "bye", "thanks", "please", "sorry", "okay", "ok", "well", "ah", "wow", "welcome", "how",
    "why", "who", "whom", "whose", "which", "thank", "here", "today", "tonight", "tomorrow",
    "yesterday", "dear",
})  # fmt: skip
EPITHETS = frozenset(
    ["old", "young", "little", "big", "great", "poor", "dear", "good", "bad", "saint"]
)
"""Words that go before a name without being one ("Old" of "Old Tom")."""
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
OPENING_QUOTE = re.compile(r"(?:^|[\s,:(\u2014-])[\"\u201c]$")
"""How a quotation opens inside a sentence (`Mira said, "After…`, `a note - "Don't…`): its
first word starts a sentence."""
NAMED_ACT = re.compile(
    r"(?:said|asked|says|asks|whispered|shouted|replied|nodded|smiled|laughed|sighed|knew"
    r"|felt|thought|was|had|could|would|did|took|went|came|saw|ran|stood|sat|[a-z]{3,}ed)[,.]?"
)
"""What follows a name at a sentence's start: a person speaks, is, has or does."""
THINGS_DO = frozenset({"was", "had", "could", "would", "did", "went", "came"})
"""Of those, what a thing does as well ("Flour went in", "Inside was dark")."""
SENTENCE = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)]*\s+|\n+")
ABBREVIATED = re.compile(r"\b(Mr|Mrs|Ms|Dr|St)\.")


def sentences(text: str) -> list[str]:
    """The sentences of `text`; "Mrs." and the like lose their full stop, so they do not end
    one."""
    text = ABBREVIATED.sub(r"\1", text)
    return [part.strip() for part in SENTENCE.split(text) if part.strip()]


def called(name: str) -> list[str]:
    """The words a name is called by in the text: the whole name, and each of its words that
    is no title and no ordinary word ("Tom" and "Reid" of "Tom Reid", "Tom" of "Old Tom")."""
    words = [w for w in name.replace("-", " ").split() if w.rstrip(".") not in TITLES]
    plain = [w for w in words if w.lower() not in NOT_NAMES and w.lower() not in EPITHETS]
    return [name, *plain]


def named_as_place(name: str) -> bool:
    """Whether `name` has a word such as "Island" or "Station" after its first ("Carrow
    Head", "Relay Station Nine"), or is one such word alone."""
    words = name.replace("-", " ").split()
    return any(word.lower() in PLACE_WORDS for word in words[1:] or words)


def runs_in(name: str) -> list[str]:
    """The runs of two words or more inside a longer name ("Station Nine" of "Relay Station
    Nine")."""
    words = name.split()
    return [
        " ".join(words[start:end])
        for start in range(len(words))
        for end in range(start + 2, len(words) + 1)
        if end - start < len(words)
    ]


def untitled(name: str) -> str:
    """`name` without the titles before it ("Ines Valdór" of "Commander Ines Valdór")."""
    words = name.split()
    while len(words) > 1 and words[0].rstrip(".") in TITLES:
        words = words[1:]
    return " ".join(words)


def _is_name(run: str, at_start: bool) -> bool:
    """Whether a run of capitalised words names someone or something: not a pronoun or a
    day, and, at a sentence's start, not a single ordinary English word ("Then", "Rain")."""
    words = run.replace("-", " ").split()
    if words[0].rstrip(".") in TITLES:
        return len(words) > 1
    if all(word.lower() in NOT_NAMES for word in words):
        return False
    return not (at_start and len(words) == 1 and run.lower() in english_words())


def _acts_as_name(run: str, after: str, text: str, known: Collection[str]) -> bool:
    """Whether a single English word at a sentence's start is still a name ("Mira climbed"):
    the text never writes it in lower case, and it speaks, owns or acts as people do. Named
    only once and not yet `known`, it must do more than things do ("Flour went in by the
    handful" names no one)."""
    if re.search(rf"\b{re.escape(run.lower())}\b", text):
        return False
    following = after.split()[:1]
    if not following:
        return after.startswith("'s")
    once = run not in known and len(re.findall(rf"\b{re.escape(run)}\b", text)) < 2
    if once and following[0].strip(",.") in THINGS_DO:
        return False
    return after.startswith("'s") or bool(NAMED_ACT.fullmatch(following[0]))


def names_in(text: str, known: Collection[str] = ()) -> list[tuple[str, bool]]:
    """The names `text` mentions, in order, each with whether it reads as a place; `known`
    holds the story's names already recorded."""
    found: list[tuple[str, bool]] = []
    for sentence in sentences(text):
        for match in NAME_RUN.finditer(sentence):
            run = match.group(1)
            words = run.split()
            before, after = sentence[: match.start()], sentence[match.end() :]
            opened = before.rstrip()
            at_start = not opened.strip("\"'\u201c(") or bool(OPENING_QUOTE.search(opened))
            after_the = False
            while words and words[0].lower() in NOT_NAMES:
                after_the = words[0].lower() == "the"
                words, at_start = words[1:], False
            run = " ".join(words)
            if not run:
                continue
            named = _is_name(run, at_start)
            if not named and not (at_start and _acts_as_name(run, after, text, known)):
                continue
            owns = after.startswith(("'", "\u2019"))
            titled = words[0].rstrip(".") in TITLES
            place = not titled and (
                (bool(PLACE_BEFORE.search(before)) and not owns) or named_as_place(run)
            )
            if not place and (after_the or THE_BEFORE.search(before)):
                continue
            designation = DESIGNATION.match(after)
            if designation:
                run, place = run + designation.group(0), True
            found.append((run, place))
    return found


def _patterns(template: str) -> re.Pattern[str]:
    return re.compile(template.format(name=NAME))


def facts_in(text: str) -> list[LedgerEntry]:
    """The facts `text` states: who died, who took what, who went where, who is what."""
    found: list[LedgerEntry] = []
    for sentence in sentences(text):
        for template in DIED:
            for match in _patterns(template).finditer(sentence):
                who = match.group("who")
                if _is_name(who, False):
                    found.append(LedgerEntry("fact", f"{who}: dead", who, f"{who} is dead."))
        for match in _patterns(HOLDS).finditer(sentence):
            who, what = match.group("who"), match.group("what")
            if _is_name(who, False):
                thing = re.sub(r"^(?:his|her|their|a|an) ", "the ", what)
                key = f"{who}: holds {thing}"
                found.append(LedgerEntry("fact", key, who, f"{who} has {thing}."))
        for match in _patterns(GOES).finditer(sentence):
            who, where = match.group("who"), match.group("where")
            if _is_name(who, False) and where.lower() not in NOT_NAMES:
                found.append(LedgerEntry("fact", f"{who}: at", who, f"{who} is at {where}."))
        for match in _patterns(NAMED).finditer(sentence):
            who, what, head = match.group("who", "what", "head")
            if _is_name(who, False):
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
            if not I_SAY.search(sentence) and _is_name(match.group("who"), False):
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

    for name, place in found:
        name = first_recorded(short.get(name, name))
        place = (place and untitled(name) == name) or named_as_place(name)
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
    passage calls him a man."""
    described = {entry.name for entry in ledger if entry.key.endswith(IS)}
    found = read_ledger(text, [entry.name for entry in ledger])
    return [e for e in found if not (e.key.endswith(IS) and e.name in described)]


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
