import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiosqlite
import asyncpg
import pytest

from bot.store import SCHEMA_VERSION, Conflict, ModelCall, NewPassage, StaleHead, Store, StoreError
from tests.servers import free_port

OPEN_AT = """
import asyncio, sys, time
from bot.store import Store
async def open_and_close(path):
    store = await Store.open(path)
    print(await store.schema_version())
    await store.close()
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
asyncio.run(open_and_close(sys.argv[1]))
"""


async def schema(path) -> list[tuple[str, str]]:
    async with aiosqlite.connect(path) as db:
        rows = await db.execute_fetchall(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    return [(kind, name) for kind, name, _ in rows], sorted(sql or "" for *_, sql in rows)


async def new_story(store: Store, channel: int = 1, text: str = "Once upon a time."):
    return await store.create_story(
        guild_id=10,
        channel_id=channel,
        title="T",
        started_by=5,
        settings={},
        opening=NewPassage(text=text, summary="s0", author_id=5),
    )


async def test_a_new_database_is_at_the_latest_version_with_wal_and_foreign_keys(tmp_path):
    store = await Store.open(tmp_path / "a.db")
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        assert (await store._one("PRAGMA journal_mode"))[0] == "wal"
        assert (await store._one("PRAGMA foreign_keys"))[0] == 1
    finally:
        await store.close()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
async def test_upgrading_from_every_earlier_version_keeps_data_and_matches_a_fresh_schema(
    tmp_path, version
):
    old_path, fresh_path = tmp_path / "old.db", tmp_path / "fresh.db"
    old = await Store.open(old_path, version=version)
    assert await old.schema_version() == version
    if version >= 1:
        async with old._transaction() as db:
            await db.execute(
                "INSERT INTO stories (id, guild_id, channel_id, title, created_at)"
                " VALUES (1, 10, 20, 'Old', 'then')"
            )
            await db.execute(
                "INSERT INTO passages (id, story_id, parent_id, text, summary, created_at)"
                " VALUES (1, 1, NULL, 'An old opening.', 'old', 'then'),"
                " (2, 1, 1, 'An old passage.', 'older', 'then')"
            )
            await db.execute("UPDATE stories SET head_id = 2 WHERE id = 1")
            if version >= 4:
                await db.execute("UPDATE passages SET depth = 1 WHERE id = 2")
    await old.close()

    upgraded = await Store.open(old_path)
    fresh = await Store.open(fresh_path)
    try:
        assert await upgraded.schema_version() == SCHEMA_VERSION
        if version >= 1:
            story = await upgraded.active_story(10, 20)
            assert story is not None and story.title == "Old"
            opening, second = await upgraded.line(story.head_id)
            assert opening.text == "An old opening." and opening.context is None
            assert not second.looped and (opening.depth, second.depth) == (0, 1)
            assert second.faults == ()
            nxt = await upgraded.append_passage(story.id, second.id, NewPassage(text="More."))
            assert nxt.depth == 2
            assert [p.text for p in await upgraded.line(nxt.id, last=2)] == [
                "An old passage.",
                "More.",
            ]
    finally:
        await upgraded.close()
        await fresh.close()
    assert await schema(old_path) == await schema(fresh_path)


def test_two_processes_creating_one_new_database_at_once_both_succeed(tmp_path):
    root = Path(__file__).resolve().parents[1]
    for round_number in range(10):
        path = tmp_path / f"new{round_number}.db"
        start = f"{time.time() + 1.0:.3f}"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT, str(path), start],
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            results = [process.communicate(timeout=60) for process in processes]
        finally:
            for process in processes:
                process.kill()
        for process, (out, err) in zip(processes, results, strict=True):
            assert process.returncode == 0, err
            assert out.strip() == str(SCHEMA_VERSION)


async def test_a_newer_database_is_refused_naming_both_versions_and_left_untouched(tmp_path):
    path = tmp_path / "newer.db"
    store = await Store.open(path)
    await new_story(store)
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir()))
    with pytest.raises(StoreError) as refused:
        await Store.open(path)
    assert str(refused.value) == (
        f"{path} is from a newer AutoMuse (schema version 99); this one knows up to version"
        f" {SCHEMA_VERSION}, so it was left untouched."
    )
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir())) == before


@pytest.mark.parametrize("content", [b"not a database at all\n" * 200, "truncated"])
async def test_a_file_that_is_not_a_whole_database_is_refused_in_one_sentence(tmp_path, content):
    path = tmp_path / "broken.db"
    if content == "truncated":
        store = await Store.open(path)
        for channel in range(100):
            await new_story(store, channel, "A long opening line. " * 100)
        await store.close()
        content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    refused = (
        r"broken\.db is not an AutoMuse database \(.+\)\.$"
        if content.startswith(b"not a database")
        else r"broken\.db is damaged \(.+\); nothing was changed\. Restore it from a backup\.$"
    )
    with pytest.raises(StoreError, match=refused):
        await Store.open(path)


async def test_opening_without_creating_refuses_a_missing_database_and_creates_nothing(tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "a.db"
    with pytest.raises(StoreError, match="There is no database at"):
        await Store.open(path, create=False)
    assert list(tmp_path.iterdir()) == []


async def test_opening_without_creating_reads_an_existing_database(tmp_path):
    path = tmp_path / "a.db"
    store = await Store.open(path)
    story = await new_story(store)
    await store.close()
    again = await Store.open(path, create=False)
    try:
        assert (await again.story(story.id)).title == "T"
    finally:
        await again.close()


async def test_one_active_story_per_channel_but_ended_ones_do_not_count(store):
    story = await new_story(store)
    with pytest.raises(Conflict):
        await new_story(store)
    await store.update_story(story.id, status="ended")
    again = await new_story(store)
    assert again.id != story.id and (await store.active_story(10, 1)).id == again.id


async def test_passages_form_a_tree_and_moving_the_head_keeps_every_text(store):
    story = await new_story(store)
    first = await store.append_passage(story.id, story.head_id, NewPassage(text="A."))
    second = await store.append_passage(story.id, first.id, NewPassage(text="B."))
    await store.move_head(story.id, second.id, first.id)
    branch = await store.append_passage(story.id, first.id, NewPassage(text="B2."))
    line = await store.line(branch.id)
    assert [p.text for p in line] == ["Once upon a time.", "A.", "B2."]
    assert [p.text for p in await store.children(first.id)] == ["B.", "B2."]
    assert [p.text for p in await store.line(branch.id, last=2)] == ["A.", "B2."]


async def test_appending_after_a_stale_head_writes_only_the_model_calls(store):
    story = await new_story(store)
    await store.append_passage(story.id, story.head_id, NewPassage(text="A."))
    with pytest.raises(StaleHead):
        await store.append_passage(
            story.id, story.head_id, NewPassage(text="B."), [ModelCall("passage", "m", "p", "B.")]
        )
    assert await store._one("SELECT count(*) FROM passages WHERE text = 'B.'") == (0,)
    assert [(c.purpose, c.response) for c in await store.calls(story.id)] == [("passage", "B.")]
    assert await store._one("SELECT passage_id FROM model_calls") == (None,)


async def test_branches_and_choices_after_a_stale_head_log_their_calls(store):
    story = await new_story(store)
    [branch] = await store.add_branches(story.id, story.head_id, [NewPassage(text="B.")])
    await store.append_passage(story.id, story.head_id, NewPassage(text="A."))
    with pytest.raises(StaleHead):
        await store.add_branches(
            story.id, story.head_id, [NewPassage(text="C.")], [ModelCall("candidate", "m", "p")]
        )
    with pytest.raises(StaleHead):
        await store.choose_branch(
            story.id, story.head_id, branch.id, "s", [ModelCall("summary", "m", "p")]
        )
    assert [c.purpose for c in await store.calls(story.id)] == ["candidate", "summary"]


async def test_a_failing_multi_row_change_is_rolled_back_whole(store):
    story = await new_story(store)
    with pytest.raises(Conflict):
        await store.append_passage(
            story.id,
            story.head_id,
            NewPassage(text="Fine."),
            [ModelCall("passage", "m", "p"), ModelCall(None, "m", "p")],  # type: ignore[arg-type]
        )
    assert [p.text for p in await store.line((await store.story(story.id)).head_id)] == [
        "Once upon a time."
    ]
    assert await store._one("SELECT count(*) FROM passages") == (1,)


async def test_an_empty_passage_is_never_stored(store):
    story = await new_story(store)
    with pytest.raises(Conflict):
        await store.append_passage(story.id, story.head_id, NewPassage(text="   "))


async def test_lore_names_are_unique_per_story_ignoring_case(store):
    story = await new_story(store)
    await store.add_lore(story.id, "character", "Kyzax", ["kyzax", "wizard"], "An old wizard.")
    with pytest.raises(Conflict):
        await store.add_lore(story.id, "character", "KYZAX", ["k"], "Another.")
    [entry] = await store.lore(story.id)
    assert entry.keywords == ("kyzax", "wizard")
    assert await store.remove_lore(story.id, "kyzax")
    assert await store.lore(story.id) == []


async def test_model_calls_are_logged_with_the_passage_they_produced(store):
    story = await new_story(store)
    call = ModelCall("passage", "m", "the prompt", "the answer", 10, 5, 42, "")
    await store.append_passage(story.id, story.head_id, NewPassage(text="A."), [call])
    [logged] = await store.calls(story.id)
    assert (logged.prompt, logged.response, logged.prompt_tokens, logged.latency_ms) == (
        "the prompt",
        "the answer",
        10,
        42,
    )


async def test_a_whole_story_can_be_imported_at_once(store):
    passages = [NewPassage(text=f"Passage {n}.", summary=f"s{n}") for n in range(5)]
    story = await store.import_story(
        guild_id=3, channel_id=4, title="Imported", started_by=None, settings={}, passages=passages
    )
    assert [p.text for p in await store.line(story.head_id)] == [p.text for p in passages]
    assert (await store.active_story(3, 4)).title == "Imported"


async def test_both_backends_have_the_same_tables_and_columns(tmp_path, postgres):
    sqlite = await Store.open(tmp_path / "a.db")
    postgresql = await Store.open(await postgres.new_database())
    try:
        tables = await sqlite._all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        sqlite_columns = {
            table: [row[1] for row in await sqlite._all(f"PRAGMA table_info({table})")]
            for (table,) in tables
        }
        postgres_columns: dict[str, list[str]] = {}
        for table, column in await postgresql._all(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name <> 'automuse_schema'"
            " ORDER BY table_name, ordinal_position"
        ):
            postgres_columns.setdefault(table, []).append(column)
        assert postgres_columns == sqlite_columns
        assert await postgresql.schema_version() == await sqlite.schema_version()
    finally:
        await sqlite.close()
        await postgresql.close()


async def test_an_unreachable_postgres_is_one_sentence_that_hides_the_password():
    url = f"postgresql://automuse:hunter2@127.0.0.1:{free_port()}/stories"
    with pytest.raises(StoreError) as refused:
        await Store.open(url)
    message = str(refused.value)
    assert message.startswith("The database postgresql://127.0.0.1:") and message.endswith(").")
    assert "hunter2" not in message


async def test_a_newer_postgres_schema_is_refused_and_left_untouched(postgres):
    url = await postgres.new_database()
    store = await Store.open(url)
    await new_story(store)
    await store._write("UPDATE automuse_schema SET version = 99")
    await store.close()
    with pytest.raises(StoreError, match=r"schema version 99\); this one knows up to version"):
        await Store.open(url)
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT version FROM automuse_schema") == 99
        assert await connection.fetchval("SELECT count(*) FROM stories") == 1
    finally:
        await connection.close()


async def test_a_pending_summary_is_set_once_with_its_calls(store):
    story = await store.create_story(
        guild_id=1,
        channel_id=2,
        title="T",
        started_by=None,
        settings={},
        opening=NewPassage(text="It began.", summary=None),
    )
    [opening] = await store.line(story.head_id)
    assert opening.summary is None
    call = ModelCall(purpose="summary", model="m", prompt="p", response="It began.")
    assert await store.set_summary(story.id, opening.id, "Something began.", [call])
    assert not await store.set_summary(story.id, opening.id, "Again.", [call])
    assert (await store.passage(opening.id)).summary == "Something began."
    assert [c.purpose for c in await store.calls(story.id)] == ["summary"]
