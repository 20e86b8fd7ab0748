"""Benchmark 5: the quality of the stories each writer tells, judged passage by passage.

Every configuration writes 12 passages after each of the 8 openings in bench/openings/ through
the engine, with its planner and summariser, and bot/judge.py judges each passage against the
story so far (the passages before it, the continuity ledger and the passage's beat), exactly as
the engine's own guard sees it. Besides the faults it reports how often the beat happened, how
often a passage names the characters of the passage before it (the cast kept), and the
planner's calls apart from the writer's. Results are kept per configuration and per story, so
a run can be split up (`--config`) and resumed after an interruption.

    .venv/bin/python -m bench.quality [--config NAME ...] [--openings N] [--steps 12] [--quick]
                                      [--fresh] [--markdown [OPENING ...]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    RESULTS,
    WriterSetup,
    default_models,
    default_settings,
    machine,
    plot_path,
    smollm2_models,
    timed_next,
    write_results,
)
from bench.quality_figures import (
    TARGETS,
    Step,
    markdown,
    names_one_of,
    plot,
    report,
    summarize_all,
)
from bot import continuity, repetition
from bot.beats import first_sentence, refusal, repeats
from bot.config import ConfigError, load_settings
from bot.engine import Engine, EngineConfig
from bot.judge import StoryView, judge_passage
from bot.llm import ModelError, Models, open_models
from bot.llm.llama import DEFAULT_NAME, LocalModel
from bot.llm.packaged import (
    DEFAULT_SUMMARIZER,
    DEFAULT_WRITER,
    GEMMA_NAME,
    QWEN_NAME,
)
from bot.names import names_in
from bot.settings import StorySettings
from bot.split import SENTENCE_END
from bot.store import Store

OPENINGS = REPO / "bench" / "openings"
SEED = 1


def embedded(writer: str, summariser: str, planner: str = "") -> Callable[[], Models]:
    """The embedded `writer` with the embedded `summariser`, which plans too unless `planner`
    names another."""
    return lambda: open_models(
        load_settings(
            {
                "AUTOMUSE_BACKEND": "local",
                "AUTOMUSE_MODEL": writer,
                "AUTOMUSE_SUMMARY_MODEL": summariser,
                "AUTOMUSE_PLAN_MODEL": planner or summariser,
            },
            env_file=None,
        )
    )


ABOUT = {
    GEMMA_NAME: "Gemma 3 270M base",
    QWEN_NAME: "Qwen2.5-Coder-1.5B-Instruct",
    DEFAULT_NAME: "SmolLM2-135M-Instruct",
}


def pair(writer: str, summariser: str, style: str) -> WriterSetup:
    """`writer` writing in `style`, with `summariser` planning and summarising."""
    helper = (
        "it plans and summarises too"
        if writer == summariser
        else (f"{ABOUT[summariser]} plans and summarises")
    )
    return WriterSetup(
        embedded(writer, summariser),
        lambda _: StorySettings(style=style),
        f"{ABOUT[writer]} in the {style} style; {helper}",
    )


CONFIGURATIONS: dict[str, WriterSetup] = {
    "default": WriterSetup(default_models, default_settings, "our chain, the default writer"),
    "gemma-prose": pair(GEMMA_NAME, DEFAULT_NAME, "prose"),
    "gemma-prose-qwen": pair(GEMMA_NAME, QWEN_NAME, "prose"),
    "qwen-chat": pair(QWEN_NAME, QWEN_NAME, "chat"),
    "qwen-chat-smollm2": pair(QWEN_NAME, DEFAULT_NAME, "chat"),
    "smollm2-chat": WriterSetup(
        smollm2_models,
        lambda _: StorySettings(style="chat"),
        "our chain, SmolLM2-135M-Instruct in the chat style",
    ),
    "smollm2-chat-qwen": pair(DEFAULT_NAME, QWEN_NAME, "chat"),
    "qwen-chat-smollm2-summaries": WriterSetup(
        embedded(QWEN_NAME, DEFAULT_NAME, QWEN_NAME),
        lambda _: StorySettings(style="chat"),
        f"{ABOUT[QWEN_NAME]} in the chat style; it plans too, {ABOUT[DEFAULT_NAME]} summarises",
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
CANDIDATES = [
    "gemma-prose",
    "gemma-prose-qwen",
    "qwen-chat",
    "qwen-chat-smollm2",
    "qwen-chat-smollm2-summaries",
    "smollm2-chat",
    "smollm2-chat-qwen",
]
"""What a run measures unless --config says otherwise: the candidate writers, one of which is
the default."""


def default_configuration(data: dict[str, Any]) -> str:
    """The measured configuration that runs on the default models (the writer planning its
    own beats), or "default"."""
    models = [DEFAULT_WRITER, DEFAULT_SUMMARIZER, DEFAULT_WRITER]
    for name, entry in data["configurations"].items():
        named = entry.get("models", [])
        if named[1:] and not named[2:]:
            named = [*named, named[1]]
        if named == models and name in CANDIDATES:
            return name
    return "default"


def openings() -> dict[str, str]:
    """The benchmark's openings, by file name without `.txt`."""
    return {
        path.stem: path.read_text(encoding="utf-8").strip()
        for path in sorted(OPENINGS.glob("*.txt"))
    }


def judged(step: Step, view: StoryView, earlier: list[str]) -> Step:
    """`step` with the judge's verdict, the loop measure, the beat's and the cast's figures
    filled in."""
    verdict = judge_passage(step.text, view)
    step.beat = view.beat
    if view.beat:
        step.beat_share = continuity.beat_share(step.text, view.beat)
        rest = SENTENCE_END.split(step.text.strip(), maxsplit=1)[1:]
        step.beat_after_lead = continuity.beat_share(" ".join(rest), view.beat)
    people = {e.name for e in view.ledger if e.kind == "character"}
    step.cast = sorted({name for name, _ in names_in(earlier[-1]) if name in people})
    step.cast_named = names_one_of(step.text, step.cast)
    step.faults = list(verdict.faults)
    step.recycled_span = verdict.recycled_span
    step.seq_rep = verdict.seq_rep_4
    step.person = verdict.person
    step.carried = list(verdict.characters_carried)
    step.dropped = list(verdict.characters_dropped)
    step.words = verdict.words
    step.overlap = max((repetition.overlap(step.text, text) for text in earlier[-3:]), default=0.0)
    return step


async def write_story(
    engine: Engine, store: Store, opening: str, settings: StorySettings, steps: int
) -> list[Step]:
    """Write `steps` passages after `opening`, judging each against the story before it."""
    story = await engine.start(opening=opening, settings=settings)
    logged = len(await store.calls(story.id))
    results = []
    for number in range(1, steps + 1):
        step = Step(step=number)
        ledger = tuple(await store.ledger(story.id))
        found = await timed_next(engine, store, story.id, logged)
        step.text, step.error, step.waited, step.seconds, new, *timings = found
        step.first_words, step.model_words = timings
        logged += len(new)
        step.passage_calls = sum(c.purpose == "passage" for c in new)
        step.plan_calls = sum(c.purpose == "plan" for c in new)
        step.all_calls = len(new)
        line = await engine.stories.line(story.id)
        step.proposals = [first_sentence(c.response) for c in new if c.purpose == "plan"]
        if step.proposals:
            _, _, plan = await engine.reader.story_so_far(story, line)  # as the planner read it
            step.refusals = [refusal(beat, plan) for beat in step.proposals]
        before = line[:-1]
        view = replace(
            await engine.reader.story_view(story, before),
            ledger=ledger,
            beat=line[-1].beat if not step.failed else "",
        )
        texts = [p.text for p in before]
        if not step.failed:
            step.repeated_beat = repeats(view.beat, [p.beat for p in before if p.beat])
            if line[-1].thread_id is not None:
                step.thread = "answer" if line[-1].resolves else "step"
        results.append(judged(step, view, texts) if not step.failed else step)
        refused = ", ".join(filter(None, step.refusals))
        print(
            f"    step {number}: {', '.join(step.faults) or 'good'} ({step.seconds:.1f} s)"
            + (f"; next beat's proposals refused: {refused}" if refused else ""),
            flush=True,
        )
    return results


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
        models=[models.passage.name, models.summary.name, models.planner.name],
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
                    entry["peak_rss_mb"] = max(entry.get("peak_rss_mb", 0.0), peak_rss_mb())
                    entry["prompt_reuse"] = prompt_reuse(models)
                    save()
            finally:
                await store.close()
    finally:
        await models.close()


def prompt_reuse(models: Models) -> float:
    """The share of the embedded models' prompt tokens that llama.cpp kept evaluated from the
    call before, so far (0 for another backend)."""
    local = {id(m): m for m in (models.passage, models.summary) if isinstance(m, LocalModel)}
    read = sum(model.prompt_tokens_read for model in local.values())
    return sum(model.prompt_tokens_reused for model in local.values()) / read if read else 0.0


def peak_rss_mb() -> float:
    """The most memory this process has held, in MiB: a configuration's own figure when it
    is the only one the process runs (`--config NAME`)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def finish(data: dict[str, Any], name: str, save: Callable[[], None]) -> None:
    """Add the figures to the results, save them, print the table and draw the plot."""
    summarize_all(data)
    data["targets"] = {key: list(value) for key, value in TARGETS.items()}
    save()
    report(data, default_configuration(data))
    plot(data, plot_path(name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config",
        action="append",
        choices=list(CONFIGURATIONS),
        help="run only these configurations (repeatable; default: the candidate writers)",
    )
    parser.add_argument("--steps", type=int, default=12, help="passages per story (default 12)")
    parser.add_argument("--openings", type=int, help="only the first N openings (default all 8)")
    parser.add_argument("--quick", action="store_true", help="a quick run: 4 openings, 8 steps")
    parser.add_argument(
        "--markdown",
        nargs="*",
        metavar="OPENING",
        help="summarise the results so far and print them as Markdown, with these openings'"
        " stories whole; runs nothing",
    )
    parser.add_argument(
        "--writer", help="whose stories --markdown prints (default: the default writer's)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="write the chosen configurations again from scratch"
    )
    args = parser.parse_args()
    chosen = openings()
    if args.quick:
        args.openings, args.steps = 4, 8
    if args.openings:
        chosen = dict(list(chosen.items())[: args.openings])
    name = "quality_quick" if args.quick else "quality"
    path = RESULTS / f"{name}.json"
    configurations = args.config or CANDIDATES
    data = load(path, args.steps, configurations if args.fresh else [])
    data["openings"] = list(openings())

    def save() -> None:
        data["machine"] = machine()
        write_results(name, data)

    if args.markdown is not None:
        finish(data, name, save)
        writer = args.writer or default_configuration(data)
        print(markdown(data, args.markdown, writer, openings()))
        return
    started = time.perf_counter()
    for configuration in configurations:
        asyncio.run(run_configuration(configuration, data, chosen, args.steps, save))
    finish(data, name, save)
    print(f"results: {path}; took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
