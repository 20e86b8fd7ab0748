"""What a run of benchmark 5 adds up to: each passage's record, each configuration's figures,
and the tables, Markdown and plot that show them (bench/quality.py writes the stories)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import mean, table
from bot import continuity
from bot.beats import is_stock, named_in, repeats
from bot.judge import FAULTS
from bot.names import called

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
    model_words: float = 0.0
    """Until the model's own first words were shown, after the lead (0 when not measured)."""
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
    refusals: list[str] = field(default_factory=list)
    """Why each of `proposals` could not be used (bot/beats.py `refusal`), "" for one used."""

    @property
    def failed(self) -> bool:
        return bool(self.error) or not self.text.strip()


def names_one_of(text: str, cast: list[str]) -> bool:
    """Whether `text` names one of `cast` anywhere, at a sentence's start too, by the whole
    name or by one of its words other than a title ("Ines" of "Commander Ines Valdór"); true
    when there is no one to keep."""
    return not cast or bool(named_in(text, [word for name in cast for word in called(name)]))


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
    streamed = [s.model_words for s in steps if s.model_words]
    figures["median_model_words"] = statistics.median(streamed) if streamed else 0.0
    figures["repeated_beats"] = sum(s.repeated_beat for s in beats)
    figures["thread_steps"] = sum(s.thread == "step" for s in written)
    figures["thread_answers"] = sum(s.thread == "answer" for s in written)
    figures["passage_calls"] = sum(s.passage_calls for s in steps) / count
    figures["plan_calls"] = sum(s.plan_calls for s in steps) / count
    figures["all_calls"] = sum(s.all_calls for s in steps) / count
    figures["refusals"] = dict(Counter(r for s in steps for r in s.refusals if r).most_common())
    return figures


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
    "median_model_words",
    "median_wait",
    "median_seconds",
    "passage_calls",
    "plan_calls",
    "all_calls",
]


def report(data: dict[str, Any], name: str) -> None:
    """Print every configuration's figures, then `name`'s against the targets."""
    headers = ["configuration", "passages", "good", *FAULTS, "loops", "stock beats", "beat"]
    headers += ["beat after lead", "cast", "words", "repeated beats", "thread steps", "answers"]
    headers += ["prompt reused", "peak MiB", "first words s", "model's words s", "median wait s"]
    headers += ["median step s"]
    headers += ["gen calls/p"]
    headers += ["plan calls/p"]
    headers += ["calls/p"]
    rows = []
    for configuration, entry in data["configurations"].items():
        s = entry["summary"]
        rates = [s[f"{fault}_rate"] for fault in FAULTS]
        extra = [s["loop_rate"], *(s[key] for key in EXTRA), s["words"]]
        extra += [s["repeated_beats"], s["thread_steps"], s["thread_answers"]]
        rows.append(
            [configuration, s["passages"], s["good_rate"], *rates, *extra, *(s[k] for k in COSTS)]
        )
    print(table(headers, rows))
    default = data["configurations"].get(name, {}).get("summary")
    if default:
        for key, (sense, limit) in TARGETS.items():
            met = default[key] >= limit if sense == ">=" else default[key] <= limit
            verdict = "met" if met else "MISSED"
            print(f"target {name} {key} {sense} {limit}: {default[key]:.3f} ({verdict})")


def markdown(data: dict[str, Any], samples: list[str], writer: str, texts: dict[str, str]) -> str:
    """The results as bench/README.md shows them: a table, then `writer`'s stories `samples`
    whole, the opening (from `texts`) and every passage with its beat and its faults."""
    headers = ["configuration", "passages", "good", *FAULTS, "loops", "stock beats", "beat"]
    headers += ["beat after lead", "cast", "words", "repeated beats", "thread steps", "answers"]
    headers += ["prompt tokens reused", "peak MiB", "median first words s"]
    headers += ["median model's first words s", "median wait s"]
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
        cells += [f"{s['median_first_words']:.1f}"]
        cells += [f"{s['median_model_words']:.1f}" if s.get("median_model_words") else "–"]
        cells += [f"{s[key]:.1f}" for key in ("median_wait", "median_seconds")]
        cells += [f"{s[key]:.2f}" for key in COSTS[6:]]
        lines.append("| " + " | ".join(cells) + " |")
    stories = data["configurations"].get(writer, {}).get("stories", {})
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
