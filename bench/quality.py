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
from bot import continuity, repetition
from bot.beats import first_sentence, is_stock, named_in, repeats
from bot.config import ConfigError, load_settings
from bot.engine import Engine, EngineConfig
from bot.judge import FAULTS, StoryView, judge_passage
from bot.ledger import names_in
from bot.llm import ModelError, Models, open_models
from bot.llm.llama import DEFAULT_NAME, LocalModel
from bot.llm.packaged import (
    DEFAULT_SUMMARIZER,
    DEFAULT_WRITER,
    GEMMA_NAME,
    QWEN_NAME,
)
from bot.settings import StorySettings
from bot.split import SENTENCE_END
from bot.store import Store

OPENINGS = REPO / "bench" / "openings"
SEED = 1
LOOP_OVERLAP = 0.3
"""As in bench/repetition.py: a passage sharing over 30% of its word 4-grams with one of the 3 texts
before it loops."""
TARGETS = {
    "good_rate": (">=", 0.90),
    "meta_or_assistant_rate": ("<=", 0.02),
    "person_rate": ("<=", 0.05),
    "recycled_rate": ("<=", 0.05),
    "cutoff_rate": ("<=", 0.0),
    "retelling_rate": ("<=", 0.03),
    "refrain_rate": ("<=", 0.05),
    "mutation_rate": ("<=", 0.02),
    "paragraph_rate": ("<=", 0.0),
    "fused_rate": ("<=", 0.0),
    "beat_rate": (">=", 0.90),
    "cast_rate": (">=", 0.90),
    "loop_rate": ("<=", 0.03),
    "passage_calls": ("<=", 2.0),
    "median_wait": ("<=", 15.0),
    "median_first_words": ("<=", 3.0),
    "repeated_beats": ("<=", 0),
}
"""The targets the default writer is held to."""


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
    """The whole step: the passage, its rolling summary and the next beat planned ahead."""
    waited: float = 0.0
    """Until the passage was stored: what a member waits for."""
    first_words: float = 0.0
    """Until the passage's first words were shown."""
    passage_calls: int = 0
    plan_calls: int = 0
    all_calls: int = 0
    beat: str = ""
    beat_share: float = 1.0
    """The share of the beat's key words the passage holds."""
    beat_after_lead: float = 1.0
    """The same share in what follows the passage's first sentence (which, in the prose
    style, is the beat itself)."""
    cast: list[str] = field(default_factory=list)
    """The characters of the passage before, from the ledger."""
    cast_named: bool = True
    repeated_beat: bool = False
    """The beat tells again one of the story's earlier beats."""
    thread: str = ""
    """"step" or "answer" when the beat was about one of the story's threads."""
    proposals: list[str] = field(default_factory=list)
    """The beats the planner proposed during this step (for the next passage): when the next
    beat is a stock event, none of them could be used."""

    @property
    def failed(self) -> bool:
        return bool(self.error) or not self.text.strip()


def openings() -> dict[str, str]:
    """The benchmark's openings, by file name without `.txt`."""
    return {
        path.stem: path.read_text(encoding="utf-8").strip()
        for path in sorted(OPENINGS.glob("*.txt"))
    }


def names_one_of(text: str, cast: list[str]) -> bool:
    """Whether `text` names one of `cast` anywhere, at a sentence's start too (true when there
    is no one to keep)."""
    return not cast or bool(named_in(text, cast))


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
        step.text, step.error, step.waited, step.seconds, new, step.first_words = found
        logged += len(new)
        step.passage_calls = sum(c.purpose == "passage" for c in new)
        step.plan_calls = sum(c.purpose == "plan" for c in new)
        step.proposals = [first_sentence(c.response) for c in new if c.purpose == "plan"]
        step.all_calls = len(new)
        line = await engine.stories.line(story.id)
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
    beats = [s for s in written if s.beat]
    figures["beats"] = len(beats)
    figures["beat_rate"] = sum(s.beat_share >= continuity.BEAT_SHARE for s in beats) / max(
        1, len(beats)
    )
    figures["beat_after_lead_rate"] = sum(
        s.beat_after_lead >= continuity.BEAT_SHARE for s in beats
    ) / max(1, len(beats))
    figures["stock_beat_rate"] = sum(is_stock(s.beat) for s in beats) / max(1, len(beats))
    figures["cast_rate"] = sum(s.cast_named for s in written) / count
    figures["loop_rate"] = sum(s.overlap > LOOP_OVERLAP for s in written) / count
    figures["words"] = mean([s.words for s in written])
    figures["mean_seconds"] = mean([s.seconds for s in steps])
    figures["median_seconds"] = statistics.median([s.seconds for s in steps]) if steps else 0.0
    figures["median_wait"] = statistics.median([s.waited for s in steps]) if steps else 0.0
    shown = [s.first_words for s in steps if s.first_words]
    figures["median_first_words"] = statistics.median(shown) if shown else 0.0
    figures["repeated_beats"] = sum(s.repeated_beat for s in beats)
    figures["thread_steps"] = sum(s.thread == "step" for s in written)
    figures["thread_answers"] = sum(s.thread == "answer" for s in written)
    figures["passage_calls"] = sum(s.passage_calls for s in steps) / count
    figures["plan_calls"] = sum(s.plan_calls for s in steps) / count
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
                    entry["peak_rss_mb"] = peak_rss_mb()
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


def all_steps(entry: dict[str, Any]) -> list[Step]:
    """Every step of a configuration's stories, each beat checked again against the story's
    earlier beats and each cast kept or not counted again (so a stored run is read with
    today's `repeats` and `names_one_of`)."""
    steps = []
    for story in entry["stories"].values():
        beats: list[str] = []
        for stored in story["steps"]:
            step = Step(**stored)
            step.cast_named = names_one_of(step.text, step.cast)
            step.repeated_beat = bool(step.beat) and repeats(step.beat, beats)
            beats += [step.beat] if step.beat else []
            steps.append(step)
    return steps


def summarize_all(data: dict[str, Any]) -> None:
    """Add each configuration's figures, over the stories written so far."""
    for entry in data["configurations"].values():
        entry["summary"] = summarize(all_steps(entry)) | {
            "peak_rss_mb": entry.get("peak_rss_mb", 0.0),
            "prompt_reuse": entry.get("prompt_reuse", 0.0),
        }


EXTRA = ["stock_beat_rate", "beat_rate", "beat_after_lead_rate", "cast_rate"]
"""The figures beside the faults: the beats that were stock events (the planner's model gave
none it could use), the beat happened (in the whole passage, and after its first sentence),
and the cast kept."""
COSTS = [
    "prompt_reuse",
    "peak_rss_mb",
    "median_first_words",
    "median_wait",
    "median_seconds",
    "passage_calls",
    "plan_calls",
    "all_calls",
]


def report(data: dict[str, Any]) -> None:
    headers = ["configuration", "passages", "good", *FAULTS, "loops", "stock beats", "beat"]
    headers += ["beat after lead", "cast", "words", "repeated beats", "thread steps", "answers"]
    headers += ["prompt reused", "peak MiB", "first words s", "median wait s", "median step s"]
    headers += ["gen calls/p"]
    headers += ["plan calls/p"]
    headers += ["calls/p"]
    rows = []
    for name, entry in data["configurations"].items():
        s = entry["summary"]
        rates = [s[f"{fault}_rate"] for fault in FAULTS]
        extra = [s["loop_rate"], *(s[key] for key in EXTRA), s["words"]]
        extra += [s["repeated_beats"], s["thread_steps"], s["thread_answers"]]
        rows.append([name, s["passages"], s["good_rate"], *rates, *extra, *(s[k] for k in COSTS)])
    print(table(headers, rows))
    name = default_configuration(data)
    default = data["configurations"].get(name, {}).get("summary")
    if default:
        for key, (sense, limit) in TARGETS.items():
            met = default[key] >= limit if sense == ">=" else default[key] <= limit
            verdict = "met" if met else "MISSED"
            print(f"target {name} {key} {sense} {limit}: {default[key]:.3f} ({verdict})")


def markdown(data: dict[str, Any], samples: list[str], writer: str) -> str:
    """The results as bench/README.md shows them: a table, then `writer`'s stories `samples`
    whole, the opening and every passage with its beat and its faults."""
    headers = ["configuration", "passages", "good", *FAULTS, "loops", "stock beats", "beat"]
    headers += ["beat after lead", "cast", "words", "repeated beats", "thread steps", "answers"]
    headers += ["prompt tokens reused", "peak MiB", "median first words s", "median wait s"]
    headers += ["median step s"]
    headers += ["generation calls / passage"]
    headers += ["planner calls / passage", "all calls / passage"]
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    for name, entry in data["configurations"].items():
        s = entry["summary"]
        cells = [name, str(s["passages"]), f"{s['good_rate']:.0%}"]
        cells += [f"{s[f'{key}_rate']:.0%}" for key in [*FAULTS, "loop"]]
        cells += [f"{s[key]:.0%}" for key in EXTRA]
        cells += [f"{s['words']:.0f}"]
        cells += [str(s[key]) for key in ("repeated_beats", "thread_steps", "thread_answers")]
        cells += [f"{s['prompt_reuse']:.0%}", f"{s['peak_rss_mb']:.0f}"]
        cells += [f"{s[key]:.1f}" for key in ("median_first_words", "median_wait")]
        cells += [f"{s['median_seconds']:.1f}"]
        cells += [f"{s[key]:.2f}" for key in COSTS[5:]]
        lines.append("| " + " | ".join(cells) + " |")
    stories = data["configurations"].get(writer, {}).get("stories", {})
    texts = openings()
    for key in samples:
        if key not in stories:
            continue
        lines += ["", f"#### {key} ({writer})", "", "**Opening.**", "", texts[key]]
        for step in stories[key]["steps"]:
            faults = ", ".join(step["faults"]) or "none"
            lines += ["", f"**Passage {step['step']}** (faults: {faults}).", ""]
            if step["beat"]:
                about = {"step": " (a step on a thread)", "answer": " (answers a thread)"}
                lines += [f"> Beat{about.get(step.get('thread', ''), '')}: {step['beat']}", ""]
            lines.append(step["text"] or f"*Not written: {step['error']}*")
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
        print(markdown(data, args.markdown, args.writer or default_configuration(data)))
        return
    started = time.perf_counter()
    for configuration in configurations:
        asyncio.run(run_configuration(configuration, data, chosen, args.steps, save))
    finish(data, name, save)
    print(f"results: {path}; took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
