import sqlite3

import aiosqlite
import pytest

from bot.store import SCHEMA_VERSION, ModelCall, NewPassage, StaleHead, Store


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


async def test_one_active_story_per_channel_but_ended_ones_do_not_count(store):
    story = await new_story(store)
    with pytest.raises(sqlite3.IntegrityError):
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


async def test_appending_after_a_stale_head_writes_nothing(store):
    story = await new_story(store)
    await store.append_passage(story.id, story.head_id, NewPassage(text="A."))
    with pytest.raises(StaleHead):
        await store.append_passage(
            story.id, story.head_id, NewPassage(text="B."), [ModelCall("passage", "m", "p")]
        )
    assert await store._one("SELECT count(*) FROM passages WHERE text = 'B.'") == (0,)
    assert await store.calls(story.id) == []


async def test_a_failing_multi_row_change_is_rolled_back_whole(store):
    story = await new_story(store)
    with pytest.raises(sqlite3.IntegrityError):
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
    with pytest.raises(sqlite3.IntegrityError):
        await store.append_passage(story.id, story.head_id, NewPassage(text="   "))


async def test_lore_names_are_unique_per_story_ignoring_case(store):
    story = await new_story(store)
    await store.add_lore(story.id, "character", "Kyzax", ["kyzax", "wizard"], "An old wizard.")
    with pytest.raises(sqlite3.IntegrityError):
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
