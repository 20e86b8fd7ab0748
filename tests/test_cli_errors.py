"""The `automuse` command on bad paths, numbers, encodings and hostile text: one sentence,
exit code 2, before any model call; and text printed to a terminal shows its controls."""

from __future__ import annotations

import asyncio
import ctypes
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import Terminal
from bot.config import Settings
from bot.engine import Engine
from bot.llm import Models
from bot.llm.scripted import ScriptedModel
from bot.store import Store
from tests.servers import HOST, free_port
from tests.stories import SCRIPTED_CONFIG

ROOT = Path(__file__).resolve().parents[1]
TITLE = "\x1b]0;pwned\x07Evil\x1b[2J"
OPENING = "The keeper \x1b[31mlit\x1b[0m the lamp.\n\tThen he \x9b waited."
PASSAGE = "A ship \x1b]8;;http://x\x07came\x1b]8;;\x07 in the night. It \u202ewas\u202c dark."


def cli_environment(model_url: str) -> dict[str, str]:
    """The environment the command runs in: none of ours from this machine, the model server
    at `model_url`, and no retries."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTOMUSE_", "OPENAI_", "DISCORD_"))
    }
    return environ | {
        "PYTHONPATH": str(ROOT),
        "OPENAI_BASE_URL": model_url,
        "AUTOMUSE_MAX_RETRIES": "0",
    }


def automuse(cwd: Path, *args: str | bytes, drop_root: bool = False) -> subprocess.CompletedProcess:
    """Run the command as a member would; a dead model server makes any model call fail."""
    environ = cli_environment(f"http://{HOST}:{free_port()}/v1")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        timeout=60,
        preexec_fn=without_root_file_access if drop_root else None,
    )


def without_root_file_access() -> None:
    """In the child: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so that even root obeys
    file permissions as an ordinary user does."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    dac_caps = (1, 2)
    for cap in dac_caps:
        libc.prctl(pr_capbset_drop, cap, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    libc.capget(header, data)
    mask = ~sum(1 << cap for cap in dac_caps) & 0xFFFFFFFF
    for index in range(3):
        data[index] &= mask
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def one_sentence(result: subprocess.CompletedProcess) -> str:
    """The one error line the command wrote to standard error (besides `· ` progress lines),
    after checking exit code 2."""
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if not line.startswith("· ")]
    return line


async def write_story(path: Path) -> None:
    store = await Store.open(path)
    try:
        model = ScriptedModel(fallback=lambda prompt, sampling: "A summary.")
        model.add("The keeper lit it.", PASSAGE)
        engine = Engine(store, Models(model, model), SCRIPTED_CONFIG)
        story = await engine.start(opening=OPENING, title=TITLE)
        await engine.next(story.id)
    finally:
        await store.close()


@pytest.fixture
def story_folder(tmp_path: Path) -> Path:
    """A folder with `automuse.db` holding story 1, whose title and passages carry escapes."""
    asyncio.run(write_story(tmp_path / "automuse.db"))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("export", "1", "-o", "no/such/dir/out.md"),
            "There is no folder no/such/dir for the output file no/such/dir/out.md.",
        ),
        (("export", "1", "-o", "sub"), "The output file sub is a folder."),
        (("show", "99999999999999999999999"), "There is no story with id 99999999999999999999999."),
        (("export", "-5"), "There is no story with id -5."),
        (
            ("--db", "missing/x.db", "write", "--opening", "Once."),
            "There is no folder missing for the database missing/x.db.",
        ),
        (("--db", "sub", "write", "--opening", "Once."), "The database sub is a folder."),
        (("write", "--opening-file", "sub"), "sub is not a regular file."),
        (
            (b"write", b"--opening", b"caf\xe9 au lait"),
            r"The argument caf\xe9 au lait is not valid UTF-8.",
        ),
        (("write", "--opening-file", "nul.txt"), "Give an opening or a premise to start a story."),
        (("write", "--opening", "\u200b\u2060"), "The opening has no visible characters."),
    ],
)
def test_each_error_is_one_sentence_with_exit_code_2_and_no_model_call(
    story_folder: Path, args: tuple[str, ...], message: str
) -> None:
    (story_folder / "sub").mkdir()
    (story_folder / "nul.txt").write_bytes(b"\x00\x00\x00")
    before = sorted(p.name for p in story_folder.rglob("*") if "automuse.db" not in p.name)
    assert one_sentence(automuse(story_folder, *args)) == f"automuse: {message}"
    after = sorted(p.name for p in story_folder.rglob("*") if "automuse.db" not in p.name)
    assert after == before, "nothing is created"


def test_an_opening_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    started = time.perf_counter()
    line = one_sentence(automuse(tmp_path, "write", "--opening-file", "pipe"))
    assert line == "automuse: pipe is not a regular file."
    assert time.perf_counter() - started < 30


def test_a_read_only_database_is_refused_before_the_model_is_called(story_folder: Path) -> None:
    database = story_folder / "automuse.db"
    shutil.copy(database, story_folder / "ro.db")
    (story_folder / "ro.db").chmod(0o444)
    before = (story_folder / "ro.db").read_bytes()
    result = automuse(story_folder, "--db", "ro.db", "write", "--opening", "Once.", drop_root=True)
    assert one_sentence(result) == "automuse: The database ro.db is read-only."
    assert (story_folder / "ro.db").read_bytes() == before


def test_a_read_only_folder_is_refused_before_the_model_is_called(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = automuse(
            tmp_path, "--db", "locked/new.db", "write", "--opening", "Once.", drop_root=True
        )
        assert one_sentence(result) == (
            "automuse: The folder locked is read-only, so the database locked/new.db"
            " cannot be written."
        )
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_model_failure_is_one_sentence_with_exit_code_2(tmp_path: Path) -> None:
    line = one_sentence(automuse(tmp_path, "write", "--premise", "A heist on the moon."))
    assert line == "automuse: The model server could not be reached."


# Text printed to a terminal


def visible(text: str) -> None:
    for control in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
        assert control not in text


def test_stories_show_their_titles_with_controls_made_visible(story_folder: Path) -> None:
    result = automuse(story_folder, "stories")
    assert result.returncode == 0
    listing = result.stdout.decode()
    visible(listing)
    assert listing.splitlines()[1].endswith("^[]0;pwned^GEvil^[[2J")


def test_show_and_markdown_export_make_controls_visible_and_keep_layout(
    story_folder: Path,
) -> None:
    for command in (("show", "1"), ("export", "1", "--format", "md")):
        result = automuse(story_folder, *command)
        assert result.returncode == 0
        text = result.stdout.decode()
        visible(text)
        assert text.startswith("# ^[]0;pwned^GEvil^[[2J\n\n")
        assert "The keeper ^[[31mlit^[[0m the lamp.\n\tThen he <U+009B> waited." in text
        assert "It <U+202E>was<U+202C> dark." in text


def test_jsonl_on_a_terminal_escapes_every_control_and_keeps_the_data(story_folder: Path) -> None:
    result = automuse(story_folder, "export", "1", "--format", "finetune", "--chat")
    assert result.returncode == 0
    text = result.stdout.decode()
    visible(text)
    [row] = [json.loads(line) for line in text.splitlines()]
    assert row["messages"][-1]["content"].endswith("It \u202ewas\u202c dark.")


def test_a_file_export_keeps_the_text_exactly(story_folder: Path) -> None:
    result = automuse(story_folder, "export", "1", "-o", "story.md")
    assert result.returncode == 0
    text = (story_folder / "story.md").read_text()
    assert text.startswith(f"# {TITLE}\n\n{OPENING}\n\n")


def test_written_passages_are_printed_with_controls_made_visible() -> None:
    out, err = io.StringIO(), io.StringIO()
    Terminal(Settings(), out, err).print_passage(2, PASSAGE)
    assert out.getvalue() == (
        "\n§2\nA ship ^[]8;;http://x^Gcame^[]8;;^G in the night. It <U+202E>was<U+202C> dark.\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("write", "--premise", "   "), "Give an opening or a premise to start a story."),
        (
            ("write", "--opening", "Once.", "--title", "\u200b"),
            "The title has no visible characters.",
        ),
    ],
)
def test_a_story_that_cannot_start_creates_no_database(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = automuse(tmp_path, *args)
    assert one_sentence(result) == f"automuse: {message}"
    assert not result.stderr.decode().startswith("· "), "refused before any progress"
    assert list(tmp_path.iterdir()) == [], "no database is created"
