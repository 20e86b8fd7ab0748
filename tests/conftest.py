"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine import Engine, EngineConfig
from bot.llm import Models
from bot.llm.scripted import ScriptedModel
from bot.store import Store

pytest_plugins = ["discord_fake.fixtures", "process_fixtures"]

SCENESIM = Path(__file__).resolve().parents[1] / "data" / "scenesim"


@pytest.fixture(scope="session")
def scenesim() -> Path:
    """The original experiment's data, kept in the repository under `data/scenesim`."""
    assert (SCENESIM / "README.md").is_file(), f"the scenesim data is missing at {SCENESIM}"
    return SCENESIM


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "automuse.db")
    yield store
    await store.close()


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def engine(store: Store, model: ScriptedModel) -> Engine:
    return Engine(store, Models(model, model), EngineConfig())
