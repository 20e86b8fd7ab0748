"""The `automuse` command end to end, as a user runs it, with the embedded model."""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.prompts import template
from bot.store import Store

FAST = {
    "AUTOMUSE_MAX_TOKENS": "50",
    "AUTOMUSE_SEED": "7",
    "AUTOMUSE_LOG_LEVEL": "warning",
    "AUTOMUSE_TIMEOUT": "3600",
}
"""Short passages; and a deadline no busy test machine reaches (speed is for the benchmarks)."""
SMALL = {
    "AUTOMUSE_MODEL": "SmolLM2-135M-Instruct",
    "AUTOMUSE_SUMMARY_MODEL": "SmolLM2-135M-Instruct",
}
"""The smallest embedded model, for the tests of the command's own work; the demo runs the
default writer."""


def automuse(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTOMUSE_", "OPENAI_", "DISCORD_"))
    }
    environ |= {"AUTOMUSE_DB": str(tmp_path / "cli.db"), **FAST, **env}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


async def new_database(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


@pytest.fixture(scope="module")
def written(tmp_path_factory, scenesim):
    tmp_path = tmp_path_factory.mktemp("cli")
    opening = scenesim / "story_run" / "00_opening.txt"
    result = automuse(
        tmp_path, "write", "--opening-file", str(opening), "-n", "2", "--title", "Sylas", **SMALL
    )
    return tmp_path, result, opening.read_text()


def test_write_streams_each_passage_with_progress_and_stores_the_story(written):
    _, result, opening = written
    assert result.returncode == 0, result.stderr
    assert "[1/2] writing…" in result.stderr and "[2/2] writing…" in result.stderr
    assert "story 1: Sylas" in result.stderr
    sections = result.stdout.split("\n§")
    assert len(sections) == 4 and opening.strip() in sections[1]
    assert all(len(section.split()) > 5 for section in sections[2:])


def test_stories_and_show_read_the_database(written):
    tmp_path, result, opening = written
    listing = automuse(tmp_path, "stories")
    assert listing.returncode == 0 and "Sylas" in listing.stdout
    assert listing.stdout.splitlines()[1].split()[:3] == ["1", "3", "active"]
    shown = automuse(tmp_path, "show", "1")
    assert shown.stdout.startswith("# Sylas\n\n") and opening.strip() in shown.stdout
    for passage in result.stdout.split("\n§")[2:]:
        assert passage.split("\n", 1)[1].strip() in shown.stdout


def test_export_writes_fine_tuning_jsonl_in_both_formats(written):
    tmp_path, *_ = written
    completion = automuse(tmp_path, "export", "1", "--format", "finetune")
    rows = [json.loads(line) for line in completion.stdout.splitlines()]
    assert 1 <= len(rows) <= 2
    assert all(row["prompt"].endswith("\n\nNEXT PARAGRAPH:") for row in rows)
    assert all(row["completion"].endswith(" END") for row in rows)
    out = tmp_path / "chat.jsonl"
    chat = automuse(tmp_path, "export", "1", "--format", "finetune", "--chat", "-o", str(out))
    assert chat.returncode == 0
    chat_rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["messages"][-1]["role"] for row in chat_rows] == ["assistant"] * len(chat_rows)


async def stored_line(path: Path) -> list:
    store = await Store.open(path, create=False)
    try:
        story = await store.story(1)
        return [story, await store.line(story.head_id)]
    finally:
        await store.close()


def test_each_passage_s_beat_is_revealed_by_show_and_export_only_when_asked(tmp_path, written):
    source, *_ = written
    _, line = asyncio.run(stored_line(source / "cli.db"))
    planned = [p.beat for p in line[1:-1] if p.beat]
    assert all(len(beat.split()) >= 4 and beat[-1] in ".!?\"'\u201d" for beat in planned), planned
    beat = "A stranger rowed in from the mainland with a letter for Sylas."
    (tmp_path / "cli.db").write_bytes((source / "cli.db").read_bytes())
    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("UPDATE passages SET beat = ? WHERE id = ?", (beat, line[-1].id))
    db.close()
    shown = automuse(tmp_path, "show", "1", "--beats")
    plain = automuse(tmp_path, "show", "1")
    exported = automuse(tmp_path, "export", "1", "--beats")
    for stored in (*planned, beat):
        quoted = "> " + " ".join(stored.split())
        assert quoted in shown.stdout and quoted in exported.stdout
        assert quoted not in plain.stdout
    refused = automuse(tmp_path, "export", "1", "--format", "finetune", "--beats")
    assert refused.returncode == 2 and "--beats goes with the md format only." in refused.stderr


def test_a_story_written_with_the_planner_off_has_no_planned_beat(tmp_path, written):
    source, *_ = written
    (tmp_path / "cli.db").write_bytes((source / "cli.db").read_bytes())
    result = automuse(tmp_path, "write", "--story", "1", "-n", "1", "--planner", "off", **SMALL)
    assert result.returncode == 0, result.stderr
    story, line = asyncio.run(stored_line(tmp_path / "cli.db"))
    assert len(line) == 4 and line[-1].beat == "" and len(line[-1].text.split()) > 5
    assert story.settings["planner"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "42"), "There is no story with id 42."),
        (("export", "42"), "There is no story with id 42."),
        (("write", "--opening", "   "), "Give an opening or a premise"),
        (("write", "--opening", "x" * 4001), "the limit is 4,000"),
        (("write", "--opening-file", "missing.txt"), "There is no file missing.txt."),
        (("write", "--story", "1", "--premise", "A heist."), "A continued story keeps its own"),
    ],
)
def test_bad_input_gets_one_plain_sentence_and_exit_code_2(tmp_path, args, message):
    asyncio.run(new_database(tmp_path / "cli.db"))
    result = automuse(tmp_path, *args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"automuse: {message}".strip() or message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_non_utf8_file_is_refused_plainly(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Café au lait, très chaud.".encode("latin-1"))
    result = automuse(tmp_path, "write", "--opening-file", "latin1.txt")
    assert result.returncode == 2
    assert result.stderr.strip() == "automuse: The file latin1.txt is not UTF-8 text."


def test_a_bad_setting_stops_start_up_with_one_clear_error(tmp_path):
    result = automuse(tmp_path, "stories", AUTOMUSE_TEMPERATURE="warm")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "automuse: configuration error: AUTOMUSE_TEMPERATURE must be a number, not 'warm'."
    )


def test_run_without_a_discord_token_writes_a_five_passage_demo(tmp_path):
    result = automuse(tmp_path, "run")
    assert result.returncode == 0, result.stderr
    assert "No DISCORD_TOKEN is set" in result.stderr.splitlines()[0]
    assert "[5/5] writing…" in result.stderr
    assert len(result.stdout.split("\n§")) == 7
    assert "story 1: The Door Below the Lamp" in result.stderr
    assert f"§1\n{template('demo_opening')}\n" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("run", "--shards", "0-1"), {}, "--shards needs a shard count as well."),
        (
            ("run", "--shard-count", "2", "--shards", "0-2"),
            {},
            "--shards must lie between 0 and 1 for 2 shards.",
        ),
        (("run", "--shard-count", "zero"), {}, "--shard-count must be a whole number from 1"),
        (("run",), {"AUTOMUSE_SHARD_IDS": "1"}, "AUTOMUSE_SHARD_IDS needs a shard count"),
        (
            ("run", "--shards", "2"),
            {"AUTOMUSE_SHARD_COUNT": "2"},
            "--shards must lie between 0 and 1 for 2 shards.",
        ),
    ],
)
def test_bad_shards_stop_run_with_one_clear_error(tmp_path, args, env, message):
    result = automuse(tmp_path, *args, DISCORD_TOKEN="not-used", **env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"automuse: configuration error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "cli.db").exists()
