"""Benchmark 2: cost as the story grows, over 1,000 passages with a scripted stand-in model.

The stand-in writes 150-250-word passages and ~100-word summaries from scenesim sentences
drawn with a seeded RNG, so only the engine and the database are measured.

    .venv/bin/python -m bench.growth [--steps 1000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.common import (
    Timed,
    machine,
    opening_of,
    plot_path,
    scene_rows,
    table,
    write_results,
)
from bot.engine import Engine, EngineConfig
from bot.llm import Models, Prompt, Sampling
from bot.llm.scripted import ScriptedModel, prompt_text
from bot.prompts import Context, estimate_tokens, render, template, words_for
from bot.split import SENTENCE_END
from bot.store import Store

CHECKPOINTS = (10, 100, 1000)
WINDOW = 5
"""The time of one `next` at step k is the median over steps k-4..k."""
TARGET_RATIO = 1.3


class FakeWriter:
    """A deterministic fallback: passages and summaries made of scenesim sentences."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sentences = [
            sentence
            for row in scene_rows()
            for text in (opening_of(row), row["completion"].removesuffix(" END"))
            for sentence in SENTENCE_END.split(text.strip())
            if 4 <= len(sentence.split()) <= 40
        ]
        # The fixed instructions at the end of the summary prompts, after their last placeholder.
        self.summary_markers = [
            template(name).rsplit("}", 1)[-1].strip()
            for name in ("summary_chat", "summary_completion")
        ]

    def is_summary(self, prompt: Prompt) -> bool:
        text = prompt_text(prompt)
        return any(marker and marker in text for marker in self.summary_markers)

    def __call__(self, prompt: Prompt, sampling: Sampling) -> str:
        return self.text(90, 110) if self.is_summary(prompt) else self.text(150, 250)

    def text(self, low: int, high: int) -> str:
        """Whole sentences, without repeats, adding up to `low`-`high` words where possible."""
        target = self.rng.randint(low, high)
        chosen: list[str] = []
        count = 0
        while count < target:
            sentence = self.rng.choice(self.sentences)
            size = len(sentence.split())
            if sentence in chosen or count + size > high:
                if count >= low:
                    break
                continue
            chosen.append(sentence)
            count += size
        return " ".join(chosen)


def db_bytes(path: Path) -> int:
    """The database's size: its pages, as the file will be once the write-ahead log is
    checkpointed (the main file alone lags behind, the log is reused and overstates)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        return int(pages * db.execute("PRAGMA page_size").fetchone()[0])


async def run(steps: int, seed: int) -> dict[str, Any]:
    writer = FakeWriter(seed)
    scripted = ScriptedModel(fallback=writer)
    timed = Timed(scripted)
    opening = opening_of(scene_rows()[0])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "growth.db"
        store = await Store.open(path)
        try:
            engine = Engine(store, Models(timed, timed), EngineConfig(seed=seed))
            story = await engine.start(opening=opening)
            words = words_for(engine.config.story_defaults.length)
            whole = [opening]
            for step in range(1, steps + 1):
                sent_before = len(scripted.prompts)
                model_before, started = timed.seconds, time.perf_counter()
                passage = await engine.next(story.id)
                sent = [p for p in scripted.prompts[sent_before:] if not writer.is_summary(p)]
                wall = time.perf_counter() - started
                whole_prompt = render(Context(passages=tuple(whole)), "chat", words)
                whole.append(passage.text)
                rows.append(
                    {
                        "step": step,
                        "prompt_tokens": estimate_tokens(prompt_text(sent[0])),
                        "whole_story_tokens": estimate_tokens(prompt_text(whole_prompt)),
                        "passage_calls": len(sent),
                        "db_bytes": db_bytes(path),
                        "engine_ms": (wall - (timed.seconds - model_before)) * 1000,
                        "model_ms": (timed.seconds - model_before) * 1000,
                    }
                )
                if step % 100 == 0:
                    print(f"  step {step}", flush=True)
        finally:
            await store.close()
    return {"steps": rows}


def at(rows: list[dict[str, Any]], step: int) -> dict[str, Any]:
    """The figures at `step`, with the engine time as the median of the last WINDOW steps."""
    row = dict(rows[step - 1])
    window = rows[max(0, step - WINDOW) : step]
    row["engine_ms"] = statistics.median(r["engine_ms"] for r in window)
    return row


def report(data: dict[str, Any]) -> None:
    rows = data["steps"]
    checkpoints = [at(rows, k) for k in CHECKPOINTS if k <= len(rows)]
    print(
        table(
            ["step", "prompt tok", "whole story tok", "DB size (KB)", "next w/o model (ms)"],
            [
                [
                    r["step"],
                    r["prompt_tokens"],
                    r["whole_story_tokens"],
                    round(r["db_bytes"] / 1024),
                    f"{r['engine_ms']:.1f}",
                ]
                for r in checkpoints
            ],
        )
    )
    first, last = checkpoints[0], checkpoints[-1]
    ratio = last["prompt_tokens"] / first["prompt_tokens"]
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(
        f"prompt at step {last['step']} / step {first['step']}: {ratio:.2f}"
        f" (target <= {TARGET_RATIO}: {verdict})"
    )
    data["ratio"] = ratio


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.plot(steps, [r["prompt_tokens"] for r in rows], label="AutoMuse prompt (sent)")
    axes.plot(steps, [r["whole_story_tokens"] for r in rows], label="whole story (for contrast)")
    axes.set(xscale="log", yscale="log", xlabel="step", ylabel="prompt size (estimated tokens)")
    axes.set_title("Prompt size as the story grows")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="passages to write (1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a tiny run: 100 steps")
    args = parser.parse_args()
    if args.quick:
        args.steps = 100
    started = time.perf_counter()
    data = asyncio.run(run(args.steps, args.seed))
    name = "growth_quick" if args.quick else "growth"
    data.update(
        machine=machine(),
        config={"steps": args.steps, "seed": args.seed, "checkpoints": CHECKPOINTS},
        seconds=time.perf_counter() - started,
        checkpoints=[at(data["steps"], k) for k in CHECKPOINTS if k <= args.steps],
        target_ratio=TARGET_RATIO,
    )
    report(data)
    plot(data["steps"], plot_path(name))
    print(f"results: {write_results(name, data)}; took {data['seconds']:.0f} s")


if __name__ == "__main__":
    main()
