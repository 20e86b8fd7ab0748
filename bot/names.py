"""Names read from text: which runs of capitalised words name someone or somewhere. A name is
a run of capitalised words that is not an ordinary word starting a sentence. A place is a name
after "in", "at", "to" and the like, or one with a word such as "Island" or "Head" after its
first ("Carrow Head", "Relay Station Nine"); any other name is a character, unless it follows
"the" ("the Board"). Pure functions, with no model call."""

from __future__ import annotations

import re
from collections.abc import Collection

from wordfreq import zipf_frequency

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
DESIGNATION = re.compile(r"[- ]\d[\w-]*")
"""What follows the name of a planet, a ship, a model or a numbered thing ("Kepler-442b",
"Tank 117"), which is no one."""
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
OPENING_QUOTE = re.compile(r"(?:^|[\s,:(\u2014-])[\"\u201c]$")
"""How a quotation opens inside a sentence (`Mira said, "After…`, `a note - "Don't…`): its
first word starts a sentence."""
NAMED_ACT = re.compile(
    r"(?:said|asked|says|asks|whispered|shouted|replied|nodded|smiled|laughed|sighed|knew"
    r"|felt|thought|was|had|could|would|did|took|went|came|saw|ran|stood|sat|[a-z]{3,}ed)[,.]?"
)
"""What follows a name at a sentence's start: a person speaks, is, has or does."""
COMMON_ZIPF = 5.5
"""How common an English word must be (wordfreq's Zipf scale) to name no one when it starts a
sentence once ("Just wanted to make sure"), whatever follows it."""
ADJECTIVE_ZIPF = 3.0
"""How common the word an adverb is made from must be: "thankful" is, "bever" (of "Beverly")
is not."""
THINGS_DO = frozenset({"was", "had", "could", "would", "did", "went", "came"})
"""Of those, what a thing does as well ("Flour went in", "Inside was dark")."""
PERSON_ACT = (
    r"(?:\s+[a-z]+ly)?\s+(?:said|asked|replied|answered|whispered|shouted|cried|sobbed|muttered"
    r"|nodded|smiled|laughed|sighed|frowned|grinned|shrugged|gasped|knew|felt|thought|realized"
    r"|realised|decided|wanted|hugged|looked (?:at|up|down|around|away))\b"
    r"|['\u2019]s\s+(?:eyes|face|voice|hands?|heart|hair|smile|mother|father)\b"
    r"|,\s+who\b"
)
"""What follows a name when someone speaks, looks, feels or thinks, has a face, or is "who":
only people do ("Lena looked up", "Lena's eyes", "Lena, who was nine")."""
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


def is_name(run: str, at_start: bool) -> bool:
    """Whether a run of capitalised words names someone or something: not a pronoun, a day
    or an adverb, and, at a sentence's start, not a single ordinary English word ("Then",
    "Rain")."""
    words = run.replace("-", " ").split()
    if words[0].rstrip(".") in TITLES:
        return len(words) > 1
    if all(word.lower() in NOT_NAMES for word in words) or (len(words) == 1 and adverb(run)):
        return False
    return not (at_start and len(words) == 1 and run.lower() in english_words())


def adverb(word: str) -> bool:
    """Whether `word` is an English adverb made from an English word of five letters or more
    ("Thankfully", "Suddenly", "Luckily"), which names no one even where a sentence does not
    seem to start ("Dear Aunt, Thankfully, …"). Names in -ly are not ("Emily", "Beverly":
    "bever" is too rare a word)."""
    low = word.lower()
    stem = low.removesuffix("ly")
    if stem == low or len(stem) < 5 or low not in english_words():
        return False
    stems = [stem, f"{stem[:-1]}y"] if stem.endswith("i") else [stem]
    return any(zipf_frequency(s, "en") >= ADJECTIVE_ZIPF for s in stems)


def acts_as_person(name: str, text: str) -> bool:
    """Whether `text` has someone called `name` (or a word of it) act as only people do
    (PERSON_ACT)."""
    return any(re.search(rf"\b{re.escape(word)}(?:{PERSON_ACT})", text) for word in called(name))


def _acts_as_name(run: str, after: str, text: str, known: Collection[str]) -> bool:
    """Whether a single English word at a sentence's start is still a name ("Mira climbed",
    "Lena, who was nine"): the text never writes it in lower case, and it speaks, owns or acts
    as people do. Named only once and not yet `known`, it is no very common word ("Just wanted
    to make sure") and does more than things do ("Flour went in by the handful")."""
    if re.search(rf"\b{re.escape(run.lower())}\b", text):
        return False
    once = run not in known and len(re.findall(rf"\b{re.escape(run)}\b", text)) < 2
    if once and zipf_frequency(run.lower(), "en") >= COMMON_ZIPF:
        return False
    if re.match(rf"(?:{PERSON_ACT})", after):
        return True
    following = after.split()[:1]
    if not following:
        return after.startswith("'s")
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
            named = is_name(run, at_start)
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
