"""Benchmark 4: the embedded backend's speed against llama-cpp-python called directly.

Same GGUF, prompts, settings (greedy, fixed seed, 128 new tokens), context size and threads.
Each repetition uses a different scenesim opening (the same for both sides), so no side is
helped by a cached prompt; the two sides alternate. Then the default writer's speed alone
against its speed right after the default summariser's call, as a story step makes them.

    .venv/bin/python -m bench.local_speed [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, openings, table, write_results
from bot.engine import Engine, EngineConfig
from bot.llm import Message, Models, Prompt, Sampling
from bot.llm.llama import LocalModel
from bot.llm.packaged import DEFAULT_SUMMARIZER, DEFAULT_WRITER, embedded_model
from bot.prompts import COMPLETION_MARKER
from bot.store import Store

MAX_TOKENS = 128
N_CTX = 4096
"""The embedded backend's default context size."""
THREADS = os.cpu_count() or 1
SEED = 7
TARGET = 0.95


def prompts(style: str, count: int) -> list[Prompt]:
    """One prompt per repetition, from evenly spaced scenesim openings."""
    texts = [text for _, text in openings(count)]
    if style == "completion":
        return [text + COMPLETION_MARKER for text in texts]
    return [[Message(role="user", content=f"Continue this story.\n\n{text}")] for text in texts]


def direct(llama: Any, prompt: Prompt, sampling: Sampling) -> tuple[int, str]:
    """One generation straight through llama-cpp-python, with the options ours passes."""
    options: dict[str, Any] = {
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "seed": sampling.seed,
    }
    if isinstance(prompt, str):
        result = llama.create_completion(prompt=prompt, **options)
        text = result["choices"][0]["text"]
    else:
        result = llama.create_chat_completion(messages=list(prompt), **options)
        text = result["choices"][0]["message"]["content"]
    return result["usage"]["completion_tokens"], text


async def speeds(repeats: int) -> dict[str, Any]:
    """Tokens per second of each side, per style, `repeats` times each after one warm-up."""
    from llama_cpp import Llama

    ours = LocalModel(threads=THREADS, context_tokens=N_CTX)
    started = time.perf_counter()
    await ours.load()
    ours_load = time.perf_counter() - started
    started = time.perf_counter()
    llama = Llama(
        model_path=str(ours.path),
        n_ctx=N_CTX,
        n_threads=THREADS,
        verbose=False,
    )
    direct_load = time.perf_counter() - started
    sampling = Sampling(temperature=0.0, max_tokens=MAX_TOKENS, seed=SEED)
    result: dict[str, Any] = {
        "load_seconds": {"ours": ours_load, "direct": direct_load},
        "threads": THREADS,
        "n_ctx": N_CTX,
        "gguf": ours.path.name,
    }
    try:
        for style in ("completion", "chat"):
            runs: dict[str, list[float]] = {"ours": [], "direct": []}
            same = 0
            for index, prompt in enumerate(prompts(style, repeats + 1)):
                begun = time.perf_counter()
                generation = await ours.generate(prompt, sampling)
                ours_rate = generation.completion_tokens / (time.perf_counter() - begun)
                begun = time.perf_counter()
                tokens, text = direct(llama, prompt, sampling)
                direct_rate = tokens / (time.perf_counter() - begun)
                if index == 0:
                    continue  # warm-up
                runs["ours"].append(ours_rate)
                runs["direct"].append(direct_rate)
                same += text == generation.text
            result[style] = {
                "tokens_per_second": runs,
                "median": {side: statistics.median(rates) for side, rates in runs.items()},
                "identical_outputs": same,
            }
    finally:
        await ours.close()
        llama.close()
    return result


async def beside(repeats: int) -> dict[str, Any]:
    """Tokens per second of the default writer, each prompt read afresh, alone and right after
    a call to the default summariser (both loaded as the product loads them)."""
    models = [embedded_model(name) for name in (DEFAULT_WRITER, DEFAULT_SUMMARIZER)]
    writer, summariser = (LocalModel(m.locate(), name=m.name, threads=THREADS) for m in models)
    sampling = Sampling(temperature=0.0, max_tokens=MAX_TOKENS, seed=SEED, min_tokens=MAX_TOKENS)
    runs: dict[str, list[float]] = {"alone": [], "after the summariser": []}

    async def rate(prompt: Prompt) -> float:
        writer.loaded().reset()
        begun = time.perf_counter()
        generation = await writer.generate(prompt, sampling)
        return generation.completion_tokens / (time.perf_counter() - begun)

    try:
        for index, prompt in enumerate(prompts("chat", repeats + 1)):
            alone = await rate(prompt)
            await summariser.generate(prompt, sampling)
            after = await rate(prompt)
            if index:
                runs["alone"].append(alone)
                runs["after the summariser"].append(after)
    finally:
        await writer.close()
        await summariser.close()
    return {
        "writer": writer.name,
        "summariser": summariser.name,
        "tokens_per_second": runs,
        "median": {side: statistics.median(rates) for side, rates in runs.items()},
    }


async def first_passage() -> dict[str, float]:
    """With a fresh model: seconds to `start` a story from an opening and write one `next`."""
    model = LocalModel()
    _, opening = openings(1)[0]
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "speed.db")
        try:
            engine = Engine(store, Models(model, model), EngineConfig(seed=SEED))
            started = time.perf_counter()
            story = await engine.start(opening=opening)
            started_at = time.perf_counter()
            await engine.next(story.id)
            done = time.perf_counter()
        finally:
            await store.close()
            await model.close()
    return {"start": started_at - started, "next": done - started_at, "total": done - started}


def report(data: dict[str, Any]) -> None:
    rows = []
    for style in ("completion", "chat"):
        median = data[style]["median"]
        ratio = median["ours"] / median["direct"]
        verdict = "met" if ratio >= TARGET else "MISSED"
        rows.append([style, median["ours"], median["direct"], f"{ratio:.3f} ({verdict})"])
        data[style]["ratio"] = ratio
    print(table(["style", "ours tok/s", "direct tok/s", f"ours/direct (target >= {TARGET})"], rows))
    near = data["beside"]
    median = near["median"]
    ratio = median["after the summariser"] / median["alone"]
    verdict = "met" if ratio >= TARGET else "MISSED"
    near["ratio"] = ratio
    print(
        table(
            ["writer", "alone tok/s", "after the summariser tok/s", f"ratio (>= {TARGET})"],
            [
                [
                    near["writer"],
                    median["alone"],
                    median["after the summariser"],
                    f"{ratio:.3f} ({verdict})",
                ]
            ],
        )
    )
    load, first = data["load_seconds"], data["first_passage"]
    print(f"model load: ours {load['ours']:.2f} s, direct {load['direct']:.2f} s")
    print(
        f"first passage with a fresh model: {first['total']:.1f} s"
        f" (start {first['start']:.1f} s, with the load and the opening's summary;"
        f" next {first['next']:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per style (5)")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 2 repeats")
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    started = time.perf_counter()
    load_before = machine()["load_1_5_15"]
    data = asyncio.run(speeds(repeats))
    data["beside"] = asyncio.run(beside(repeats))
    data["first_passage"] = asyncio.run(first_passage())
    data.update(
        machine=machine(),
        load_before=load_before,
        config={"repeats": repeats, "max_tokens": MAX_TOKENS, "seed": SEED, "temperature": 0},
        seconds=time.perf_counter() - started,
        target=TARGET,
    )
    report(data)
    name = "local_speed_quick" if args.quick else "local_speed"
    print(f"results: {write_results(name, data)}; took {data['seconds']:.0f} s")


if __name__ == "__main__":
    main()
