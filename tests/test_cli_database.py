"""The `automuse` command on missing, broken and newer databases: one sentence, exit code 2,
within seconds, and nothing created or written."""

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import SCHEMA_VERSION, Store
from tests.store.filled import OPENING, fill

ROOT = Path(__file__).resolve().parents[1]


def automuse(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTOMUSE_", "OPENAI_", "DISCORD_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env={**environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_database(path: Path, stories: int = 1) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE filler (text TEXT)")
        db.executemany("INSERT INTO filler VALUES (?)", [("words " * 500,)] * stories * 50)
    db.close()


@pytest.mark.parametrize("broken", ["garbage", "truncated"])
@pytest.mark.parametrize("command", [("stories",), ("show", "1"), ("export", "1")])
def test_a_file_that_is_not_a_database_gets_one_sentence_and_exit_code_2(tmp_path, broken, command):
    path = tmp_path / "automuse.db"
    if broken == "garbage":
        path.write_bytes(b"this is not a database\n" * 100)
    else:
        write_database(path, stories=4)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = automuse(tmp_path, "--db", "automuse.db", *command)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    if broken == "garbage":
        assert line.startswith("automuse: automuse.db is not an AutoMuse database (")
    else:
        assert line.startswith("automuse: The database automuse.db is damaged (")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("stories",), ("show", "1"), ("export", "1", "-o", "x.md")])
def test_read_only_commands_on_a_missing_database_create_nothing(tmp_path, command):
    result = automuse(tmp_path, "--db", "also/missing/y.db", *command)
    assert result.returncode == 2
    assert result.stderr == "automuse: There is no database at also/missing/y.db.\n"
    assert list(tmp_path.iterdir()) == []


def test_a_database_from_a_newer_automuse_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "automuse.db"
    write_database(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    result = automuse(tmp_path, "--db", "automuse.db", "stories")
    assert result.returncode == 2
    assert result.stderr == (
        "automuse: automuse.db is from a newer AutoMuse (schema version 99); this one knows up"
        f" to version {SCHEMA_VERSION}, so it was left untouched.\n"
    )
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["automuse.db"]


def test_migrate_db_copies_to_postgresql_and_show_prints_the_same_story(tmp_path, postgres):
    async def filled() -> None:
        store = await Store.open(tmp_path / "old.db")
        try:
            await fill(store)
        finally:
            await store.close()

    asyncio.run(filled())
    url = asyncio.run(postgres.new_database())
    before = automuse(tmp_path, "--db", "old.db", "show", "1")
    assert before.returncode == 0 and OPENING in before.stdout
    moved = automuse(tmp_path, "migrate-db", "--from", "sqlite:///old.db", "--to", url)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("Copied old.db to postgresql://127.0.0.1:")
    assert "2 stories" in moved.stdout and "2 votes" in moved.stdout
    after = automuse(tmp_path, "--db", url, "show", "1")
    assert after.returncode == 0 and after.stdout == before.stdout
    again = automuse(tmp_path, "migrate-db", "--from", "sqlite:///old.db", "--to", url)
    assert again.returncode == 2
    [line] = again.stderr.splitlines()
    assert line.endswith(
        "already holds data (2 rows in stories); migrate-db only fills an empty database."
    )


def test_migrate_db_from_a_missing_database_creates_nothing(tmp_path, postgres):
    url = asyncio.run(postgres.new_database())
    result = automuse(tmp_path, "migrate-db", "--from", "missing.db", "--to", url)
    assert result.returncode == 2
    assert result.stderr == "automuse: There is no database at missing.db.\n"
    assert list(tmp_path.iterdir()) == []


async def damaged_database(path: Path, intact: int) -> None:
    """An AutoMuse database with a story, then the first 2,000 bytes of every page after the
    `intact` first ones flipped."""
    store = await Store.open(path)
    try:
        await fill(store)
        for n in range(40):
            await store.add_lore(1, "thing", f"Filler {n}", ["filler"], "words " * 150)
    finally:
        await store.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    for start in range(intact * 4096, len(data), 4096):
        data[start : start + 2000] = bytes(byte ^ 0xFF for byte in data[start : start + 2000])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("intact", [1, 3])
@pytest.mark.parametrize("command", [("stories",), ("show", "1"), ("export", "1")])
def test_a_damaged_database_gets_one_sentence_naming_it_and_exit_code_2(tmp_path, command, intact):
    asyncio.run(damaged_database(tmp_path / "automuse.db", intact))
    result = automuse(tmp_path, "--db", "automuse.db", *command)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("automuse: The database automuse.db is damaged (")
    assert line.endswith("Restore it from a backup.")
    assert "Traceback" not in result.stderr
