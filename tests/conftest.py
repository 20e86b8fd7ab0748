"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.llm import Models
from bot.llm.scripted import ScriptedModel
from bot.store import Store
from tests.postgres_server import PostgresServer
from tests.stories import SCRIPTED_CONFIG

pytest_plugins = ["discord_fake.fixtures", "process_fixtures"]

SCENESIM = Path(__file__).resolve().parents[1] / "data" / "scenesim"
REPORTS = pytest.StashKey[list[str]]()
"""Lines that tests report at the end of the run, whatever the output capture."""


@pytest.fixture(scope="session")
def scenesim() -> Path:
    """The original experiment's data, kept in the repository under `data/scenesim`."""
    assert (SCENESIM / "README.md").is_file(), f"the scenesim data is missing at {SCENESIM}"
    return SCENESIM


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the tests' own, on loopback, for the whole session."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'automuse.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = await Store.open(database_url)
    yield store
    await store.close()


"""The engine of tests whose scripted model answers a known sequence of calls: the planner,
which adds a call before each passage, is off unless a test turns it on."""


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel()


@pytest.fixture
def engine(store: Store, model: ScriptedModel) -> Engine:
    return Engine(store, Models(model, model), SCRIPTED_CONFIG)


@pytest.fixture
def report(request: pytest.FixtureRequest) -> list[str]:
    """A list whose lines are printed in pytest's terminal summary."""
    return request.config.stash.setdefault(REPORTS, [])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print what tests reported through the `report` fixture."""
    lines = config.stash.get(REPORTS, [])
    if lines:
        terminalreporter.section("reported figures")
        for line in lines:
            terminalreporter.write_line(line)
