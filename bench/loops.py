"""Benchmark 1: loops and repetition, original chain against ours, on the embedded models.

Both strategies write through the engine from the same scenesim openings with the same seed:
the original chain on SmolLM2-135M-Instruct, and ours on the default writer (what `automuse`
runs with no configuration). bench/quality.py measures the same loop rate for other writers.
A passage loops when more than 30% of its word 4-grams occur in one of the 3 texts before it
(the opening counts as one).

    .venv/bin/python -m bench.loops [--openings 6] [--steps 12] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench.common import (
    WriterSetup,
    default_models,
    default_settings,
    machine,
    mean,
    openings,
    plot_path,
    smollm2_models,
    table,
    timed_next,
    write_results,
)
from bot import repetition
from bot.engine import Engine, EngineConfig
from bot.prompts import COMPLETION_MARKER
from bot.repair import clean
from bot.settings import StorySettings
from bot.store import ModelCall, Passage, Store

SUMMARY_HEAD = "Write a concise summary of the following:\n\n\n"
SUMMARY_TAIL = "\n\n\nCONCISE SUMMARY:"
LOOP_OVERLAP = 0.3
"""The benchmark's own definition of a looping passage; fixed, whatever the engine uses."""
PREVIOUS = 3


STRATEGIES: dict[str, WriterSetup] = {
    "original": WriterSetup(
        smollm2_models, lambda _: StorySettings(chain="original", style="completion")
    ),
    "automuse": WriterSetup(default_models, default_settings),
}
TARGETS = {"loop_rate": 0.03, "seq_rep": 0.10, "passage_calls": 1.5}


@dataclass
class Step:
    """One `next` of one story."""

    row: int
    step: int
    text: str = ""
    error: str = ""
    overlap: float = 0.0
    seq_rep: float = 0.0
    words: int = 0
    passage_calls: int = 0
    all_calls: int = 0
    prompt_tokens: list[int] | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.error) or not self.text.strip()

    @property
    def loops(self) -> bool:
        return not self.failed and self.overlap > LOOP_OVERLAP


def measure(step: Step, earlier: list[str]) -> None:
    """Fill in the repetition figures of `step` against the texts before it."""
    step.overlap = max(
        (repetition.overlap(step.text, text) for text in earlier[-PREVIOUS:]), default=0
    )
    step.seq_rep = repetition.seq_rep(step.text)
    step.words = len(step.text.split())


async def write_story(
    engine: Engine, store: Store, row: int, opening: str, settings: StorySettings, steps: int
) -> tuple[list[Step], list[ModelCall], list[Passage]]:
    """Start a story from `opening` and write `steps` passages; failures are counted, not fatal."""
    story = await engine.start(opening=opening, settings=settings)
    texts = [opening]
    logged = len(await store.calls(story.id))
    results = []
    for number in range(1, steps + 1):
        step = Step(row=row, step=number)
        timing = await timed_next(engine, store, story.id, logged)
        step.text, step.error, step.seconds = timing.text, timing.error, timing.seconds
        new = timing.calls
        logged += len(new)
        step.passage_calls = sum(c.purpose == "passage" for c in new)
        step.all_calls = len(new)
        step.prompt_tokens = [c.prompt_tokens for c in new if c.purpose == "passage"]
        if not step.failed:
            measure(step, texts)
            texts.append(step.text)
        results.append(step)
    return results, await store.calls(story.id), await engine.stories.line(story.id)


def original_format_problems(calls: list[ModelCall], line: list[Passage]) -> dict[str, int]:
    """How often the logged calls of an `original` story differ from the original chain as the
    scenesim README and model logs show it: step 1 sends the opening alone; step k sends
    `summary + " " + passage k-1 + "\\n\\nNEXT PARAGRAPH:"`, the summary being the model's
    answer to "Write a concise summary of the following: … CONCISE SUMMARY:" about exactly the
    text sent at step k-1."""
    problems: dict[str, int] = {}

    def problem(kind: str) -> None:
        problems[kind] = problems.get(kind, 0) + 1

    answered = [c for c in calls if not c.error]  # empty answers are asked again
    sent = [c.prompt for c in answered if c.purpose == "passage"]
    summaries = [c for c in answered if c.purpose == "summary"]
    if len(sent) != len(line) - 1 or len(summaries) != len(sent):
        problem("calls and passages do not line up (a step failed); not compared")
        return problems
    for call in summaries:
        if not (call.prompt.startswith(SUMMARY_HEAD) and call.prompt.endswith(SUMMARY_TAIL)):
            problem("summary prompt not in the original wording")
    for step, prompt in enumerate(sent):
        summary = clean(summaries[step - 1].response) if step else ""
        if prompt != " ".join(filter(None, (summary, line[step].text))) + COMPLETION_MARKER:
            problem("passage prompt is not the last summary answer + previous passage + marker")
        text = summaries[step].prompt.removeprefix(SUMMARY_HEAD).removesuffix(SUMMARY_TAIL)
        if text != prompt.removesuffix(COMPLETION_MARKER):
            problem("summary is not asked about exactly the text just sent")
    return problems


def summarize(steps: list[Step], stories: list[list[str]]) -> dict[str, Any]:
    """The figures of one strategy over all its stories."""
    written = [s for s in steps if not s.failed]
    tokens = [t for s in steps for t in s.prompt_tokens or []]
    return {
        "passages": len(written),
        "failures": len(steps) - len(written),
        "loops": sum(s.loops for s in written),
        "loop_rate": sum(s.loops for s in written) / max(1, len(written)),
        "seq_rep": mean([s.seq_rep for s in written]),
        "distinct_3": mean([repetition.distinct(texts) for texts in stories]),
        "words": mean([s.words for s in written]),
        "prompt_tokens": mean(tokens),
        "passage_calls": sum(s.passage_calls for s in steps) / max(1, len(written)),
        "all_calls": sum(s.all_calls for s in steps) / max(1, len(written)),
        "seconds_per_passage": sum(s.seconds for s in steps) / max(1, len(steps)),
    }


def per_step(steps: list[Step], count: int) -> dict[str, list[float]]:
    """Loop rate and mean seq-rep-4 at each step number, across the openings."""
    rates, reps = [], []
    for number in range(1, count + 1):
        at = [s for s in steps if s.step == number and not s.failed]
        rates.append(sum(s.loops for s in at) / max(1, len(at)))
        reps.append(mean([s.seq_rep for s in at]))
    return {"loop_rate": rates, "seq_rep": reps}


def plot(by_step: dict[str, dict[str, list[float]]], path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, series in by_step.items():
        steps = range(1, len(series["loop_rate"]) + 1)
        left.plot(steps, series["loop_rate"], marker="o", label=name)
        right.plot(steps, series["seq_rep"], marker="o", label=name)
    left.axhline(TARGETS["loop_rate"], color="grey", linestyle=":", label="target (automuse)")
    right.axhline(TARGETS["seq_rep"], color="grey", linestyle=":", label="target (automuse)")
    left.set(title="Loop rate (4-gram overlap > 0.3)", xlabel="step", ylabel="share of passages")
    right.set(title="Within-passage repetition", xlabel="step", ylabel="mean seq-rep-4")
    for axes in (left, right):
        axes.set_ylim(bottom=0)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


async def run_strategy(
    name: str, chosen: list[tuple[int, str]], steps: int, seed: int, length: int | None
) -> dict[str, Any]:
    """Write every opening's story with strategy `name`, on models of its own."""
    strategy = STRATEGIES[name]
    models = strategy.models()
    settings = strategy.settings(models)
    if length is not None:
        settings = replace(settings, length=length)
    print(f"{name}: models {models.passage.name}, {models.summary.name}", flush=True)
    started = time.perf_counter()
    all_steps: list[Step] = []
    stories: list[list[str]] = []
    problems: dict[str, int] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            store = await Store.open(Path(folder) / "bench.db")
            engine = Engine(store, models, EngineConfig(seed=seed))
            try:
                for row, opening in chosen:
                    story, calls, line = await write_story(
                        engine, store, row, opening, settings, steps
                    )
                    all_steps += story
                    stories.append([opening, *(s.text for s in story if not s.failed)])
                    if settings.chain == "original":
                        for kind, count in original_format_problems(calls, line).items():
                            problems[kind] = problems.get(kind, 0) + count
                    print(f"  {name} row {row}: {len(story)} steps", flush=True)
            finally:
                await store.close()
    finally:
        await models.close()
    return {
        "settings": asdict(settings),
        "models": [models.passage.name, models.summary.name],
        "summary": summarize(all_steps, stories),
        "by_step": per_step(all_steps, steps),
        "format_problems": problems,
        "seconds": time.perf_counter() - started,
        "steps": [asdict(s) for s in all_steps],
    }


async def run(count: int, steps: int, seed: int, length: int | None) -> dict[str, Any]:
    chosen = openings(count)
    print(f"openings: rows {', '.join(str(row) for row, _ in chosen)} of scenes.jsonl")
    results = {name: await run_strategy(name, chosen, steps, seed, length) for name in STRATEGIES}
    return {"openings": [row for row, _ in chosen], "strategies": results}


def report(data: dict[str, Any]) -> None:
    headers = ["strategy", "passages", "failures", "loops", "loop rate", "seq-rep-4"]
    headers += ["distinct-3", "words", "prompt tok", "gen calls/p", "calls/p", "s/passage"]
    rows = []
    for name, result in data["strategies"].items():
        s = result["summary"]
        keys = ["passages", "failures", "loops", "loop_rate", "seq_rep", "distinct_3", "words"]
        keys += ["prompt_tokens", "passage_calls", "all_calls", "seconds_per_passage"]
        rows.append([name, *(s[key] for key in keys)])
    print(table(headers, rows))
    ours = data["strategies"].get("automuse", {}).get("summary")
    if ours:
        for key, limit in TARGETS.items():
            verdict = "met" if ours[key] <= limit else "MISSED"
            print(f"target automuse {key} <= {limit}: {ours[key]:.3f} ({verdict})")
    original = data["strategies"].get("original", {})
    problems = original.get("format_problems", {})
    print(f"original chain prompts match the original run's format: {not problems}")
    for kind, count in problems.items():
        print(f"  {kind}: {count} times")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--openings", type=int, default=6, help="how many openings (default 6)")
    parser.add_argument("--steps", type=int, default=12, help="passages per story (default 12)")
    parser.add_argument("--seed", type=int, default=1, help="the engine's sampling seed")
    parser.add_argument("--length", type=int, help="passage length in tokens (engine default)")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 2 openings, 3 steps")
    args = parser.parse_args()
    if args.quick:
        args.openings, args.steps = 2, 3
    started = time.perf_counter()
    name = "loops_quick" if args.quick else "loops"
    data = asyncio.run(run(args.openings, args.steps, args.seed, args.length))
    data.update(
        machine=machine(),
        config={"openings": args.openings, "steps": args.steps, "seed": args.seed},
        seconds=time.perf_counter() - started,
        targets=TARGETS,
    )
    report(data)
    plot({name: r["by_step"] for name, r in data["strategies"].items()}, plot_path(name))
    print(f"results: {write_results(name, data)}; took {data['seconds']:.0f} s")


if __name__ == "__main__":
    main()
