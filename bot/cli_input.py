"""What the command line is given, checked before anything runs: its arguments, the files it
reads and the files it writes; and JSON made safe to print."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from bot.inert import BIDI_CONTROLS, terminal_safe


class UsageError(Exception):
    """The command line asks for something that cannot be done; one sentence says why."""


def read_text_file(path: str) -> str:
    """The UTF-8 text of the regular file at `path`; never waits on a FIFO or a device."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise UsageError(f"{path} is not a regular file.")
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"There is no file {path}.") from None
    except UnicodeDecodeError:
        raise UsageError(f"The file {path} is not UTF-8 text.") from None
    except OSError as error:
        raise UsageError(f"The file {path} cannot be read ({error.strerror}).") from None


def check_new_file(path: Path, what: str) -> None:
    """Raise UsageError unless a file can be written at `path` (which may exist already)."""
    if path.is_dir():
        raise UsageError(f"The {what} {path} is a folder.")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"There is no folder {folder} for the {what} {path}.")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise UsageError(f"The {what} {path} is read-only.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"The folder {folder} is read-only, so the {what} {path} cannot be written."
        )


def check_arguments(argv: Sequence[str]) -> None:
    """Raise UsageError if an argument is not valid UTF-8 (Python keeps such bytes as lone
    surrogates, which would fail only later, after a model call)."""
    for argument in argv:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(argument).decode("utf-8", "backslashreplace")
            raise UsageError(f"The argument {terminal_safe(shown)} is not valid UTF-8.") from None


def json_for_terminal(text: str) -> str:
    """JSON text with the controls JSON leaves raw (C1 and bidirectional) escaped as `\\uXXXX`;
    they occur only inside strings, so the data is unchanged."""
    return "".join(
        json.dumps(char)[1:-1] if char in BIDI_CONTROLS or 0x80 <= ord(char) <= 0x9F else char
        for char in text
    )
