"""What the benchmarks share: the scenesim data, tables, result files and the machine."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from bot.config import Settings, load_settings
from bot.engine import Engine, EngineConfig
from bot.errors import StoryError
from bot.llm import Generation, Model, Models, Prompt, Sampling, TextSink, open_models
from bot.llm.llama import LocalModel
from bot.progress import Step
from bot.prompts import COMPLETION_MARKER
from bot.settings import StorySettings
from bot.store import ModelCall, Store

REPO = Path(__file__).resolve().parent.parent
SCENESIM = REPO / "data" / "scenesim"
RESULTS = REPO / "bench" / "results"


def scene_rows() -> list[dict[str, str]]:
    """Every row of `scenes.jsonl`: {"prompt": ..., "completion": ...}."""
    path = SCENESIM / "scenes.jsonl"
    if not path.is_file():
        raise SystemExit(f"The scenesim data is missing at {SCENESIM}.")
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def opening_of(row: dict[str, str]) -> str:
    """A row's prompt without the `\\n\\nNEXT PARAGRAPH: ` marker: the scene itself."""
    return row["prompt"].replace(COMPLETION_MARKER + " ", "").strip()


def openings(count: int) -> list[tuple[int, str]]:
    """`count` openings from evenly spaced rows: rows 0, N, 2N, … with N = rows // count.

    Row numbers are 0-based line numbers in `scenes.jsonl`.
    """
    rows = scene_rows()
    step = max(1, len(rows) // count)
    return [(i * step, opening_of(rows[i * step])) for i in range(min(count, len(rows)))]


def local_settings() -> Settings:
    """The project's own settings for the embedded backend, ignoring this shell's environment."""
    return load_settings({"AUTOMUSE_BACKEND": "local"}, env_file=None)


def default_models() -> Models:
    """Whatever `automuse` runs with no configuration at all."""
    return open_models(local_settings())


def default_settings(models: Models) -> StorySettings:
    """The story settings `automuse` gives a new story with no configuration at all."""
    return EngineConfig.from_settings(local_settings(), models=models).story_defaults


def smollm2_models() -> Models:
    """SmolLM2-135M-Instruct writing and summarising, as one model."""
    model = LocalModel()
    return Models(model, model)


@dataclass(frozen=True)
class WriterSetup:
    """One writer to measure: its models and the story settings it writes with."""

    models: Callable[[], Models]
    settings: Callable[[Models], StorySettings]
    about: str = ""


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> dict[str, Any]:
    """The machine and its load right now, to go with every measurement."""
    cpu = ""
    memory_kb = 0
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
        for text in Path("/proc/meminfo").read_text().splitlines():
            if text.startswith("MemTotal"):
                memory_kb = int(text.split()[1])
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpus": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "ram_gb": round(memory_kb / 1024**2, 1),
        "load_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write `bench/results/NAME.json` and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def plot_path(name: str) -> Path:
    """Where `bench/results/NAME.png` goes; matplotlib is set to draw without a display."""
    import matplotlib

    matplotlib.use("Agg")
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / f"{name}.png"


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


class Timed:
    """Wraps a model and adds up the time spent inside it."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.name = model.name
        self.seconds = 0.0

    async def generate(
        self, prompt: Prompt, sampling: Sampling, on_text: TextSink | None = None
    ) -> Generation:
        started = time.perf_counter()
        try:
            return await self.model.generate(prompt, sampling, on_text)
        finally:
            self.seconds += time.perf_counter() - started


class Timing(NamedTuple):
    """One `next` as timed_next saw it."""

    text: str
    error: str
    waited: float
    """Seconds until the passage was stored: what a member waits for."""
    seconds: float
    """Seconds of the whole step, with its rolling summary and the next beat planned ahead."""
    calls: list[ModelCall]
    first_words: float
    """Seconds until the passage's first words were shown (0 when none were)."""
    model_words: float
    """Seconds until the shown passage first grew: the model's own first words after the lead
    shown at once (0 when it never grew)."""


async def timed_next(engine: Engine, store: Store, story_id: int, logged: int) -> Timing:
    """One `next` on the story as the bot makes it, timed; its model calls are those logged
    after the first `logged`."""
    started = time.perf_counter()
    text, error, waited, first_words, model_words = "", "", 0.0, 0.0, 0.0
    first_shown = ""

    def shown(step: Step) -> None:
        nonlocal first_words, model_words, first_shown
        if step.text and not first_words:
            first_words, first_shown = time.perf_counter() - started, step.text
        elif len(step.text) > len(first_shown) and first_words and not model_words:
            model_words = time.perf_counter() - started

    try:
        text = (await engine.next(story_id, summarize=False, progress=shown)).text
        waited = time.perf_counter() - started
        await engine.summarize(story_id)
    except StoryError as failure:
        error = str(failure)
    seconds = time.perf_counter() - started
    calls = (await store.calls(story_id))[logged:]
    return Timing(text, error, waited or seconds, seconds, calls, first_words, model_words)
