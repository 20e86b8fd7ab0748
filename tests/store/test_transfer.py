"""Copying a SQLite database to PostgreSQL: every row with its id, and the stories go on."""

import pytest

from bot.engine import Engine
from bot.llm import Models
from bot.store import Store, StoreError, transfer
from tests.store.filled import every_row, fill, varied_model
from tests.stories import SCRIPTED_CONFIG


@pytest.fixture
async def sqlite_and_postgres(tmp_path, postgres):
    source = await Store.open(tmp_path / "old.db")
    target = await Store.open(await postgres.new_database())
    yield source, target
    await source.close()
    await target.close()


async def test_every_table_is_copied_with_its_ids_and_heads(sqlite_and_postgres):
    source, target = sqlite_and_postgres
    await fill(source)
    counts = await transfer(source, target)
    assert counts["stories"] == 2 and counts["votes"] == 2 and counts["cooldowns"] == 1
    assert all(counts[table] > 0 for table in counts if table != "leases")
    assert await every_row(target) == await every_row(source)


async def test_the_engine_continues_the_stories_on_the_copy(sqlite_and_postgres):
    source, target = sqlite_and_postgres
    await fill(source)
    await transfer(source, target)
    model = varied_model()
    engine = Engine(target, Models(model, model), SCRIPTED_CONFIG)
    story = await engine.stories.active_story(1, 2)
    before = await engine.stories.line(story.id)
    assert [p.text for p in before] == [p.text for p in await source.line(story.head_id)]
    passage = await engine.next(story.id)
    [(largest,)] = await source.database.fetch("SELECT max(id) FROM passages")
    assert passage.id == largest + 1 and passage.parent_id == story.head_id
    assert await engine.stories.line(story.id) == [*before, passage]
    [lore] = await engine.store.lore(story.id)
    entry = await engine.edits.add_lore(story.id, "place", "Cape", "cape", "Rocks.")
    assert lore.name == "Mira" and entry.id == lore.id + 1


async def test_a_target_that_holds_data_is_refused_and_left_as_it_was(sqlite_and_postgres):
    source, target = sqlite_and_postgres
    await fill(source)
    await fill(target)
    before = await every_row(target)
    with pytest.raises(StoreError, match=r"already holds data \(2 rows in stories\)"):
        await transfer(source, target)
    assert await every_row(target) == before
