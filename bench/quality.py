"""Benchmark 5: the quality of the stories each writer tells, judged passage by passage.

Every configuration writes 12 passages after each of the 8 openings in bench/openings/ through
the engine, and bot/judge.py judges each passage against the story so far, exactly as the
engine's own guard sees it. Results are kept per configuration and per story, so a run can be
split up (`--config`) and resumed after an interruption.

    .venv/bin/python -m bench.quality [--config NAME ...] [--openings N] [--steps 12] [--quick]
                                      [--fresh] [--markdown [OPENING ...]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    RESULTS,
    WriterSetup,
    default_models,
    default_settings,
    machine,
    mean,
    plot_path,
    smollm2_models,
    table,
    timed_next,
    write_results,
)
from bot import loops
from bot.config import ConfigError
from bot.engine import Engine, EngineConfig
from bot.judge import FAULTS, StoryView, judge_passage
from bot.llm import ModelError
from bot.rules import StorySettings
from bot.store import Store

OPENINGS = REPO / "bench" / "openings"
SEED = 1
LOOP_OVERLAP = 0.3
"""As in bench/loops.py: a passage sharing over 30% of its word 4-grams with one of the 3 texts
before it loops."""
TARGETS = {
    "good_rate": (">=", 0.90),
    "meta_or_assistant_rate": ("<=", 0.02),
    "person_rate": ("<=", 0.05),
    "recycled_rate": ("<=", 0.05),
    "cutoff_rate": ("<=", 0.0),
    "loop_rate": ("<=", 0.03),
    "passage_calls": ("<=", 2.0),
    "median_seconds": ("<=", 15.0),
}
"""The targets the default writer is held to."""


CONFIGURATIONS: dict[str, WriterSetup] = {
    "default": WriterSetup(default_models, default_settings, "our chain, the default writer"),
    "smollm2-chat": WriterSetup(
        smollm2_models,
        lambda _: StorySettings(style="chat"),
        "our chain, SmolLM2-135M-Instruct in the chat style",
    ),
    "smollm2-completion": WriterSetup(
        smollm2_models,
        lambda _: StorySettings(style="completion"),
        "our chain, SmolLM2-135M-Instruct in the completion style",
    ),
    "original": WriterSetup(
        smollm2_models,
        lambda _: StorySettings(chain="original", style="completion"),
        "the original chain on SmolLM2-135M-Instruct",
    ),
}


@dataclass
class Step:
    """One passage of one story, with the judge's verdict on it."""

    step: int
    text: str = ""
    error: str = ""
    faults: list[str] = field(default_factory=list)
    recycled_span: str = ""
    seq_rep: float = 0.0
    person: str = ""
    carried: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    overlap: float = 0.0
    words: int = 0
    seconds: float = 0.0
    passage_calls: int = 0
    all_calls: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.error) or not self.text.strip()


def openings() -> dict[str, str]:
    """The benchmark's openings, by file name without `.txt`."""
    return {
        path.stem: path.read_text(encoding="utf-8").strip()
        for path in sorted(OPENINGS.glob("*.txt"))
    }


def judged(step: Step, view: StoryView, earlier: list[str]) -> Step:
    """`step` with the judge's verdict and the loop measure filled in."""
    verdict = judge_passage(step.text, view)
    step.faults = list(verdict.faults)
    step.recycled_span = verdict.recycled_span
    step.seq_rep = verdict.seq_rep_4
    step.person = verdict.person
    step.carried = list(verdict.characters_carried)
    step.dropped = list(verdict.characters_dropped)
    step.words = verdict.words
    step.overlap = max((loops.overlap(step.text, text) for text in earlier[-3:]), default=0.0)
    return step


async def write_story(
    engine: Engine, store: Store, opening: str, settings: StorySettings, steps: int
) -> list[Step]:
    """Write `steps` passages after `opening`, judging each against the story before it."""
    story = await engine.start(opening=opening, settings=settings)
    logged = len(await store.calls(story.id))
    results = []
    for number in range(1, steps + 1):
        line = await engine.line(story.id)
        texts = [p.text for p in line]
        view = StoryView(
            opening=opening, summary=line[-1].summary or "", recent=tuple(texts[1:][-3:])
        )
        step = Step(step=number)
        step.text, step.error, step.seconds, new = await timed_next(engine, store, story.id, logged)
        logged += len(new)
        step.passage_calls = sum(c.purpose == "passage" for c in new)
        step.all_calls = len(new)
        results.append(judged(step, view, texts) if not step.failed else step)
        print(
            f"    step {number}: {', '.join(step.faults) or 'good'} ({step.seconds:.1f} s)",
            flush=True,
        )
    return results


def summarize(steps: list[Step]) -> dict[str, Any]:
    """The figures of one configuration over all its stories."""
    written = [s for s in steps if not s.failed]
    count = max(1, len(written))
    figures: dict[str, Any] = {"passages": len(written), "failures": len(steps) - len(written)}
    for fault in FAULTS:
        figures[f"{fault}_rate"] = sum(fault in s.faults for s in written) / count
    figures["meta_or_assistant_rate"] = (
        sum(bool({"meta", "assistant"} & set(s.faults)) for s in written) / count
    )
    figures["good_rate"] = sum(not s.faults for s in written) / count
    figures["loop_rate"] = sum(s.overlap > LOOP_OVERLAP for s in written) / count
    figures["words"] = mean([s.words for s in written])
    figures["mean_seconds"] = mean([s.seconds for s in steps])
    figures["median_seconds"] = statistics.median([s.seconds for s in steps]) if steps else 0.0
    figures["passage_calls"] = sum(s.passage_calls for s in steps) / count
    figures["all_calls"] = sum(s.all_calls for s in steps) / count
    return figures


def load(path: Path, steps: int, fresh: list[str]) -> dict[str, Any]:
    """The results written so far, without the configurations in `fresh`, or a new record."""
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("steps") == steps:
            for name in fresh:
                data["configurations"].pop(name, None)
            return data
        print(f"{path.name} was written with {data.get('steps')} steps; starting afresh.")
    return {"steps": steps, "seed": SEED, "configurations": {}}


async def run_configuration(
    name: str, data: dict[str, Any], chosen: dict[str, str], steps: int, save: Callable[[], None]
) -> None:
    """Write every story of configuration `name` that is not already in `data`."""
    configuration = CONFIGURATIONS[name]
    try:
        models = configuration.models()
        settings = configuration.settings(models)
    except (ImportError, ModelError, ConfigError) as error:
        print(f"{name}: not available ({error}); skipped.")
        return
    entry = data["configurations"].setdefault(name, {"stories": {}})
    entry.update(
        about=configuration.about,
        settings=asdict(settings),
        models=[models.passage.name, models.summary.name],
    )
    print(f"{name}: {configuration.about}; models {', '.join(entry['models'])}", flush=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            store = await Store.open(Path(folder) / "quality.db")
            engine = Engine(store, models, replace(EngineConfig(), seed=SEED))
            try:
                for key, opening in chosen.items():
                    done = entry["stories"].get(key)
                    if done and len(done["steps"]) == steps:
                        continue
                    print(f"  {name} {key}", flush=True)
                    story = await write_story(engine, store, opening, settings, steps)
                    entry["stories"][key] = {"steps": [asdict(s) for s in story]}
                    save()
            finally:
                await store.close()
    finally:
        await models.close()


def all_steps(entry: dict[str, Any]) -> list[Step]:
    return [Step(**s) for story in entry["stories"].values() for s in story["steps"]]


def summarize_all(data: dict[str, Any]) -> None:
    """Add each configuration's figures, over the stories written so far."""
    for entry in data["configurations"].values():
        entry["summary"] = summarize(all_steps(entry))


def report(data: dict[str, Any]) -> None:
    headers = ["configuration", "passages", "good", *FAULTS, "loops", "words", "s/p", "median s"]
    headers += ["gen calls/p", "calls/p"]
    rows = []
    for name, entry in data["configurations"].items():
        s = entry["summary"]
        rates = [s[f"{fault}_rate"] for fault in FAULTS]
        costs = [s[key] for key in ("mean_seconds", "median_seconds", "passage_calls", "all_calls")]
        rows.append(
            [name, s["passages"], s["good_rate"], *rates, s["loop_rate"], s["words"], *costs]
        )
    print(table(headers, rows))
    default = data["configurations"].get("default", {}).get("summary")
    if default:
        for key, (sense, limit) in TARGETS.items():
            met = default[key] >= limit if sense == ">=" else default[key] <= limit
            verdict = "met" if met else "MISSED"
            print(f"target default {key} {sense} {limit}: {default[key]:.3f} ({verdict})")


def markdown(data: dict[str, Any], samples: list[str]) -> str:
    """The results as bench/README.md shows them: a table, then the opening and passages 1, 6
    and 12 of the default writer's stories `samples`, verbatim."""
    headers = ["configuration", "passages", "good", *FAULTS, "loops", "words", "s / passage"]
    headers += ["median s", "generation calls / passage", "all calls / passage"]
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    for name, entry in data["configurations"].items():
        s = entry["summary"]
        cells = [name, str(s["passages"]), f"{s['good_rate']:.0%}"]
        cells += [f"{s[f'{fault}_rate']:.0%}" for fault in FAULTS]
        cells += [f"{s['loop_rate']:.0%}", f"{s['words']:.0f}", f"{s['mean_seconds']:.1f}"]
        cells += [
            f"{s['median_seconds']:.1f}",
            f"{s['passage_calls']:.2f}",
            f"{s['all_calls']:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    stories = data["configurations"].get("default", {}).get("stories", {})
    texts = openings()
    for key in samples:
        if key not in stories:
            continue
        lines += ["", f"#### {key}", "", "**Opening.**", "", texts[key]]
        for step in stories[key]["steps"]:
            if step["step"] in (1, 6, 12):
                faults = ", ".join(step["faults"]) or "none"
                lines += ["", f"**Passage {step['step']}** (faults: {faults}).", "", step["text"]]
    return "\n".join(lines)


def plot(data: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    names = list(data["configurations"])
    keys = ["good", *FAULTS]
    figure, axes = plt.subplots(figsize=(11, 4))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        s = data["configurations"][name]["summary"]
        values = [s[f"{key}_rate"] for key in keys]
        axes.bar([k + i * width for k in range(len(keys))], values, width, label=name)
    axes.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))], keys)
    axes.set(title="Share of passages, by fault", ylabel="share of passages", ylim=(0, 1))
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def finish(data: dict[str, Any], name: str, save: Callable[[], None]) -> None:
    """Add the figures to the results, save them, print the table and draw the plot."""
    summarize_all(data)
    data["targets"] = {key: list(value) for key, value in TARGETS.items()}
    save()
    report(data)
    plot(data, plot_path(name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config",
        action="append",
        choices=list(CONFIGURATIONS),
        help="run only these configurations (repeatable; default: all)",
    )
    parser.add_argument("--steps", type=int, default=12, help="passages per story (default 12)")
    parser.add_argument("--openings", type=int, help="only the first N openings (default all 8)")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 2 openings, 3 steps")
    parser.add_argument(
        "--markdown",
        nargs="*",
        metavar="OPENING",
        help="summarise the results so far and print them as Markdown, with these openings'"
        " samples; runs nothing",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="write the chosen configurations again from scratch"
    )
    args = parser.parse_args()
    chosen = openings()
    if args.quick:
        args.openings, args.steps = 2, 3
    if args.openings:
        chosen = dict(list(chosen.items())[: args.openings])
    name = "quality_quick" if args.quick else "quality"
    path = RESULTS / f"{name}.json"
    configurations = args.config or list(CONFIGURATIONS)
    data = load(path, args.steps, configurations if args.fresh else [])
    data["openings"] = list(openings())

    def save() -> None:
        data["machine"] = machine()
        write_results(name, data)

    if args.markdown is not None:
        finish(data, name, save)
        print(markdown(data, args.markdown))
        return
    started = time.perf_counter()
    for configuration in configurations:
        asyncio.run(run_configuration(configuration, data, chosen, args.steps, save))
    finish(data, name, save)
    print(f"results: {path}; took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
