"""Member and model text made inert where it goes: into prompts, and onto a terminal.

Nothing here changes what is stored; these functions shape a copy for one destination.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

COMPLETION_MARKERS = (
    (re.compile(r"\bNEXT\s*PARAGRAPH\s*:"), "Next paragraph:"),
    (re.compile(r"\bEND\b"), "End"),
    (re.compile(r"\["), "("),
    (re.compile(r"\]"), ")"),
)
"""The completion format's own markers, and what a copy of one in member text becomes."""

SECTION_TAG = re.compile(r"<(\s*/?\s*[|A-Za-z][\w\-| \t\n]*)>")
"""Anything shaped like a section tag or a chat template's marker: `<name>`, `</name\n>`,
`<|im_start|>`."""

SCENE_BREAK = re.compile(r"^[ \t]*(?:(?:[*#~=_-][ \t]*){3,}|\u2042[ \t]*)$", flags=re.M)
"""A line that is only a scene break: `* * *`, `***`, `---`, `# # #`, `⁂`…"""

EMPHASIS = re.compile(r"^([ \t]*)[*_]+(?=\S)", flags=re.M)
"""Markdown emphasis opening a line (`**Latest passages:**`), which would hide a label."""

INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Characters that are letters or symbols to Unicode but draw nothing."""

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Characters that reorder the text after them on a terminal."""


def folded(text: str) -> str:
    """`text` as a marker matcher must read it: look-alike characters in their plain form
    (NFKC: fullwidth `<`, `:` and letters), and zero-width and other format characters
    removed, so that `</mem\u200bory>` or a label with a fullwidth colon cannot slip past as
    something else. Bidirectional controls stay: they are part of what was written."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        char for char in text if unicodedata.category(char) != "Cf" or char in BIDI_CONTROLS
    )


def inert_completion(text: str) -> str:
    """`text` with no completion marker left, in any look-alike form: `NEXT PARAGRAPH:`, the
    stop word `END` and the square brackets of section headers become ordinary prose, and a
    chat template's markers (`<|im_start|>`) get angle quotes, as in chat."""
    text = SECTION_TAG.sub(r"‹\1›", folded(text).replace("_END_", "End"))
    for marker, plain in COMPLETION_MARKERS:
        text = marker.sub(plain, text)
    return text


def inert_chat(text: str, labels: Iterable[str]) -> str:
    """`text` that cannot close or open a chat-prompt section: anything tag-shaped gets single
    angle quotes instead of `<` and `>`, and a line starting with one of the prompt's own
    `labels` has that label's colon swapped for a dash, so it reads as prose, not a section."""
    return defuse_labels(SECTION_TAG.sub(r"‹\1›", folded(text)), labels)


def defuse_labels(text: str, labels: Iterable[str]) -> str:
    """`text` with each line that starts with one of `labels` given a dash for the colon; an
    emphasis mark before a label (`**Latest passages:**`) is dropped first."""
    text = EMPHASIS.sub(r"\1", text)
    for label in sorted({label.strip() for label in labels if label.strip()}, key=len):
        head = label.rstrip(":").rstrip()
        words = r"\s+".join(re.escape(word) for word in head.split())
        pattern = rf"^(\s*{words})\s*:"
        text = re.sub(pattern, r"\1 —", text, flags=re.M | re.I)
    return text


def inert_prose(text: str, labels: Iterable[str]) -> str:
    """`text` that cannot end a base model's front matter early: a line that is only a scene
    break (`* * *`) becomes an ellipsis, and the prompt's own `labels` are defused as in chat."""
    text = SCENE_BREAK.sub("…", folded(text))
    return defuse_labels(text, labels)


def tagged_section(name: str, body: str) -> str:
    """`body` between an opening and a closing tag named `name`."""
    return f"<{name}>\n{body}\n</{name}>"


def is_visible(char: str) -> bool:
    """Whether `char` draws something: not a space, control, format or lone combining mark."""
    if char in INVISIBLE_LETTERS:
        return False
    return unicodedata.category(char)[0] not in "CZM"


def has_visible_text(text: str) -> bool:
    return any(is_visible(char) for char in text)


def without_nul_and_bom(text: str) -> str:
    """`text` without NUL characters and without a leading byte-order mark."""
    return text.replace("\x00", "").removeprefix("\ufeff")


def _shown(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


def terminal_safe(text: str) -> str:
    """`text` fit to print on a terminal: control characters (escape, bell, carriage return,
    C1 controls) and bidirectional overrides are shown as `^[`, `^G`, `<U+202E>`…; newlines
    and tabs are kept."""
    return "".join(
        _shown(char)
        if char not in "\n\t" and (unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS)
        else char
        for char in text
    )
